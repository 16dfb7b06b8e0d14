"""What each PDF holds for its reader: access (services/access.py), what the reader may see
(services/disclosure.py), and the stored records; ``pdf/reports.py`` lays them out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from zonegeo.db import repo
from zonegeo.db.models import ChangeEvent, User, Zone
from zonegeo.domain import lifecycle as lifecycle_domain
from zonegeo.domain.model import ZonePlan
from zonegeo.domain.rules import RuleSet
from zonegeo.errors import NotFoundError
from zonegeo.pdf import fonts, reports
from zonegeo.services import access, changes, disclosure, eligibility, lifecycle, reviews

BEIJING = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class Pdf:
    content: bytes
    filename: str  # Chinese, for Content-Disposition


def today() -> dt.date:
    return dt.datetime.now(BEIJING).date()


def _facts(zone: Zone) -> reports.ZoneFacts:
    return reports.ZoneFacts(code=zone.code, name=zone.name, city=zone.city, builder=zone.builder,
                             operator=zone.operator, status_label=lifecycle_domain.STATES.get(zone.status, zone.status))


def _plan(session: Session, zone: Zone, policy: disclosure.Disclosure) -> ZonePlan | None:
    """The layout this reader is shown (the approved one; a reviewer of a zone with none yet: the newest) with the
    zone's active institutions."""
    version = disclosure.shown_version(session, zone, policy)
    if version is None:
        return None
    return repo.to_domain_plan(version, repo.active_institutions(session, zone))


def eligibility_report(*, session: Session, user: User | None, code: str, rules: RuleSet, font_setting: str) -> Pdf:
    """The eligibility report (公众: of a published zone, as the disclosure policy shows it)."""
    font = fonts.resolve(font_setting)
    zone = access.visible_zone(session, user, code)
    policy = disclosure.for_user(user)
    data = eligibility.disclosed_report(session=session, code=code, rules=rules, policy=policy)
    review_items = None
    if user is not None and user.role in access.REVIEW_READ_ROLES:
        overview = reviews.overview(session=session, user=user, code=code, rules=rules)
        review_items = {i["id"]: i for i in overview["items"]}
    content = reports.eligibility(font=font, zone=_facts(zone), report=data, plan=_plan(session, zone, policy),
                                  reviews=review_items, dated=today(), verdict=policy.verdict)
    return Pdf(content, f"核验报告-{zone.code}.pdf")


def _events(session: Session, user: User, code: str, action: str) -> list[dict[str, Any]]:
    return [e for e in lifecycle.history(session=session, user=user, code=code) if e["action"] == action]


def evaluation_year(event: dict[str, Any]) -> int:
    """The year an evaluation counts for: the evaluation round's (services/evaluations.py), else the day's."""
    year = event.get("evaluation_year")
    return year if isinstance(year, int) else dt.date.fromisoformat(event["on"]).year


def printable_events(*, session: Session, user: User, code: str) -> dict[str, list[int]]:
    """What the zone page links to: whether there is an acceptance record, and the years evaluated."""
    events = lifecycle.history(session=session, user=user, code=code)
    accepted = [1 for e in events if e["action"] == "accept"]
    years = sorted({evaluation_year(e) for e in events if e["action"] == "evaluate"})
    return {"accept": accepted, "evaluate": years}


def acceptance_record(*, session: Session, user: User, code: str, font_setting: str) -> Pdf:
    font = fonts.resolve(font_setting)
    zone = access.visible_zone(session, user, code)
    events = _events(session, user, code, "accept")
    if not events:
        raise NotFoundError("no_acceptance_record", f"集聚区“{code}”尚无验收记录", {"code": code})
    content = reports.acceptance(font=font, zone=_facts(zone), events=events, dates=dict(zone.dates or {}),
                                 plan=_plan(session, zone, disclosure.for_user(user)), dated=today())
    return Pdf(content, f"验收记录-{zone.code}.pdf")


def evaluation_record(*, session: Session, user: User, code: str, year: int | None, font_setting: str) -> Pdf:
    """The evaluation record of ``year`` (its round's year, else the year it was made); None: the latest one's."""
    font = fonts.resolve(font_setting)
    zone = access.visible_zone(session, user, code)
    every = _events(session, user, code, "evaluate")
    if year is None and every:
        year = evaluation_year(every[-1])
    chosen = [e for e in every if evaluation_year(e) == year]
    if not chosen:
        when = f"{year}年的" if year is not None else ""
        raise NotFoundError("no_evaluation_record", f"集聚区“{code}”没有{when}绩效评价记录",
                            {"code": code, "year": year})
    assert year is not None
    content = reports.evaluation(font=font, zone=_facts(zone), year=year, events=chosen, all_events=every,
                                 dates=dict(zone.dates or {}), plan=_plan(session, zone, disclosure.for_user(user)),
                                 dated=today())
    return Pdf(content, f"绩效评价记录-{zone.code}-{year}.pdf")


def change_receipt(*, session: Session, user: User, code: str, change_id: int, font_setting: str) -> Pdf:
    """The province's 回执 on a filed change report, once it has been issued."""
    font = fonts.resolve(font_setting)
    zone = access.visible_zone(session, user, code)
    event = session.get(ChangeEvent, change_id)
    if event is None or event.zone_id != zone.id:
        raise NotFoundError("change_not_found", f"集聚区“{code}”没有编号为{change_id}的变更事项",
                            {"code": code, "change": change_id})
    if not event.receipt_no or event.acknowledged_on is None:
        raise NotFoundError("receipt_not_issued", "该变更报告尚未出具回执（省知识产权局出具回执后才能打印）",
                            {"code": code, "change": change_id})
    content = reports.receipt(font=font, zone=_facts(zone), change=changes.change_dict(event, today(), zone),
                              plan=_plan(session, zone, disclosure.for_user(user)), dated=today())
    return Pdf(content, f"变更报告回执-{event.receipt_no}.pdf")
