"""The city's annual summary report (总结报告) per 设区市 and year: who reported what and when, the per-zone figures,
saving and filing by the city bureau (form, JSON or the Excel template), the province's 接收, and the one place that
records a zone as covered by its city's report (the zone's ``annual_report`` lifecycle event, written at filing).

Rules: the city bureau files its own city's report; the province reads every city's and marks a filed report
received, after which it is locked. A filed report may be revised by the city until then (each revision audited
with the figures before and after; the filing date, and so the lateness, stays that of the first filing)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from zonegeo.db.models import AnnualZoneIndicator, CityAnnualReport, Institution, LifecycleEvent, User, Zone
from zonegeo.domain import annual_report as ar
from zonegeo.domain.lifecycle import annual_report_due
from zonegeo.domain.model import JIANGSU_CITIES
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from zonegeo.services import annual_report_xlsx, audit

YEARS_SHOWN = 5  # the province's table: the last five finished years
VIA = ("form", "xlsx", "api")


def check_city(city: str) -> str:
    city = (city or "").strip()
    if city not in JIANGSU_CITIES:
        raise NotFoundError("unknown_city", f"“{city}”不是江苏省的设区市", {"city": city, "allowed": list(JIANGSU_CITIES)})
    return city


def can_read(user: User, city: str) -> bool:
    return user.role == "province" or (user.role == "city" and user.city == city)


def _readable(user: User, city: str) -> str:
    city = check_city(city)
    if not can_read(user, city):
        raise PermissionDeniedError("other_city", f"设区市知识产权局只能查看本市的年度总结报告，不能查看{city}的",
                                    {"city": city})
    return city


def _writable(user: User, city: str) -> str:
    city = check_city(city)
    if user.role != "city" or user.city != city:
        who = "省知识产权局只能查看和接收" if user.role == "province" else f"只有{city}知识产权局可以填报"
        raise PermissionDeniedError("annual_report_city_only", f"{city}的年度总结报告由{city}知识产权局填报：{who}",
                                    {"city": city})
    return city


def zones_for(session: Session, city: str, year: int) -> list[Zone]:
    """The zones of ``city`` that held the title during ``year``, by code."""
    rows = session.scalars(select(Zone).where(Zone.city == city, Zone.status.in_(ar.REPORTED_STATES))
                           .order_by(Zone.code))
    return [z for z in rows if ar.titled_during(z.status, z.dates or {}, year)]


def register_figures(session: Session, zones: list[Zone], year: int) -> dict[int, dict[str, Any]]:
    """Each zone's register figures for ``year`` (entered, left, coverage), one query for all zones."""
    rows: dict[int, list[dict[str, Any]]] = {z.id: [] for z in zones}
    if zones:
        stmt = select(Institution.zone_id, Institution.kind, Institution.entered_on, Institution.left_on,
                      Institution.chain, Institution.services).where(Institution.zone_id.in_(list(rows)))
        for r in session.execute(stmt):
            rows[r.zone_id].append({"kind": r.kind, "entered_on": r.entered_on, "left_on": r.left_on,
                                    "chain": r.chain, "services": r.services})
    return {zone_id: ar.register_figures(year, found) for zone_id, found in rows.items()}


def find(session: Session, city: str, year: int, *, lock: bool = False) -> CityAnnualReport | None:
    stmt = select(CityAnnualReport).where(CityAnnualReport.city == city, CityAnnualReport.year == year)
    return session.scalar(stmt.with_for_update() if lock else stmt)


def _locked_or_new(session: Session, city: str, year: int, calendar: WorkCalendar) -> CityAnnualReport:
    """The report row, locked; created as a draft first when missing (two first saves at once make one row)."""
    deadline = annual_report_due(year, calendar)
    session.execute(insert(CityAnnualReport).values(city=city, year=year, state="draft", due_on=deadline.due,
                                                    due_provisional=deadline.provisional)
                    .on_conflict_do_nothing(constraint="uq_city_annual_report_city_year"))
    report = find(session, city, year, lock=True)
    assert report is not None
    session.refresh(report)
    return report


def _value(v: int | Decimal | None) -> int | float | None:
    return float(v) if isinstance(v, Decimal) else v


def indicator_values(row: AnnualZoneIndicator | None) -> dict[str, Any]:
    return {i.key: _value(getattr(row, i.key)) for i in ar.INDICATORS} if row is not None else {}


def _report_dict(report: CityAnnualReport | None) -> dict[str, Any]:
    if report is None:
        return {"state": None, "state_label": "尚未填报", **dict.fromkeys(ar.SECTIONS, "")}
    return {"id": report.id, "state": report.state, "state_label": ar.STATES[report.state],
            **{k: getattr(report, k) for k in ar.SECTIONS},
            "filed_on": report.filed_on.isoformat() if report.filed_on else None, "filed_by": report.filed_by,
            "filed_via": report.filed_via, "revisions": report.revisions,
            "received_on": report.received_on.isoformat() if report.received_on else None,
            "received_by": report.received_by, "updated_by": report.updated_by}


