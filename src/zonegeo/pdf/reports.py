"""The four documents, composed from plain values (the report dict, lifecycle events, a change dict) and the
zone's layout: no database here (``pdf/service.py`` gathers what the reader may see)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zonegeo.domain import versions
from zonegeo.domain.model import ZonePlan
from zonegeo.pdf import fonts
from zonegeo.pdf.document import GREY, Document
from zonegeo.pdf.map_drawing import DrawnMap, draw_map

MAX_LISTED = 300  # rows of a list (buildings, institutions) printed; the rest are counted, not listed
MAP_HEIGHT_MM = 170.0
# The unit of each rule's required/actual figure (rules file ids).
UNITS = {"floor_area": "平方米", "core_area": "平方米", "institutions": "家", "platforms": "个",
         "core_inside_boundary": "平方米（范围外）", "buildings_inside_boundary": "栋（范围外）"}
UNRECORDED = "未记录（待审核）"
SCOPE = ("“量化条件全部符合”仅指可量化的条件（建筑面积、核心区面积、机构数量、链条覆盖、公共服务平台、范围）；"
         "其他申报条件见“需人工审核事项”，以评审专家和省知识产权局的审核结果为准。")
HIDDEN_RESULT = "不公开"
HIDDEN_NOTE = "审核结果由评审专家和省知识产权局逐项记录，不在本文件公开。"


@dataclass(frozen=True)
class ZoneFacts:
    """Who and where, as printed at the top of every document."""

    code: str
    name: str
    city: str
    builder: str
    operator: str
    status_label: str


def _figure(value: Any, unit: str = "") -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        text = f"{value:,.2f}"
    elif isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value) or "无"
    else:
        text = str(value)
    return f"{text} {unit}".strip()


def _date(value: Any) -> str:
    if isinstance(value, dt.date):
        return f"{value:%Y年%m月%d日}"
    if isinstance(value, str) and value:
        try:
            return f"{dt.date.fromisoformat(value):%Y年%m月%d日}"
        except ValueError:
            return value
    return "—"


def _new(font: fonts.PdfFont, title: str, zone: ZoneFacts, dated: dt.date) -> Document:
    return Document(font=font, title=title, zone_name=zone.name, zone_code=zone.code, dated=dated)


def _zone_fields(doc: Document, zone: ZoneFacts, extra: Sequence[tuple[str, str]] = ()) -> None:
    doc.section("一、集聚区基本信息")
    doc.fields([("集聚区名称", zone.name), ("编号", zone.code), ("所在设区市", zone.city),
                ("建设主体", zone.builder or "—"), ("运营管理单位", zone.operator or "未登记"),
                ("当前状态", zone.status_label), *extra])


def _map_page(doc: Document, plan: ZonePlan | None, caption: str) -> DrawnMap | None:
    doc.add_page()
    doc.section(caption)
    if plan is None:
        doc.para("该集聚区尚无可显示的空间布局版本，未附地图。")
        return None
    drawn = draw_map(doc, plan, x=doc.l_margin, y=doc.get_y() + 2, w=doc.epw, h=MAP_HEIGHT_MM)
    doc.ln(2)
    for note in drawn.notes():
        doc.para(note, size=8.5, color=GREY)
    return drawn


# ---- 1. the eligibility report ---------------------------------------------------------------------------

def _rules_table(doc: Document, rules: list[dict[str, Any]], verdict: bool) -> None:
    rows = [[r["title"], r["basis"], _figure(r["required"], UNITS.get(r["id"], "")),
             _figure(r["actual"], UNITS.get(r["id"], "")), ("符合" if r["passed"] else "不符合") if verdict else "—"]
            for r in rules]
    doc.grid(("条件", "依据", "要求", "实际", "结果"), rows, (28, 72, 26, 30, 18))
    for k, r in enumerate(rules, 1):
        doc.para(f"{k}. {r['title']}：{r['message']}", size=9)


def _review_table(doc: Document, items: list[dict[str, Any]], reviews: dict[str, dict[str, Any]] | None) -> None:
    """需人工审核: each item for a reviewer, with its recorded result (the latest record), never 符合 unless recorded."""
    if reviews is None:
        doc.grid(("审核事项", "依据", "审核结果"), [[i["title"], i["basis"], HIDDEN_RESULT] for i in items], (36, 112, 26))
        doc.para(HIDDEN_NOTE, size=9)
        return
    rows = []
    for item in items:
        found = reviews.get(item["id"])
        if found is None or found.get("result") is None:
            result, record = UNRECORDED, ""
        else:
            latest = found["records"][-1]
            result = found["result_label"]
            record = f"{latest['reviewer']}，{_date(latest['date'])}" + (f"：{latest['note']}" if latest["note"] else "")
        rows.append([item["title"], item["basis"], result, record])
    doc.grid(("审核事项", "依据", "审核结果", "记录（审核人、日期、说明）"), rows, (30, 70, 28, 46))
    done = sum(1 for i in items if (reviews.get(i["id"]) or {}).get("result") in ("meets", "fails"))
    doc.para(f"已记录结论 {done} 项，共 {len(items)} 项；未记录的事项须由评审专家或省知识产权局逐项审核。", size=9)


def eligibility(*, font: fonts.PdfFont, zone: ZoneFacts, report: dict[str, Any], plan: ZonePlan | None,
                reviews: dict[str, dict[str, Any]] | None, dated: dt.date, verdict: bool = True) -> bytes:
    """集聚区申报条件核验报告. ``reviews``: item id → the review overview's item (None: the reader may not see
    the recorded results)."""
    doc = _new(font, "集聚区申报条件核验报告", zone, dated)
    info = report.get("zone", {})
    state = versions.STATES.get(info.get("version_state", ""), "")
    _zone_fields(doc, zone, [("空间布局版本", f"第{info.get('version', '—')}版（{state + '，' if state else ''}"
                                              f"{_date(info.get('effective_on'))}起）"),
                             ("核验规则", report["ruleset"].get("title", ""))])
    doc.section("二、核验结论")
    doc.para(report["conclusion"] if verdict else "（结论不公开）")
    doc.para(SCOPE, size=9, color=GREY)
    areas, inst = report["areas"], report["institutions"]
    doc.section("三、面积与机构数量")
    doc.fields([("用地面积", _figure(areas["land_m2"], "平方米")),
                ("核心区用地面积", _figure(areas["core_land_m2"], "平方米")),
                ("核心区内建筑面积", _figure(areas["core_floor_m2"], "平方米")),
                ("建筑占地面积", _figure(areas["footprint_m2"], "平方米")),
                ("四至范围内建筑面积", _figure(areas["floor_m2"], "平方米")),
                ("面积计算方法", str(areas.get("method", ""))),
                ("登记机构", f"{inst['total']} 家（不含公共服务平台）"),
                ("四至范围内有效服务机构", f"{inst.get('counted', inst['inside'])} 家"),
                ("公共服务平台", "、".join(p["name"] for p in inst.get("platforms", [])) or "无"),
                ("服务链条覆盖", "；".join(f"{k} {v} 家" for k, v in inst.get("chain_coverage", {}).items()) or "无"),
                ("建筑", f"{len(report.get('buildings', []))} 栋")])
    doc.section("四、量化条件核验")
    _rules_table(doc, report["rules"], verdict)
    doc.section("五、需人工审核事项")
    doc.para("以下条件无法由空间数据判定，须由评审专家或省知识产权局逐项审核；未记录结果的事项不视为符合。", size=9)
    _review_table(doc, report.get("manual_review", []), reviews)
    if report.get("warnings"):
        doc.section("六、提示")
        for k, w in enumerate(report["warnings"][:MAX_LISTED], 1):
            doc.para(f"{k}. {w['message']}", size=9)
    doc.signatures()
    _institution_list(doc, inst.get("located", []))
    _map_page(doc, plan, "附图：集聚区空间布局")
    return doc.render()


def _institution_list(doc: Document, located: list[dict[str, Any]]) -> None:
    if not located:
        return
    doc.section("附表：机构名录")
    rows = [[str(k), i["name"], i.get("kind_label", ""), i.get("building", "") or "—",
             "范围内" if i.get("inside") else "范围外"] for k, i in enumerate(located[:MAX_LISTED], 1)]
    doc.grid(("序号", "名称", "类型", "楼栋", "位置"), rows, (12, 80, 40, 24, 18), size=8.5)
    if len(located) > MAX_LISTED:
        doc.para(f"另有{len(located) - MAX_LISTED}家机构未列出（本表最多列{MAX_LISTED}家）。", size=9)


# ---- 2. the acceptance and evaluation records --------------------------------------------------------------

RESULT_LABELS = {"pass": "合格", "fail": "不合格", "excellent": "优秀"}


def _event_rows(events: list[dict[str, Any]], key: str) -> list[list[str]]:
    rows = []
    for e in events:
        period = f"{e['rectification_months']}个月" if e.get("rectification_months") else "—"
        scored = [f"综合得分{e['total']}" if e.get("total") else "",
                  f"计算等次{RESULT_LABELS.get(e['computed_grade'], e['computed_grade'])}" if e.get("computed_grade")
                  else "", f"调整理由：{e['override_reason']}" if e.get("override_reason") else ""]
        notes = "；".join(str(x) for x in (*scored, e.get("note"), e.get("period_reason"), e.get("comment")) if x)
        rows.append([_date(e["on"]), RESULT_LABELS.get(e.get(key, ""), str(e.get(key, "—"))), period,
                     e.get("by_name") or e.get("actor", ""), notes or "—"])
    return rows


def acceptance(*, font: fonts.PdfFont, zone: ZoneFacts, events: list[dict[str, Any]], dates: dict[str, Any],
               plan: ZonePlan | None, dated: dt.date) -> bytes:
    """集聚区验收记录: every 验收 event (a failed one, then the re-acceptance after 整改), newest last."""
    doc = _new(font, "集聚区验收记录", zone, dated)
    _zone_fields(doc, zone, [("批复日期", _date(dates.get("approved_on"))),
                             ("建设期届满", _date(dates.get("construction_ends"))),
                             ("验收合格日期", _date(dates.get("accepted_on")))])
    doc.section("二、验收情况")
    doc.grid(("验收日期", "验收结果", "整改期限", "记录人", "说明"), _event_rows(events, "result"), (28, 22, 22, 34, 68))
    last = events[-1]
    outcome = RESULT_LABELS.get(last.get("result", ""), "—")
    doc.para(f"最近一次验收（{_date(last['on'])}）结果：{outcome}。"
             + (f"整改期至{_date(dates.get('rectification_ends'))}。" if last.get("result") == "fail"
                and dates.get("rectification_ends") else ""))
    doc.section("三、验收意见")
    doc.para("（验收组意见）\n\n")
    doc.signatures(("经办人", "审核人", "验收组组长"))
    _map_page(doc, plan, "附图：验收时的集聚区空间布局")
    return doc.render()


def evaluation(*, font: fonts.PdfFont, zone: ZoneFacts, year: int, events: list[dict[str, Any]],
               all_events: list[dict[str, Any]], dates: dict[str, Any], plan: ZonePlan | None,
               dated: dt.date) -> bytes:
    """集聚区绩效评价记录 of one year, with the zone's earlier evaluations for context."""
    doc = _new(font, f"集聚区{year}年度绩效评价记录", zone, dated)
    _zone_fields(doc, zone, [("评价年度", f"{year}年"), ("验收合格日期", _date(dates.get("accepted_on")))])
    doc.section("二、评价结果")
    doc.grid(("评价日期", "评价结果", "整改时限", "记录人", "说明"), _event_rows(events, "grade"), (28, 22, 22, 34, 68))
    last = events[-1]
    grade = RESULT_LABELS.get(last.get("grade", ""), "—")
    doc.para(f"{year}年度绩效评价结果：{grade}。" + (
        f"整改期至{_date(dates.get('rectification_ends'))}。" if last.get("grade") == "fail"
        and dates.get("rectification_ends") else ""))
    if len(all_events) > len(events):
        doc.section("三、历次绩效评价")
        doc.grid(("评价日期", "评价结果", "整改时限", "记录人", "说明"), _event_rows(all_events, "grade"),
                 (28, 22, 22, 34, 68), size=8.5)
    doc.signatures(("经办人", "审核人"))
    _map_page(doc, plan, "附图：集聚区空间布局")
    return doc.render()


