"""The page around a map: a Chinese document (``lang``, ``<title>``, one ``<h1>``, a ``<main>`` landmark), a viewport
that lets people pinch-zoom, and the panels (title, legend) docked into Leaflet's corners by zonegeo.js."""

from __future__ import annotations

import html

from branca.element import Figure, MacroElement
from folium.template import Template

# branca's Figure, with the language, a title and a heading, and the map inside <main>; scripts inside <body>.
FIGURE = Template("""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{{ this.zg_title|e }}</title>
    {{ this.header.render(**kwargs) }}
</head>
<body>
<main class="zg-main">
<h1 class="zg-sr">{{ this.zg_heading|e }}</h1>
    {{ this.html.render(**kwargs) }}
</main>
<script>
    {{ this.script.render(**kwargs) }}
</script>
</body>
</html>
""")

# folium 0.20's Map template, but for the viewport: folium forbids zooming the page (maximum-scale=1.0,
# user-scalable=no), which keeps people with poor sight from enlarging the panels (WCAG 1.4.4).
MAP = Template("""
        {% macro header(this, kwargs) %}
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <style>
                #{{ this.get_name() }} {
                    position: {{this.position}};
                    width: {{this.width[0]}}{{this.width[1]}};
                    height: {{this.height[0]}}{{this.height[1]}};
                    left: {{this.left[0]}}{{this.left[1]}};
                    top: {{this.top[0]}}{{this.top[1]}};
                }
                .leaflet-container { font-size: {{this.font_size}}; }
            </style>

            <style>html, body {
                width: 100%;
                height: 100%;
                margin: 0;
                padding: 0;
            }
            </style>

            <script>
                L_NO_TOUCH = {{ this.global_switches.no_touch |tojson}};
                L_DISABLE_3D = {{ this.global_switches.disable_3d|tojson }};
            </script>

        {% endmacro %}

        {% macro html(this, kwargs) %}
            <div class="folium-map" id={{ this.get_name()|tojson }} role="region" aria-label="{{ this.zg_label|e }}"></div>
        {% endmacro %}

        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.map(
                {{ this.get_name()|tojson }},
                {
                    center: {{ this.location|tojson }},
                    crs: L.CRS.{{ this.crs }},
                    ...{{this.options|tojavascript}}

                }
            );

            {%- if this.control_scale %}
            L.control.scale().addTo({{ this.get_name() }});
            {%- endif %}

            {%- if this.zoom_control_position %}
            L.control.zoom( { position: {{ this.zoom_control|tojson }} } ).addTo({{ this.get_name() }});
            {%- endif %}

        {% endmacro %}
        """)


def set_page(figure: Figure, *, title: str, heading: str) -> None:
    figure._template = FIGURE
    figure.header._children.pop("meta_http", None)  # the template declares the charset first, once
    figure.zg_title, figure.zg_heading = title, heading  # type: ignore[attr-defined]


def title_panel(name: str, *lines: str) -> str:
    """The title panel: the name and ``lines`` (HTML, already escaped); folded into a 说明 button on a phone."""
    body = "".join(f"<br>{line}" for line in lines if line)
    return ('<details class="zg-panel zg-title" id="zg-title" open>'
            '<summary title="集聚区说明（名称、版本、核验结论）">ⓘ 说明</summary>'
            f'<div class="zg-body"><span class="zg-name">{html.escape(name)}</span>{body}</div></details>')


def legend_panel(body: str) -> str:
    """The legend (``body`` is HTML); folded to its heading on a phone."""
    return (f'<details class="zg-panel zg-legend" id="zg-legend" open><summary title="图例">图例</summary>'
            f'<div class="zg-body">{body}</div></details>')


class PageChrome(MacroElement):
    """Map-level script, added last: docks the panels, puts the controls first in the keyboard order."""

    _template = Template("""
{% macro script(this, kwargs) %}
zg.chrome({{ this._parent.get_name() }}, {});
{% endmacro %}
""")

    def __init__(self) -> None:
        super().__init__()
        self._name = "PageChrome"