def view(*, session: Session, user: User, city: str, year: int, today: dt.date,
         calendar: WorkCalendar) -> dict[str, Any]:
    """A city's report on ``year`` as the page and GET /api show it: the report (or nothing yet), its timeliness,
    and one row per zone with the stored figures, else the register's prefill, and the register's own figures."""
    city = _readable(user, city)
    ar.check_year(year, today)
    found = find(session, city, year)
    # a draft is the city's work in progress: the province sees that one exists, not its content
    hidden = found is not None and found.state == "draft" and user.role != "city"
    report = None if hidden else found
    zones = zones_for(session, city, year)
    stored = {r.zone_id: r for r in report.indicators} if report is not None else {}
    if report is not None:  # a zone in the filed report stays listed even if its dates were corrected since
        known = {z.id for z in zones}
        zones += [r.zone for r in report.indicators if r.zone_id not in known]
    figures = register_figures(session, zones, year)
    rows = []
    for zone in zones:
        reg = figures[zone.id]
        values = indicator_values(stored.get(zone.id)) or {"institutions_entered": reg["entered"],
                                                           "institutions_left": reg["left"]}
        rows.append({"code": zone.code, "name": zone.name, "state": zone.status, "values": values,
                     "prefilled": zone.id not in stored, "from_register": reg})
    timing = ar.timeliness(year, report.filed_on if report is not None else None, today, calendar,
                           has_zones=bool(zones))
    editable = user.role == "city" and user.city == city and (report is None or report.state != "received")
    shown = _report_dict(report) | ({"state_label": "尚未报送（设区市正在填写草稿）"} if hidden else {})
    return {"city": city, "year": year, "report": shown, "timeliness": timing.to_dict(),
            "zones": rows, "editable": editable,
            "can_receive": user.role == "province" and report is not None and report.state == "filed"}


def overview(*, session: Session, user: User, today: dt.date, calendar: WorkCalendar,
             years: list[int] | None = None) -> dict[str, Any]:
    """Who has reported: every city the user may read × the last finished years, each 已报送 / 逾期报送 / 未报送 /
    逾期未报送 (with working days late) or 本年度无集聚区."""
    years = years or list(range(today.year - 1, today.year - 1 - YEARS_SHOWN, -1))
    cities = [c for c in JIANGSU_CITIES if can_read(user, c)]
    reports = {(r.city, r.year): r for r in session.scalars(
        select(CityAnnualReport).where(CityAnnualReport.city.in_(cities), CityAnnualReport.year.in_(years)))}
    zones = list(session.scalars(select(Zone).where(Zone.city.in_(cities), Zone.status.in_(ar.REPORTED_STATES))))
    rows = []
    for city in cities:
        cells = []
        for year in years:
            report = reports.get((city, year))
            count = sum(1 for z in zones if z.city == city and ar.titled_during(z.status, z.dates or {}, year))
            timing = ar.timeliness(year, report.filed_on if report else None, today, calendar,
                                   has_zones=count > 0 or report is not None)
            cells.append({**timing.to_dict(), "city": city, "zones": count,
                          "state": report.state if report else None,
                          "state_label": ar.STATES[report.state] if report else "",
                          "url": f"/annual-reports/{city}/{year}"})
        rows.append({"city": city, "years": cells})
    return {"years": years, "cities": rows}