# ---- 3. the change-report receipt ---------------------------------------------------------------------------

def receipt(*, font: fonts.PdfFont, zone: ZoneFacts, change: dict[str, Any], plan: ZonePlan | None,
            dated: dt.date) -> bytes:
    """变更事项报告回执: what was reported, when, and the province's acknowledgement with its number."""
    doc = _new(font, "变更事项报告回执", zone, dated)
    doc.set_font(size=12)
    doc.cell(0, 9, f"回执编号：{change['receipt_no']}", new_x="LMARGIN", new_y="NEXT")
    doc.set_font(size=10.5)
    doc.section("一、变更事项")
    metrics = [(k, _figure(v)) for k, v in change.get("metrics", {}).items()
               if isinstance(v, (int, float, str)) and not isinstance(v, bool)][:12]
    versions = (f"第{change['from_version']}版 → 第{change['to_version']}版"
                if change.get("from_version") and change.get("to_version") else "—")
    doc.fields([("集聚区", f"{zone.name}（{zone.code}，{zone.city}）"), ("运营管理单位", zone.operator or "未登记"),
                ("变更类型", change["kind_label"]), ("变更内容", change.get("description") or "—"),
                ("发生日期", _date(change["occurred_on"])), ("报告截止日期", _date(change["report_due"])),
                ("空间布局版本", versions), *metrics])
    doc.section("二、报告与回执")
    doc.fields([("报告日期", _date(change["reported_on"])), ("报告人", change.get("reported_by") or "—"),
                ("报告情况", change["status_label"]), ("报告说明", change.get("report_note") or "—"),
                ("回执日期", _date(change["acknowledged_on"])), ("出具人", change.get("acknowledged_by") or "—"),
                ("设区市抄报", change.get("copy_label") or "—")])
    doc.para(f"兹确认收到{zone.name}于{_date(change['reported_on'])}报送的{change['kind_label']}变更事项报告，"
             f"特此回执（回执编号 {change['receipt_no']}）。")
    doc.signatures(("经办人", "审核人"))
    _map_page(doc, plan, "附图：集聚区空间布局")
    return doc.render()
