"""One renderer: a zone plan and its report → a folium map with Chinese popups, legend and layers."""

from __future__ import annotations

import html
from typing import Any

import folium
import numpy as np
import shapely
from branca.element import Element
from shapely.geometry import mapping

from zonegeo.domain.check import Report
from zonegeo.domain.model import ZonePlan
from zonegeo.maps import assets

DECIMALS = 7  # about 1 cm: finer digits only add bytes
FLOOR_CLASSES = [(3, "#fee5d9"), (6, "#fcae91"), (10, "#fb6a4a"), (20, "#de2d26"), (10**6, "#a50f15")]
COLOURS = {"boundary": "#d7301f", "core": "#ff9800", "inside": "#1a9850", "outside": "#d73027",
           "invalid": "#7b3294", "platform": "#2166ac"}
TILES = {
    "OpenStreetMap": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                      '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> 贡献者',
                      "OpenStreetMap 地图"),
}


class ZoneMap(folium.Map):
    """A folium map that loads Leaflet from ``asset_base`` instead of public CDNs, and nothing else."""

    def __init__(self, *args: Any, asset_base: str = "/assets", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assets.localize(self, "leaflet", asset_base)


def _rounded(geom):
    return shapely.transform(geom, lambda xy: np.round(xy, DECIMALS))


def _feature(geom, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": mapping(_rounded(geom))}


def floor_colour(floors_used: int) -> str:
    return next(c for limit, c in FLOOR_CLASSES if floors_used <= limit)


def _polygon_layer(name: str, features: list[dict], fields: list[str], aliases: list[str],
                   style: dict[str, Any] | None = None) -> folium.GeoJson:
    collection = {"type": "FeatureCollection", "features": features}
    style_fn = (lambda f: {**style}) if style else (lambda f: f["properties"]["_style"])
    return folium.GeoJson(
        collection, name=name, style_function=style_fn, highlight_function=lambda f: {"weight": 4},
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases, localize=True, labels=True),
        tooltip=folium.GeoJsonTooltip(fields=fields[:1], labels=False), zoom_on_click=False,
    )


def _m2(value: float) -> str:
    return f"{value:,.1f} 平方米"


def render(plan: ZonePlan, report: Report, *, title: str, subtitle: str = "", tiles: str = "OpenStreetMap",
           asset_base: str = "/assets") -> folium.Map:
    """The reviewer's map of one zone: boundary, core, buildings by floors used, institutions by status."""
    west, south, east, north = plan.boundary.bounds
    m = ZoneMap(location=[(south + north) / 2, (west + east) / 2], tiles=None, control_scale=True,
                zoom_start=16, asset_base=asset_base, prefer_canvas=len(plan.buildings) > 2000)
    if tiles in TILES:
        url, attribution, label = TILES[tiles]
        folium.TileLayer(url, attr=attribution, name=label, max_zoom=19).add_to(m)

    areas = report.areas
    folium.GeoJson(
        {"type": "FeatureCollection", "features": [_feature(plan.boundary, {
            "名称": "四至范围", "用地面积": _m2(areas["land_m2"])})]},
        name="四至范围", style_function=lambda f: {"color": COLOURS["boundary"], "weight": 3, "fillOpacity": 0.04},
        popup=folium.GeoJsonPopup(fields=["名称", "用地面积"]),
    ).add_to(m)
    if plan.core is not None:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": [_feature(plan.core, {
                "名称": "核心区", "用地面积": _m2(areas["core_land_m2"]),
                "核心区内建筑面积": _m2(areas["core_floor_m2"])})]},
            name="核心区", style_function=lambda f: {"color": COLOURS["core"], "weight": 2, "dashArray": "6 4",
                                                     "fillOpacity": 0.12},
            popup=folium.GeoJsonPopup(fields=["名称", "用地面积", "核心区内建筑面积"]),
        ).add_to(m)
    if plan.buildings:
        features = [
            _feature(b.footprint, {
                "名称": b.name, "层数": b.floors, "使用层数": b.floors_used, "占地面积": _m2(bm.footprint_m2),
                "建筑面积": _m2(bm.floor_m2) + ("（申报）" if bm.basis == "declared" else "（占地×使用层数）"),
                "_style": {"color": "#67000d", "weight": 1, "fillColor": floor_colour(b.floors_used),
                           "fillOpacity": 0.75},
            })
            for b, bm in zip(plan.buildings, report.buildings, strict=True)
        ]
        _polygon_layer("建筑（按使用层数着色）", features, ["名称", "层数", "使用层数", "占地面积", "建筑面积"],
                       ["名称", "层数", "使用层数", "占地面积", "建筑面积"]).add_to(m)
    if any(not i.kind.is_platform for i in plan.institutions):
        _institution_layers(plan, report).add_to(m)
    if any(i.kind.is_platform for i in plan.institutions):
        _platform_layer(plan, report).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    m.get_root().html.add_child(Element(_legend(title, subtitle, report)))
    m.fit_bounds([[south, west], [north, east]], padding=(20, 20))
    return m


