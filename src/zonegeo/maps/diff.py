"""A map of two versions of a zone together: what was added, what was removed, what stayed."""

from __future__ import annotations

import html
from typing import Any, cast

import folium
import shapely
from branca.element import Element, Figure

from zonegeo.domain.diff import LayoutDiff
from zonegeo.domain.model import ZonePlan
from zonegeo.maps import page
from zonegeo.maps.basemaps import add_base_layers
from zonegeo.maps.overlays import feature as _feature
from zonegeo.maps.render import ZoneMap

COLOURS = {"added": "#1a9850", "removed": "#d73027", "unchanged": "#888888", "core": "#ff9800"}


def _layer(name: str, features: list[dict], colour: str, fields: list[str], dash: str | None = None) -> folium.GeoJson:
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features}, name=name,
        style_function=lambda f: {"color": colour, "weight": 2, "fillColor": colour, "fillOpacity": 0.35,
                                  **({"dashArray": dash} if dash else {})},
        popup=folium.GeoJsonPopup(fields=fields) if fields else None,
    )


def render_diff(before: ZonePlan, after: ZonePlan, diff: LayoutDiff, *, title: str, subtitle: str, tiles: str,
                asset_base: str = "/assets") -> folium.Map:
    west, south, east, north = shapely.union(before.boundary, after.boundary).bounds
    m = ZoneMap(location=[(south + north) / 2, (west + east) / 2], tiles=None, control_scale=True, zoom_start=16,
                asset_base=asset_base, page_title=f"{title} · {subtitle} · 变化对比地图",
                heading=f"{title}空间布局变化对比地图（{subtitle}）")
    add_base_layers(m, default=tiles)
    b = diff.boundary
    unchanged = shapely.intersection(before.boundary, after.boundary)
    _layer("四至：未变化部分", [_feature(unchanged, {"名称": "未变化部分"})], COLOURS["unchanged"], ["名称"]).add_to(m)
    if b is not None:
        metrics = {"面积变化": f"{b.area_change_m2:+,.1f} 平方米（{b.area_change_pct:+.2f}%）",
                   "边界最大偏移": f"{b.hausdorff_m:,.2f} 米", "是否实质变化": "是" if b.material else "否（数字化误差）"}
        for geom, label, colour in ((b.added, "四至：新增部分", "added"), (b.removed, "四至：减少部分", "removed")):
            if geom is not None and not geom.is_empty:
                _layer(label, [_feature(geom, {"名称": label, **metrics})], COLOURS[colour],
                       ["名称", *metrics]).add_to(m)
    building_features: dict[str, list[dict[str, Any]]] = {"added": [], "removed": []}
    for change in diff.buildings:
        b_ = change.after if change.kind == "added" else change.before
        if change.kind in ("added", "removed") and b_ is not None:
            building_features[change.kind].append(_feature(b_.footprint, {
                "名称": change.name, "变化": "新增建筑" if change.kind == "added" else "减少建筑",
                "层数": b_.floors, "使用层数": b_.floors_used}))
    for kind, label in (("added", "新增建筑"), ("removed", "减少建筑")):
        if building_features[kind]:
            _layer(label, building_features[kind], COLOURS[kind], ["名称", "变化", "层数", "使用层数"], "4 3").add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    verdict = "无实质变化（在数字化误差范围内）"
    if diff.material:
        verdict = "有实质变化，需在15个工作日内报告：" + "；".join(diff.reasons())
    legend = ('<span class="zg-added">■</span>新增 <span class="zg-removed">■</span>减少 '
              '<span class="zg-unchanged">■</span>未变化')
    cast(Figure, m.get_root()).html.add_child(Element(
        page.title_panel(title, html.escape(subtitle), html.escape(verdict)) + page.legend_panel(legend)))
    page.PageChrome().add_to(m)
    m.fit_bounds([[south, west], [north, east]], padding=(20, 20))
    return m
