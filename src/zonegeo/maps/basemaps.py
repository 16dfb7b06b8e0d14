"""Base maps: 天地图 by default when a key is configured (else OpenStreetMap), and Amap (GCJ-02 tiles, the overlays
follow). Every map credits its base map — 天地图 with its 审图号 — and names the source of the zones' data; without a
天地图 key it says that the base map carries no 审图号."""

from __future__ import annotations

import folium

OSM = "OpenStreetMap 地图"
AMAP = "高德地图（GCJ-02）"
_TIANDITU = "https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=%s" \
            "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=%s"
# 天地图's 审图号 as its own map footer states it (©2024 自然资源部 – 审图号：GS(2024)0568号); a new number is a new
# constant here.
TIANDITU_REVIEW_NUMBER = "GS(2024)0568号"
_TIANDITU_ATTR = f'&copy; <a href="https://www.tianditu.gov.cn/">天地图</a> 审图号：{TIANDITU_REVIEW_NUMBER}'
DATA_SOURCE = "集聚区数据：江苏省知识产权局"
NO_TIANDITU = "未配置天地图，底图无审图号，仅作位置参考"
NO_BASE = "未加载底图"


def _tianditu(name: str, base: str, notes: str, key: str, *, show: bool = False) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name, overlay=False, control=True, show=show)
    for layer in (base, notes):
        folium.TileLayer(_TIANDITU % (layer, layer, key), attr=_TIANDITU_ATTR, subdomains="01234567",
                         max_zoom=18, overlay=False, control=False).add_to(group)
    return group


def add_base_layers(m: folium.Map, *, default: str = "OpenStreetMap", tianditu_key: str = "") -> list[str]:
    """Add the base layers; return the names of those drawn in GCJ-02 (the overlays shift onto them). With a 天地图
    key its vector map replaces OpenStreetMap as the default."""
    source_line(m, default=default, tianditu_key=tianditu_key)
    if not default:
        return []  # an isolated network: no tiles at all, the overlays still draw
    tianditu_default = bool(tianditu_key) and default == "OpenStreetMap"
    folium.TileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", name=OSM, max_zoom=19,
                     attr='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> 贡献者',
                     show=default == "OpenStreetMap" and not tianditu_default).add_to(m)
    if tianditu_key:
        _tianditu("天地图 矢量", "vec", "cva", tianditu_key, show=tianditu_default).add_to(m)
        _tianditu("天地图 影像", "img", "cia", tianditu_key).add_to(m)
    folium.TileLayer("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
                     name=AMAP, attr="&copy; 高德地图", subdomains="1234", max_zoom=18,
                     show=default == "Amap").add_to(m)
    return [AMAP]


def source_line(m: folium.Map, *, default: str, tianditu_key: str) -> str:
    """The data source line, shown in the map's attribution whatever the base layer (an empty layer group that
    only carries it); says when the base map has no 审图号 (no 天地图 key) or when there is none at all."""
    text = DATA_SOURCE
    if not default:
        text += f"；{NO_BASE}"
    elif not tianditu_key:
        text += f"；{NO_TIANDITU}"
    folium.FeatureGroup(name="数据来源", control=False, attribution=text).add_to(m)
    return text