def save(*, session: Session, user: User, city: str, year: int, sections: dict[str, Any],
         indicators: dict[str, dict[str, Any]], file: bool, on: dt.date, via: str, calendar: WorkCalendar,
         today: dt.date, where: dict[str, dict[str, str]] | None = None,
         found: list[ar.Problem] | None = None) -> CityAnnualReport:
    """Save the city's report (a draft), or file it (``file``): all three sections and every figure of every zone
    required then. ``indicators``: zone code → {indicator key: raw value}; a zone or key not given keeps its stored
    value (else the register's prefill). A filed report saved again is a revision (until received). Every bad
    value is reported at once with its zone and field (and its cell, ``where``); nothing is stored then."""
    city = _writable(user, city)
    ar.check_year(year, today)
    if on > today:
        raise InputError("future_date", f"报送日期{on.isoformat()}晚于今天，请核对", {"field": "on"})
    if on.year <= year:  # a report on a year is made after that year has ended
        raise InputError("filed_before_year_end", f"报送日期{on.isoformat()}早于{year}年度结束，年度总结报告应在次年报送",
                         {"field": "on", "value": on.isoformat(), "year": year})
    report = _locked_or_new(session, city, year, calendar)
    if report.state == "received":
        raise ConflictError("annual_report_received", f"{city}{year}年度总结报告已由省知识产权局接收，不能再修改",
                            {"city": city, "year": year, "received_on": str(report.received_on)})
    filing = file or report.state != "draft"
    clean, section_problems = ar.check_sections(
        {k: sections.get(k, getattr(report, k)) for k in ar.SECTIONS}, required=filing)
    zones = zones_for(session, city, year)
    by_code = {z.code: z for z in zones}
    stored = {r.zone_id: r for r in report.indicators}
    unknown = sorted(set(indicators) - set(by_code))
    fields = [ar.Problem(code, by_code[code].name, key, key[:40], "", f"不是可填写的指标（应为：{'、'.join(ar.BY_KEY)}）")
              for code, given in indicators.items() if code in by_code for key in given if key not in ar.BY_KEY]
    problems = list(found or []) + [ar.Problem(code, "", "zone", "集聚区编号", code,
                           f"不是{city}{year}年度应报告的集聚区（应为：{'、'.join(by_code) or '无'}）",
                           (where or {}).get(code, {}).get("zone", "")) for code in unknown]
    problems += fields
    figures = register_figures(session, zones, year)
    parsed: dict[int, dict[str, Any]] = {}
    for zone in zones:
        base = indicator_values(stored.get(zone.id)) or {"institutions_entered": figures[zone.id]["entered"],
                                                         "institutions_left": figures[zone.id]["left"]}
        values, bad = ar.check_indicators(zone.code, zone.name, base | indicators.get(zone.code, {}),
                                          required=filing, where=(where or {}).get(zone.code))
        parsed[zone.id] = values
        problems += bad
    if filing and not zones:
        problems.append(ar.Problem("", "", "zones", "集聚区", "", f"{city}在{year}年度没有集聚区，无需报送"))
    ar.raise_problems(problems, section_problems,
                      prefix="未报送，请更正：" if file and report.state == "draft" else "未保存，请更正：")
    before = _snapshot(report)
    for key, text in clean.items():
        setattr(report, key, text)
    for zone in zones:
        row = stored.pop(zone.id, None)
        if row is None:
            row = AnnualZoneIndicator(zone_id=zone.id)
            report.indicators.append(row)
        for key, value in parsed[zone.id].items():
            setattr(row, key, value)
        row.register = figures[zone.id]
    for gone in stored.values():  # a zone no longer titled that year (its dates were corrected)
        report.indicators.remove(gone)
    report.updated_by, report.updated_at = user.username, dt.datetime.now(dt.UTC)
    action = "annual_report_saved"
    if report.state == "draft" and file:
        _file(report, user, on, via, calendar)
        action = "annual_report_filed"
    elif report.state == "filed":
        report.revisions += 1
        action = "annual_report_revised"
    session.flush()
    if report.state == "filed":
        _mark_zones(session, report, user, zones)
    audit.record(session, user, action, f"annual-report/{city}/{year}", before=before, after=_snapshot(report))
    return report


def _file(report: CityAnnualReport, user: User, on: dt.date, via: str, calendar: WorkCalendar) -> None:
    timing = ar.timeliness(report.year, on, on, calendar)
    report.state, report.filed_on, report.filed_by = "filed", on, user.username
    report.filed_via = via if via in VIA else "form"
    report.due_on, report.due_provisional = timing.due, timing.provisional
    report.workdays_late = timing.workdays_late


def _mark_zones(session: Session, report: CityAnnualReport, user: User, zones: list[Zone]) -> None:
    """Each zone of the filed report counts as reported for its year: its ``annual_report`` lifecycle event (once)."""
    ids = [z.id for z in zones]
    done = set(session.scalars(select(LifecycleEvent.zone_id).where(
        LifecycleEvent.zone_id.in_(ids), LifecycleEvent.action == "annual_report",
        LifecycleEvent.data["year"].as_integer() == report.year)))
    assert report.filed_on is not None
    late = report.filed_on > report.due_on
    for zone in zones:
        if zone.id in done:
            continue
        session.add(LifecycleEvent(zone_id=zone.id, action="annual_report", from_state=zone.status,
                                   to_state=zone.status, on_date=report.filed_on, actor=user.username, role=user.role,
                                   data={"year": report.year, "due": report.due_on.isoformat(), "late": late,
                                         "due_provisional": report.due_provisional, "city": report.city,
                                         "workdays_late": report.workdays_late, "report": report.id}))
    session.flush()


