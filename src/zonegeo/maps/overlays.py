"""Compact overlay layers: one GeoJSON per layer, short property keys, styles and popups built in the
browser by assets/zonegeo/zonegeo.js. About as small as the GeoJSON itself, and shiftable to GCJ-02."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import shapely
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from jinja2 import Template

from zonegeo.maps import assets

DECIMALS = 6  # 0.1 m: finer digits only add bytes


def rounded(geom):
    return shapely.transform(geom, lambda xy: np.round(xy, DECIMALS))


def feature(geom, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(rounded(geom))}


def point(lon: float, lat: float, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": [round(lon, DECIMALS), round(lat, DECIMALS)]}}


def js_data(data: Any) -> str:
    """JSON for an inline <script>: UTF-8 kept as is, no spaces, '</' escaped."""
    return orjson.dumps(data).decode().replace("</", "<\\/")


class Overlay(JSCSSMixin, Layer):
    """A GeoJSON overlay drawn by Leaflet: ``style`` and ``point`` are JavaScript functions; ``fields`` are
    [key, Chinese label, suffix] rows of the popup; ``cluster`` groups points into clusters."""

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = {{ this.holder }};
zg.register({{ this.get_name() }}, function (c2l) {
  return L.geoJSON({{ this.data }}, {
    coordsToLatLng: c2l,
    {% if this.style %}style: {{ this.style }},{% endif %}
    {% if this.point %}pointToLayer: {{ this.point }},{% endif %}
    onEachFeature: function (f, l) {
      l.bindPopup(zg.popup(f.properties, {{ this.fields }}), {maxWidth: 300});
      {% if this.tooltip %}l.bindTooltip(zg.esc(f.properties[{{ this.tooltip }}]), {sticky: true});{% endif %}
    }
  });
});
{% if this.show %}{{ this.get_name() }}.addTo({{ this._parent.get_name() }});{% endif %}
{% endmacro %}
""")

    def __init__(self, features: list[dict[str, Any]], *, name: str, fields: list[list[str]], asset_base: str,
                 style: str | None = None, point: str | None = None, tooltip: str | None = None,
                 cluster: bool = False, show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "Overlay"
        self.data = js_data({"type": "FeatureCollection", "features": features})
        self.fields = js_data(fields)
        self.style, self.point = style, point
        self.tooltip = js_data(tooltip) if tooltip else None
        self.holder = ("L.markerClusterGroup({disableClusteringAtZoom: 19, chunkedLoading: true})" if cluster
                       else "L.featureGroup()")
        js, css = assets.links("zonegeo", asset_base)
        if cluster:
            more_js, more_css = assets.links("markercluster", asset_base)
            js, css = js + more_js, css + more_css
        self.default_js, self.default_css = js, css
        self.count = len(features)


class PageScript(MacroElement):
    """Map-level script: which base layers are in GCJ-02 (Amap), so overlays follow them."""

    _template = Template("""
{% macro script(this, kwargs) %}
zg.watchBaseLayers({{ this._parent.get_name() }}, {{ this.gcj_layers }});
{% endmacro %}
""")

    def __init__(self, gcj_layers: list[str]) -> None:
        super().__init__()
        self._name = "PageScript"
        self.gcj_layers = js_data(gcj_layers)
