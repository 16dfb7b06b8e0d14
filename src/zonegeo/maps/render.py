"""One renderer: a zone plan and its report → a folium map, showing what the audience's policy lets it see
(``services/disclosure.py`` holds the policies; this module only reads them)."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any, Protocol, cast

import folium
from branca.element import Element, Figure

from zonegeo.domain.check import Report
from zonegeo.domain.model import ZonePlan
from zonegeo.maps import assets, page
from zonegeo.maps.basemaps import add_base_layers
from zonegeo.maps.controls import add_site_controls
from zonegeo.maps.overlays import Overlay, PageScript, feature, point

FLOOR_CLASSES = [(3, "#fee5d9"), (6, "#fcae91"), (10, "#fb6a4a"), (20, "#de2d26"), (10**6, "#a50f15")]
COLOURS = {"boundary": "#d7301f", "core": "#ff9800", "inside": "#1a9850", "outside": "#d73027",
           "invalid": "#7b3294", "platform": "#2166ac"}
CLUSTER_ABOVE = 200  # institutions drawn one by one up to this many, clustered above

_BUILDING_STYLE = ("function (f) { var o = f.properties.o; return {color: o ? '#c62828' : '#67000d', weight: o ? 3 : 1,"
                   " dashArray: o ? '4 3' : null, fillColor: zg.floorColour(f.properties.u), fillOpacity: 0.75}; }")
_INSTITUTION_POINT = ("function (f, ll) { return L.circleMarker(ll, {radius: 6, weight: 2, color: '#ffffff',"
                      f" fillOpacity: 0.9, fillColor: ['{COLOURS['inside']}', '{COLOURS['outside']}',"
                      f" '{COLOURS['invalid']}'][f.properties.s]}}); }}")
# A platform is a marker, which Leaflet makes focusable: it is named for screen readers by what it is.
_PLATFORM_POINT = ("function (f, ll) { var m = L.marker(ll, {icon: L.divIcon({className: 'zg-platform-icon', "
                   "html: '<div class=\"zg-platform\" aria-hidden=\"true\">台</div>', iconSize: [26, 26], "
                   "iconAnchor: [13, 13]})}); m.on('add', function () { m.getElement().setAttribute('aria-label', "
                   "'公共服务平台：' + f.properties.n); }); return m; }")


class MapPolicy(Protocol):
    """What the map may show (``services.disclosure.Disclosure`` satisfies it)."""

    @property
    def verdict(self) -> bool: ...  # 量化条件全部符合 / 未全部符合 in the title panel

    @property
    def invalid_codes(self) -> bool: ...  # 信用代码无效 markers and legend entry

    def credit_code(self, code: str) -> str: ...  # the code as shown in a popup


class _Everything:
    """The default: everything (a reviewer's map, or ``check --map`` on the user's own files)."""

    verdict = True
    invalid_codes = True

    def credit_code(self, code: str) -> str:
        return code


EVERYTHING: MapPolicy = _Everything()


class ZoneMap(folium.Map):
    """A folium map that loads Leaflet (and zonegeo.js, which puts Leaflet's words into Chinese) from ``asset_base``
    instead of public CDNs, in a Chinese page titled ``page_title`` whose one ``<h1>`` is ``heading``."""

    _template = page.MAP

    def __init__(self, *args: Any, asset_base: str = "/assets", page_title: str = "地图", heading: str = "",
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        js, css = assets.links("leaflet", asset_base)
        more_js, more_css = assets.links("zonegeo", asset_base)
        self.default_js, self.default_css = js + more_js, css + more_css
        self.zg_label = "地图：" + (heading or page_title)
        page.set_page(cast(Figure, self.get_root()), title=page_title, heading=heading or page_title)


def _m2(value: float) -> str:
    return f"{value:,.1f} 平方米"


def _institution_features(plan: ZonePlan, report: Report, policy: MapPolicy) -> list[dict[str, Any]]:
    # Keyed by position in the list, not by name: two institutions may share a name.
    outside = {o["index"]: o["distance_m"] for o in report.institutions["outside"]}
    invalid = {v["index"]: v["reason"] for v in report.institutions["invalid_credit_codes"]}
    out = []
    for k, inst in enumerate(plan.institutions):
        if inst.kind.is_platform:
            continue
        status = 1 if k in outside else (2 if k in invalid and policy.invalid_codes else 0)
        state = [
            "位于四至范围内", f"位于四至范围外，距边界约{outside.get(k, 0):,.0f}米",
            f"统一社会信用代码无效：{invalid.get(k, '')}"][status]
        out.append(point(inst.lon, inst.lat, {
            "n": inst.name, "c": policy.credit_code(inst.credit_code), "sv": "、".join(inst.services),
            "ch": "、".join(inst.chain), "p": f"{inst.building}{inst.floor and f' {inst.floor}层'}", "st": state,
            "s": status}))
    return out


def render(plan: ZonePlan, report: Report, *, title: str, subtitle: str = "", tiles: str = "OpenStreetMap",
           asset_base: str = "/assets", policy: MapPolicy = EVERYTHING, tianditu_key: str = "",
           page_title: str = "", heading: str = "", four_sides: dict[str, str] | None = None) -> folium.Map:
    """The map of one zone: boundary, core, buildings by floors used, institutions by status, platforms.
    ``page_title`` and ``heading`` (the page's <title> and its one <h1>) default to the zone's 空间布局地图;
    ``four_sides`` (the 申报表's 四至 words) goes into the title panel, beside the drawn boundary."""
    west, south, east, north = plan.boundary.bounds
    m = ZoneMap(location=[(south + north) / 2, (west + east) / 2], tiles=None, control_scale=True,
                zoom_start=16, asset_base=asset_base, prefer_canvas=len(plan.buildings) > 3000,
                page_title=page_title or f"{title} · 空间布局地图", heading=heading or f"{title}空间布局地图")
    gcj_layers = add_base_layers(m, default=tiles, tianditu_key=tianditu_key)
    areas = report.areas
    Overlay([feature(plan.boundary, {"n": "四至范围", "a": _m2(areas["land_m2"])})], name="四至范围",
            fields=[["n", "名称"], ["a", "用地面积"]], asset_base=asset_base,
            style=f"function () {{ return {{color: '{COLOURS['boundary']}', weight: 3, fillOpacity: 0.04}}; }}",
            ).add_to(m)
    if plan.core is not None:
        Overlay([feature(plan.core, {"n": "核心区", "a": _m2(areas["core_land_m2"]), "fa": _m2(areas["core_floor_m2"])})],
                name="核心区", fields=[["n", "名称"], ["a", "用地面积"], ["fa", "核心区内建筑面积"]], asset_base=asset_base,
                style=f"function () {{ return {{color: '{COLOURS['core']}', weight: 2, dashArray: '6 4', "
                      "fillOpacity: 0.12}; }").add_to(m)
    if plan.buildings:
        features = [
            feature(b.footprint, {
                "n": b.name, "f": b.floors, "u": b.floors_used, "a": _m2(bm.footprint_m2),
                "fa": _m2(bm.floor_full_m2) + ("（申报）" if bm.basis == "declared" else "（占地×使用层数）")
                + ("" if bm.inside_share >= 1 else f"，四至范围内计{_m2(bm.floor_m2)}"),
                **({"o": f"{bm.outside_m2:,.1f} 平方米在四至范围外"} if bm.outside_m2 > 1 else {})})
            for b, bm in zip(plan.buildings, report.buildings, strict=True)
        ]
        Overlay(features, name="建筑（按使用层数着色）", asset_base=asset_base, style=_BUILDING_STYLE, tooltip="n",
                fields=[["n", "名称"], ["f", "层数"], ["u", "使用层数"], ["a", "占地面积"], ["fa", "建筑面积"],
                        ["o", "超出范围"]]).add_to(m)
    institutions = _institution_features(plan, report, policy)
    if institutions:
        fields = [["n", "名称"], ["c", "统一社会信用代码"], ["sv", "服务类型"], ["ch", "链条环节"], ["p", "位置"], ["st", "状态"]]
        Overlay(institutions, name="知识产权服务机构", asset_base=asset_base, point=_INSTITUTION_POINT, tooltip="n",
                fields=fields, cluster=len(institutions) > CLUSTER_ABOVE).add_to(m)
    inside = {p["index"]: p["inside"] for p in report.institutions["platforms"]}
    platforms = [point(i.lon, i.lat, {"n": i.name, "k": i.label,
                                      "w": "位于四至范围内" if inside.get(k) else "位于四至范围外"})
                 for k, i in enumerate(plan.institutions) if i.kind.is_platform]
    if platforms:
        Overlay(platforms, name="公共服务平台", asset_base=asset_base, point=_PLATFORM_POINT, tooltip="n",
                fields=[["n", "名称"], ["k", "平台类型"], ["w", "位置"]]).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    PageScript(gcj_layers).add_to(m)
    add_site_controls(m, asset_base=asset_base, minimap=bool(tiles))
    cast(Figure, m.get_root()).html.add_child(Element(_panels(title, subtitle, report, policy, four_sides)))
    page.PageChrome().add_to(m)
    m.fit_bounds([[south, west], [north, east]], padding=(20, 20))
    return m


FOUR_SIDES = (("east", "东至"), ("south", "南至"), ("west", "西至"), ("north", "北至"))


def four_sides_line(words: dict[str, str] | None) -> str:
    """The 申报表's 四至 as one escaped line (东至…；南至…；西至…；北至…), or "" when none were recorded."""
    words = words or {}
    parts = [str(words.get(key) or "").strip() for key, _ in FOUR_SIDES]
    if not any(parts):
        return ""
    text = "；".join(part or f"{label}（未填写）" for part, (_, label) in zip(parts, FOUR_SIDES, strict=True))
    return f'<span class="zg-four-sides">四至（申报表）：{html.escape(text)}</span>'


def _panels(title: str, subtitle: str, report: Report, policy: MapPolicy,
            four_sides: dict[str, str] | None = None) -> str:
    failing = [r for r in report.rules if not r.passed]
    verdict = ""
    if policy.verdict:
        verdict = ('<span class="zg-pass">量化条件全部符合（另有事项需人工审核）</span>' if not failing else
                   '<span class="zg-fail">量化条件未全部符合：' + html.escape("、".join(r.title for r in failing))
                   + "</span>")
    floors = "".join(
        f'<i style="background:{c}"></i>{"≤" + str(limit) if limit < 10**6 else "更多"}层 '
        for limit, c in FLOOR_CLASSES)
    today = dt.date.today()
    invalid = "" if not policy.invalid_codes else \
        f'<i class="dot" style="background:{COLOURS["invalid"]}"></i>信用代码无效 '
    legend = f"""<i style="border:2px solid {COLOURS['boundary']};background:none"></i>四至范围
<i style="border:2px dashed {COLOURS['core']};background:none"></i>核心区<br>
建筑使用层数：{floors}<br>
<i class="dot" style="background:{COLOURS['inside']}"></i>范围内机构
<i class="dot" style="background:{COLOURS['outside']}"></i>范围外机构 {invalid}
<i class="dot" style="background:{COLOURS['platform']}"></i>公共服务平台"""
    return (page.title_panel(title, html.escape(subtitle), four_sides_line(four_sides), verdict,
                             f'<span class="zg-date">制图日期：{today:%Y年%m月%d日}</span>')
            + page.legend_panel(legend))


def to_html(m: folium.Map, *, self_contained: bool = False, asset_base: str = "/assets") -> str:
    """The map page; ``self_contained`` inlines every asset so the file opens with no server and no network."""
    page = m.get_root().render()
    return assets.inline(page, asset_base) if self_contained else page
