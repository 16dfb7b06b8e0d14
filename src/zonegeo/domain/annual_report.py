"""The city's annual summary report (总结报告, 第三章: “设区市知识产权局每年一季度末前将上年度集聚区发展情况、存在问题及
意见建议形成总结报告报省知识产权局”) as data: its sections and per-zone indicators with their Chinese labels and
bounds, the checks that name the zone and field of every bad value, which zones a year's report covers, and whether
it came in time. Pure: no database, no HTTP, no files."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from zonegeo.domain.journey import working_days_left
from zonegeo.domain.lifecycle import FIRST_YEAR, TITLED, annual_report_due
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import InputError

SECTIONS = {"development": "发展情况", "problems": "存在问题", "suggestions": "意见建议"}
SECTION_MAX = 5000  # characters per section (migration 0011 says the same)

STATES = {"draft": "草稿（未报送）", "filed": "已报送", "received": "省知识产权局已接收"}
# A zone counts for a year's report when it held the title at some time in that year (批复 on or before 31
# December, not revoked before 1 January); a zone revoked during the year is reported on for that year.
REPORTED_STATES = (*TITLED, "revocation_proposed", "revoked")


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str  # the column header of the template and the form's label
    unit: str
    integer: bool
    maximum: int


INDICATORS: tuple[Indicator, ...] = (
    Indicator("institutions_entered", "年内入驻机构（家）", "家", True, 100_000),
    Indicator("institutions_left", "年内退出机构（家）", "家", True, 100_000),
    Indicator("staff", "从业人员（人）", "人", True, 1_000_000),
    Indicator("service_revenue_wan", "服务收入（万元）", "万元", False, 100_000_000),
    Indicator("policy_funds_wan", "政策资金（万元）", "万元", False, 100_000_000),
    Indicator("platform_cases", "平台办理案件（件）", "件", True, 10_000_000),
)
BY_KEY = {i.key: i for i in INDICATORS}
CHAIN_LINKS = ("创造", "运用", "保护", "人才")
MAX_CELL_CHARS = 40  # a number typed into a cell or field: longer is not a number anyone meant


@dataclass(frozen=True)
class Problem:
    """One bad value, located: the zone (code and name), the field, what was given and why it is refused."""

    zone_code: str
    zone_name: str
    field: str
    label: str
    value: str
    message: str
    where: str = ""  # e.g. 工作表“指标”第5行 (set by the Excel reader)

    def text(self) -> str:
        if self.where:  # a cell of the uploaded workbook: 工作表“指标”第5行“服务收入（万元）”列：……
            return f"{self.where}“{self.label}”列：{self.message}"
        return f"集聚区“{self.zone_name}”（{self.zone_code}）“{self.label}”：{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"zone": self.zone_code, "zone_name": self.zone_name, "field": self.field, "label": self.label,
                "value": self.value, "message": self.message, "where": self.where, "text": self.text()}


_SEPARATORS = re.compile(r"[,，\s]")


def parse_value(indicator: Indicator, raw: Any) -> tuple[int | Decimal | None, str]:
    """``raw`` (form text, or an Excel cell: int, float, str, None) as the indicator's value: (value, "") or
    (None, why it is refused). An empty value is (None, ""): not given."""
    if raw is None or isinstance(raw, bool):
        return None, "" if raw is None else "应为数字"
    if isinstance(raw, int):
        number = Decimal(raw)
    elif isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            return None, "应为数字"
        number = Decimal(repr(raw))
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip()
        if not text:
            return None, ""
        if len(text) > MAX_CELL_CHARS:
            return None, f"不是数字（超过{MAX_CELL_CHARS}个字符）"
        try:
            number = Decimal(_SEPARATORS.sub("", text))
        except InvalidOperation:
            return None, f"“{text}”不是数字"
        if not number.is_finite():
            return None, f"“{text}”不是数字"
    if number < 0:
        return None, "不能为负数"
    if number > indicator.maximum:
        return None, f"超过上限{indicator.maximum:,}{indicator.unit}，请核对单位（{indicator.unit}）"
    if indicator.integer:
        if number != number.to_integral_value():
            return None, "应为整数"
        return int(number), ""
    if number != number.quantize(Decimal("0.01")):
        return None, "最多保留两位小数"
    return number.quantize(Decimal("0.01")), ""


def check_indicators(zone_code: str, zone_name: str, raw: Mapping[str, Any], *, required: bool,
                     where: Mapping[str, str] | None = None) -> tuple[dict[str, int | Decimal | None], list[Problem]]:
    """One zone's figures parsed; every bad one (and, when ``required``, every missing one) as a located problem.
    ``where`` gives a field's place in a file (the Excel cell) when the values came from one."""
    values: dict[str, int | Decimal | None] = {}
    problems = []
    for ind in INDICATORS:
        value, why = parse_value(ind, raw.get(ind.key))
        if not why and value is None and required:
            why = "未填写（没有的请填0）"
        if why:
            shown = "" if raw.get(ind.key) is None else str(raw.get(ind.key))[:MAX_CELL_CHARS]
            problems.append(Problem(zone_code, zone_name, ind.key, ind.label, shown, why,
                                    (where or {}).get(ind.key, "")))
        values[ind.key] = value
    return values, problems


