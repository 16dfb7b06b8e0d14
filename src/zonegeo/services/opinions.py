"""The expert's desk (评审工作台): one zone's materials, maps and report for its assigned expert, and one form that
records the opinion — overall, 现场答辩 and 实地考察 apart — with the 需人工审核 items marked one by one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zonegeo.db.models import ExpertOpinion, User, Zone
from zonegeo.domain import site_visit as desk_rules
from zonegeo.domain.rules import RuleSet
from zonegeo.errors import InputError, PermissionDeniedError
from zonegeo.services import access, lifecycle, reviews, site_visits


def assigned_zones(session: Session, user: User) -> list[Zone]:
    """The zones ``user`` (an expert) is assigned to review, by code."""
    return sorted((z for z in access.visible_zones(session, user) if access.relation(session, user, z) == "expert"),
                  key=lambda z: z.code)


def opinion_dict(row: ExpertOpinion) -> dict[str, Any]:
    def part(kind: str) -> dict[str, Any] | None:
        on = getattr(row, f"{kind}_on")
        if on is None:
            return None
        return {"label": desk_rules.PARTS[kind], "on": on.isoformat(), "opinion": getattr(row, f"{kind}_opinion"),
                "recommend": getattr(row, f"{kind}_recommend")}

    return {"id": row.id, "event_id": row.event_id, "expert": row.expert, "opinion": row.opinion,
            "recommend": row.recommend, "hearing": part("hearing"), "inspection": part("inspection"),
            "at": row.created_at.astimezone(site_visits.BEIJING).strftime("%Y-%m-%d %H:%M") if row.created_at else ""}


def opinions(session: Session, zone: Zone, expert: str | None = None) -> list[dict[str, Any]]:
    stmt = select(ExpertOpinion).where(ExpertOpinion.zone_id == zone.id)
    if expert is not None:
        stmt = stmt.where(ExpertOpinion.expert == expert)
    return [opinion_dict(r) for r in session.scalars(stmt.order_by(ExpertOpinion.id))]


def submit(*, session: Session, user: User, code: str, rules: RuleSet, form: Mapping[str, str],
           today: dt.date | None = None) -> dict[str, Any]:
    """The desk's form: any 需人工审核 items marked (``item_<id>`` with ``note_<id>``) and, when given, the opinion
    (``opinion``, ``recommend``, and the parts ``hearing_*`` / ``inspection_*`` that were held). Checked whole
    before anything is stored; the caller runs it in a savepoint so that a refusal stores nothing."""
    zone = site_visits.reading_zone(session, user, code)
    if user.role != "expert":
        raise PermissionDeniedError("experts_only", "评审意见由指派的评审专家提交", {"role": user.role})
    site_visits.check_open(zone)
    today = today or dt.date.today()
    parts = {kind: desk_rules.check_part(kind, on=form.get(f"{kind}_on", ""), opinion=form.get(f"{kind}_opinion", ""),
                                         recommend=form.get(f"{kind}_recommend", ""), today=today)
             for kind in desk_rules.PARTS}
    held = {k: p for k, p in parts.items() if p is not None}
    wants_opinion = bool(held) or bool(form.get("opinion", "").strip()) or bool(form.get("recommend", "").strip())
    marks = []
    for item in rules.manual_review:
        result = form.get(f"item_{item.id}", "").strip()
        note = desk_rules.check_text(form.get(f"note_{item.id}", ""), field=f"note_{item.id}",
                                     label=f"“{item.title}”的说明", limit=desk_rules.MAX_NOTE_CHARS)
        if result:
            marks.append((item.id, result, note))
    if not wants_opinion and not marks:
        raise InputError("nothing_to_record", "请填写评审意见，或至少标记一项需人工审核事项", {})
    opinion = recommend = None
    if wants_opinion:
        opinion = desk_rules.check_text(form.get("opinion", ""), field="opinion", label="综合评审意见",
                                        limit=desk_rules.MAX_OPINION_CHARS, required=True)
        recommend = desk_rules.check_recommend(form.get("recommend", ""), field="recommend", label="综合评审意见")
    recorded = [reviews.record(session=session, user=user, code=code, item=item, result=result, note=note,
                               rules=rules, on=today) for item, result, note in marks]
    out: dict[str, Any] = {"reviews": recorded, "opinion": None}
    if opinion is not None and recommend is not None:
        event = lifecycle.add_opinion(session=session, user=user, code=code, opinion=opinion, recommend=recommend,
                                      site_visit="inspection" in held, on=today,
                                      parts={k: p.to_dict() for k, p in held.items()})
        row = session.get(ExpertOpinion, event["opinion_id"])  # stored with its event by lifecycle.add_opinion
        assert row is not None
        out["opinion"] = opinion_dict(row)
    return out
