"""The Leaflet assets that maps load: served by the app, or inlined into a single offline file."""

from __future__ import annotations

import base64
import re
from pathlib import Path

ASSET_DIR = Path(__file__).resolve().parent / "assets"
# (folium element name, file) — folium's own CDN links are replaced by these.
JS = [("leaflet", "leaflet.js")]
CSS = [("leaflet_css", "leaflet.css")]


def links(base_url: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    base = base_url.rstrip("/")
    return [(n, f"{base}/{f}") for n, f in JS], [(n, f"{base}/{f}") for n, f in CSS]


def _css_with_data_images(css: str) -> str:
    """Leaflet's CSS points at images/*.png; inline them as data URIs for a self-contained file."""

    def repl(match: re.Match[str]) -> str:
        path = ASSET_DIR / match.group(1)
        if not path.is_file():
            return match.group(0)
        return f"url(data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()})"

    return re.sub(r"url\((images/[\w@.-]+\.png)\)", repl, css)


def inline(html: str, base_url: str) -> str:
    """Replace links to ``base_url`` assets by their content, so that the page needs no server."""
    js_links, css_links = links(base_url)
    for (_, url), (_, name) in zip(js_links, JS, strict=True):
        code = (ASSET_DIR / name).read_text(encoding="utf-8").replace("</script>", "<\\/script>")
        html = html.replace(f'<script src="{url}"></script>', f"<script>{code}</script>")
    for (_, url), (_, name) in zip(css_links, CSS, strict=True):
        css = _css_with_data_images((ASSET_DIR / name).read_text(encoding="utf-8"))
        html = html.replace(f'<link rel="stylesheet" href="{url}"/>', f"<style>{css}</style>")
    return html