def _snapshot(report: CityAnnualReport) -> dict[str, Any]:
    """What the audit keeps of a report: its state, section lengths and each zone's figures."""
    return {"state": report.state, "filed_on": str(report.filed_on or ""),
            **{f"{k}_chars": len(getattr(report, k) or "") for k in ar.SECTIONS},
            "zones": {r.zone.code if r.zone is not None else str(r.zone_id): indicator_values(r)
                      for r in report.indicators}}


def receive(*, session: Session, user: User, city: str, year: int, on: dt.date) -> CityAnnualReport:
    """The province marks a filed report received (接收); the report is locked from then on."""
    city = check_city(city)
    if user.role != "province":
        raise PermissionDeniedError("province_only", "年度总结报告由省知识产权局接收", {"city": city})
    report = find(session, city, year, lock=True)
    if report is None or report.state == "draft":
        raise ConflictError("annual_report_not_filed", f"{city}{year}年度总结报告尚未报送，不能接收",
                            {"city": city, "year": year})
    if report.state == "received":
        raise ConflictError("annual_report_received", f"{city}{year}年度总结报告已于{report.received_on}接收",
                            {"city": city, "year": year})
    report.state, report.received_on, report.received_by = "received", on, user.username
    session.flush()
    audit.record(session, user, "annual_report_received", f"annual-report/{city}/{year}",
                 before={"state": "filed"}, after={"state": "received", "received_on": on.isoformat()})
    return report


def file_for_zone(*, session: Session, user: User, zone: Zone, year: int, on: dt.date,
                  calendar: WorkCalendar) -> dict[str, Any]:
    """``POST /api/zones/{code}/annual-reports`` (kept for existing callers): records that the zone's city reported
    on ``year`` on ``on``, in the city's report. A missing report is created as filed on ``on`` by this call, without
    text (the city may add it on the report's page until the province receives it); an existing draft is filed on
    ``on`` as it stands; a filed one gets the zone added. The zone's figures start from the register's."""
    if not ar.titled_during(zone.status, zone.dates or {}, year):
        raise ConflictError("not_titled_in_year", f"集聚区“{zone.code}”在{year}年度不是集聚区（未批复或已取消称号），"
                            "无需报送该年度总结报告", {"field": "year", "year": year})
    report = _locked_or_new(session, zone.city, year, calendar)
    if report.state == "received":
        raise ConflictError("annual_report_received", f"{zone.city}{year}年度总结报告已由省知识产权局接收，不能再修改",
                            {"city": zone.city, "year": year})
    if all(r.zone_id != zone.id for r in report.indicators):
        reg = register_figures(session, [zone], year)[zone.id]
        report.indicators.append(AnnualZoneIndicator(zone_id=zone.id, institutions_entered=reg["entered"],
                                                     institutions_left=reg["left"], register=reg))
    before = _snapshot(report)
    if report.state == "draft":
        _file(report, user, on, "api", calendar)
    report.updated_by = user.username
    session.flush()
    _mark_zones(session, report, user, [zone])
    audit.record(session, user, "annual_report", f"zone/{zone.code}",
                 after={"year": year, "late": report.filed_on is not None and report.filed_on > report.due_on,
                        "report": f"annual-report/{zone.city}/{year}", "state_before": before["state"]})
    deadline = annual_report_due(year, calendar)
    assert report.filed_on is not None
    return {"year": year, "due": deadline.due.isoformat(), "nominal_due": deadline.nominal.isoformat(),
            "late": report.filed_on > deadline.due, "provisional": deadline.provisional}


def template(*, session: Session, user: User, city: str, year: int, today: dt.date,
             calendar: WorkCalendar) -> bytes:
    """The Excel template of the city's report on ``year``, prefilled with its zones and what is stored."""
    return annual_report_xlsx.template(view(session=session, user=user, city=city, year=year, today=today,
                                            calendar=calendar))


def upload(*, session: Session, user: User, city: str, year: int, content: bytes, filename: str, today: dt.date,
           calendar: WorkCalendar) -> CityAnnualReport:
    """A filled template saved into the city's report (a draft, or a revision of a filed one): every bad cell
    named by sheet, row and column; a template of another city or year is refused."""
    city = _writable(user, city)
    sections, figures, where, found = annual_report_xlsx.read(content, filename=filename)
    given_city, given_year = str(sections.pop("city", "") or "").strip(), str(sections.pop("year", "") or "").strip()
    if (given_city and given_city != city) or (given_year and given_year != str(year)):
        raise InputError("xlsx_other_report", f"上传的是{given_city or '?'}{given_year or '?'}年度的模板，"
                         f"本页面是{city}{year}年度的报告：请下载本页面的模板填写",
                         {"city": given_city, "year": given_year, "field": "file"})
    return save(session=session, user=user, city=city, year=year, sections=sections, indicators=figures,
                file=False, on=today, via="xlsx", calendar=calendar, today=today, where=where, found=found)