def _institution_layers(plan: ZonePlan, report: Report) -> folium.GeoJson:
    outside = {o["name"]: o["distance_m"] for o in report.institutions["outside"]}
    invalid = {v["name"]: v["reason"] for v in report.institutions["invalid_credit_codes"]}
    features = []
    for inst in plan.institutions:
        if inst.kind.is_platform:
            continue
        status = "outside" if inst.name in outside else ("invalid" if inst.name in invalid else "inside")
        state = {"outside": f"位于四至范围外，距边界约{outside.get(inst.name, 0):,.0f}米",
                 "invalid": f"统一社会信用代码无效：{invalid.get(inst.name, '')}",
                 "inside": "位于四至范围内"}[status]
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [
            round(inst.lon, DECIMALS), round(inst.lat, DECIMALS)]}, "properties": {
            "名称": inst.name, "统一社会信用代码": inst.credit_code or "（未填写）",
            "服务类型": "、".join(inst.services) or "—", "链条环节": "、".join(inst.chain) or "—",
            "位置": f"{inst.building}{inst.floor and f' {inst.floor}层'}" or "—", "状态": state,
            "_colour": COLOURS[status]}})
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features}, name="知识产权服务机构",
        marker=folium.CircleMarker(radius=6, weight=2, fill=True, fill_opacity=0.9),
        style_function=lambda f: {"color": "#ffffff", "fillColor": f["properties"]["_colour"]},
        popup=folium.GeoJsonPopup(fields=["名称", "统一社会信用代码", "服务类型", "链条环节", "位置", "状态"]),
        tooltip=folium.GeoJsonTooltip(fields=["名称"], labels=False),
    )


def _platform_layer(plan: ZonePlan, report: Report) -> folium.GeoJson:
    inside = {p["name"]: p["inside"] for p in report.institutions["platforms"]}
    features = [
        {"type": "Feature",
         "geometry": {"type": "Point", "coordinates": [round(i.lon, DECIMALS), round(i.lat, DECIMALS)]},
         "properties": {"名称": i.name, "平台类型": i.kind.label,
                        "位置": "位于四至范围内" if inside.get(i.name) else "位于四至范围外"}}
        for i in plan.institutions if i.kind.is_platform
    ]
    icon = folium.DivIcon(html='<div class="zg-platform">台</div>', icon_size=(26, 26), icon_anchor=(13, 13),
                          class_name="zg-platform-icon")
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features}, name="公共服务平台", marker=folium.Marker(icon=icon),
        popup=folium.GeoJsonPopup(fields=["名称", "平台类型", "位置"]),
        tooltip=folium.GeoJsonTooltip(fields=["名称"], labels=False),
    )


_LEGEND_CSS = """
<style>
.zg-panel{position:absolute;z-index:1000;background:rgba(255,255,255,.93);border-radius:6px;
 box-shadow:0 1px 5px rgba(0,0,0,.4);font:13px/1.45 "Noto Sans CJK SC","Microsoft YaHei",sans-serif;padding:6px 10px}
.zg-title{top:10px;left:54px;right:54px;max-width:520px}
.zg-title b{font-size:15px}
.zg-legend{bottom:28px;right:10px;max-width:46vw}
.zg-legend i{display:inline-block;width:14px;height:14px;margin-right:4px;vertical-align:-2px;border:1px solid #555}
.zg-legend i.dot{border-radius:50%}
.zg-platform{width:26px;height:26px;border-radius:50%;background:#2166ac;color:#fff;font-weight:bold;
 text-align:center;line-height:26px;border:2px solid #fff;box-shadow:0 0 3px #000}
.zg-fail{color:#c62828}.zg-pass{color:#2e7d32}
@media (max-width:480px){.zg-legend{font-size:11px;bottom:24px}.zg-title{font-size:12px;left:48px;right:48px}}
@media print{.leaflet-control-layers{display:none}}
</style>"""


def _legend(title: str, subtitle: str, report: Report) -> str:
    failing = [r for r in report.rules if not r.passed]
    verdict = ('<span class="zg-pass">全部申报条件均满足</span>' if not failing else
               '<span class="zg-fail">未满足：' + html.escape("、".join(r.title for r in failing)) + "</span>")
    floors = "".join(
        f'<i style="background:{c}"></i>{"≤" + str(limit) if limit < 10**6 else "更多"}层 '
        for limit, c in FLOOR_CLASSES)
    return _LEGEND_CSS + f"""
<div class="zg-panel zg-title"><b>{html.escape(title)}</b><br>{html.escape(subtitle)}<br>{verdict}</div>
<div class="zg-panel zg-legend"><b>图例</b><br>
<i style="border:2px solid {COLOURS['boundary']};background:none"></i>四至范围
<i style="border:2px dashed {COLOURS['core']};background:none"></i>核心区<br>
建筑使用层数：{floors}<br>
<i class="dot" style="background:{COLOURS['inside']}"></i>范围内机构
<i class="dot" style="background:{COLOURS['outside']}"></i>范围外机构
<i class="dot" style="background:{COLOURS['invalid']}"></i>信用代码无效
<i class="dot" style="background:{COLOURS['platform']}"></i>公共服务平台</div>"""


def to_html(m: folium.Map, *, self_contained: bool = False, asset_base: str = "/assets") -> str:
    """The map page; ``self_contained`` inlines Leaflet so the file opens with no server or network."""
    page = m.get_root().render()
    return assets.inline(page, asset_base) if self_contained else page
