"""The Leaflet assets that maps load: served by the app under /assets, copied beside published maps,
or inlined into one self-contained file for offline site visits. No CDN is ever referenced."""

from __future__ import annotations

import base64
import re
from pathlib import Path

ASSET_DIR = Path(__file__).resolve().parent / "assets"
# bundle -> (scripts, stylesheets), relative to ASSET_DIR; vendored from the npm registry with their licences.
BUNDLES: dict[str, tuple[list[str], list[str]]] = {
    "leaflet": (["leaflet/leaflet.js"], ["leaflet/leaflet.css"]),
    "zonegeo": (["zonegeo/zonegeo.js"], ["zonegeo/zonegeo.css"]),  # ours: popups, panels, GCJ-02 shift
    "markercluster": (["markercluster/leaflet.markercluster.js"],
                      ["markercluster/MarkerCluster.css", "markercluster/MarkerCluster.Default.css"]),
    "measure": (["measure/leaflet-measure.cn.js"], ["measure/leaflet-measure.css"]),
    "fullscreen": (["fullscreen/Control.FullScreen.js"], ["fullscreen/Control.FullScreen.css"]),
    "locate": (["locate/L.Control.Locate.min.js"], ["locate/L.Control.Locate.min.css"]),
    "minimap": (["minimap/Control.MiniMap.min.js"], ["minimap/Control.MiniMap.min.css"]),
}
_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}


def links(bundle: str, base_url: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(name, url) lists in folium's ``default_js``/``default_css`` form."""
    base = base_url.rstrip("/")
    scripts, styles = BUNDLES[bundle]
    return ([(f"{bundle}_js_{i}", f"{base}/{f}") for i, f in enumerate(scripts)],
            [(f"{bundle}_css_{i}", f"{base}/{f}") for i, f in enumerate(styles)])


def localize(element, bundle: str, base_url: str):
    """Point a folium element (map or plugin) at our copies of its assets instead of public CDNs."""
    element.default_js, element.default_css = links(bundle, base_url)
    return element


def _css_with_data_urls(css: str, folder: Path) -> str:
    def repl(match: re.Match[str]) -> str:
        target = match.group(2)
        path = (folder / target).resolve()
        if target.startswith("data:") or not path.is_file() or ASSET_DIR not in path.parents:
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode()
        return f"url(data:{_MIME.get(path.suffix.lower(), 'application/octet-stream')};base64,{data})"

    return re.sub(r"""url\((['"]?)([^'")]+)\1\)""", repl, css)


def inline(html: str, base_url: str) -> str:
    """Replace every link to our assets by the asset itself, so that the page needs no server and no network."""
    base = base_url.rstrip("/")
    for scripts, styles in BUNDLES.values():
        for name in scripts:
            code = (ASSET_DIR / name).read_text(encoding="utf-8").replace("</script>", "<\\/script>")
            html = html.replace(f'<script src="{base}/{name}"></script>', f"<script>{code}</script>")
        for name in styles:
            path = ASSET_DIR / name
            css = _css_with_data_urls(path.read_text(encoding="utf-8"), path.parent)
            html = html.replace(f'<link rel="stylesheet" href="{base}/{name}"/>', f"<style>{css}</style>")
    return html
