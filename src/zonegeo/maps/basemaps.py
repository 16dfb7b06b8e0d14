"""Base maps: OpenStreetMap by default, 天地图 (with a key) and Amap (GCJ-02 tiles, the overlays follow)."""

from __future__ import annotations

import folium

OSM = "OpenStreetMap 地图"
AMAP = "高德地图（GCJ-02）"
_TIANDITU = "https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=%s" \
            "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=%s"
_TIANDITU_ATTR = '&copy; <a href="https://www.tianditu.gov.cn/">天地图</a>'


def _tianditu(name: str, base: str, notes: str, key: str) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name, overlay=False, control=True, show=False)
    for layer in (base, notes):
        folium.TileLayer(_TIANDITU % (layer, layer, key), attr=_TIANDITU_ATTR, subdomains="01234567",
                         max_zoom=18, overlay=False, control=False).add_to(group)
    return group


def add_base_layers(m: folium.Map, *, default: str = "OpenStreetMap", tianditu_key: str = "") -> list[str]:
    """Add the base layers; return the names of those drawn in GCJ-02 (the overlays shift onto them)."""
    if not default:
        return []  # an isolated network: no tiles at all, the overlays still draw
    folium.TileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", name=OSM, max_zoom=19,
                     attr='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> 贡献者',
                     show=default == "OpenStreetMap").add_to(m)
    if tianditu_key:
        _tianditu("天地图 矢量", "vec", "cva", tianditu_key).add_to(m)
        _tianditu("天地图 影像", "img", "cia", tianditu_key).add_to(m)
    folium.TileLayer("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
                     name=AMAP, attr="&copy; 高德地图", subdomains="1234", max_zoom=18,
                     show=default == "Amap").add_to(m)
    return [AMAP]