def check_sections(raw: Mapping[str, Any], *, required: bool) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The three sections as text (trimmed; Windows line ends made plain), each bounded; missing ones are problems
    only when ``required`` (filing)."""
    out, problems = {}, []
    for key, label in SECTIONS.items():
        text = str(raw.get(key) or "").replace("\r\n", "\n").replace("\r", "\n").strip()
        if "\x00" in text:
            problems.append({"field": key, "label": label, "message": f"“{label}”含有空字符（NUL），请删除"})
        elif len(text) > SECTION_MAX:
            problems.append({"field": key, "label": label,
                             "message": f"“{label}”有{len(text)}个字符，超过上限{SECTION_MAX}个字符，请精简"})
        elif required and not text:
            problems.append({"field": key, "label": label, "message": f"请填写“{label}”"})
        out[key] = text
    return out, problems


def raise_problems(problems: list[Problem], sections: list[dict[str, Any]] | None = None, *,
                   code: str = "annual_report_invalid", prefix: str = "") -> None:
    """One InputError for all problems (sections first, then figures in zone order), naming the first few."""
    sections = sections or []
    if not problems and not sections:
        return
    lines = [s["message"] for s in sections] + [p.text() for p in problems]
    shown = "；".join(lines[:5]) + (f"；另有{len(lines) - 5}处" if len(lines) > 5 else "")
    raise InputError(code, f"{prefix}{shown}",
                     {"sections": sections, "errors": [p.to_dict() for p in problems], "count": len(lines)})


def check_year(year: int, today: dt.date) -> None:
    """A report is on a year that has ended (上年度), not before the first year the registry knows."""
    if not FIRST_YEAR <= year < today.year:
        raise InputError("bad_year", f"年度“{year}”不正确：应为{FIRST_YEAR}年至{today.year - 1}年之间已经结束的年度",
                         {"field": "year", "value": year})


def _date(dates: Mapping[str, Any], key: str) -> dt.date | None:
    value = dates.get(key)
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def titled_during(status: str, dates: Mapping[str, Any], year: int) -> bool:
    """Whether a zone in ``status`` with ``dates`` held the title at some time in ``year``: approved (批复) on or
    before 31 December and not revoked before 1 January. A zone imported in a titled state without its approval
    date is taken as titled."""
    if status not in REPORTED_STATES:
        return False
    approved = _date(dates, "approved_on")
    if approved is not None and approved.year > year:
        return False
    revoked = _date(dates, "revoked_on")
    return not (status == "revoked" and (revoked is None or revoked.year < year))


@dataclass(frozen=True)
class Timeliness:
    """Where a city's report for a year stands against its deadline (31 March of the next year, off rest days)."""

    year: int
    due: dt.date
    nominal_due: dt.date
    provisional: bool
    status: str  # filed | late | pending | overdue | none
    workdays_late: int  # filed late: working days after the due date up to the filing day; overdue: up to today

    @property
    def label(self) -> str:
        late = f"（逾期{self.workdays_late}个工作日）" if self.workdays_late else ""
        return {"filed": "已报送", "late": f"逾期报送{late}", "pending": "未报送",
                "overdue": f"逾期未报送（已逾期{self.workdays_late}个工作日）" if self.workdays_late else "逾期未报送",
                "none": "本年度无集聚区"}[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "due": self.due.isoformat(), "nominal_due": self.nominal_due.isoformat(),
                "provisional": self.provisional, "status": self.status, "status_label": self.label,
                "workdays_late": self.workdays_late}


def timeliness(year: int, filed_on: dt.date | None, today: dt.date, calendar: WorkCalendar, *,
               has_zones: bool = True) -> Timeliness:
    """已报送 / 逾期报送 (with working days late) / 未报送 / 逾期未报送 for a city's report on ``year``. A report filed
    on the due date is on time; one filed on a rest day after it is late by the working days in between (0 on the
    rest days right after the due date is still late: ``workdays_late`` counts working days only)."""
    deadline = annual_report_due(year, calendar)
    due = deadline.due
    if filed_on is not None:
        late = -working_days_left(calendar, filed_on, due) if filed_on > due else 0
        status = "late" if filed_on > due else "filed"
    elif not has_zones:
        status, late = "none", 0
    elif today > due:
        status, late = "overdue", -working_days_left(calendar, today, due)
    else:
        status, late = "pending", 0
    return Timeliness(year, due, deadline.nominal, deadline.provisional, status, late)


def register_figures(year: int, rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """From a zone's register (rows with ``kind``, ``entered_on``, ``left_on``, ``chain``, ``services``): the service
    institutions (platforms apart) that entered and left during ``year``, those in the zone at its end, and their
    coverage by chain link (创造/运用/保护/人才) and by service type. The entered/left counts prefill the form."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    entered = left = active = platforms = 0
    chain = dict.fromkeys(CHAIN_LINKS, 0)
    services: dict[str, int] = {}
    for row in rows:
        entered_on, left_on = row.get("entered_on"), row.get("left_on")
        is_platform = str(row.get("kind", "institution")) != "institution"
        in_zone = entered_on is not None and entered_on <= end and (left_on is None or left_on > end)
        if is_platform:
            platforms += in_zone
            continue
        entered += entered_on is not None and start <= entered_on <= end
        left += left_on is not None and start <= left_on <= end
        if not in_zone:
            continue
        active += 1
        for link in set(row.get("chain") or ()):
            if link in chain:
                chain[link] += 1
        for service in set(row.get("services") or ()):
            services[service] = services.get(service, 0) + 1
    missing = [link for link, n in chain.items() if n == 0]
    return {"entered": entered, "left": left, "active": active, "platforms": platforms, "chain": chain,
            "chain_missing": missing, "services": dict(sorted(services.items(), key=lambda kv: (-kv[1], kv[0])))}
