"""Stored deadlines computed while their year had no published holiday arrangement (provisional) are
recomputed once the arrangement is known: a zone's calendar deadlines (construction end, 整改 end) and the
change reports' working-day deadlines. Each change is written to the audit log."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zonegeo.db import repo
from zonegeo.db.models import ChangeEvent, Zone
from zonegeo.domain.rules import RuleSet
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import ZonegeoError
from zonegeo.services import audit

log = logging.getLogger("zonegeo.deadlines")


def _zone_deadlines(session: Session, zone: Zone, calendar: WorkCalendar, actor: str) -> list[dict[str, Any]]:
    dates = dict(zone.dates or {})
    meta = {k: dict(v) for k, v in dates.get("deadlines", {}).items()}
    changed = []
    for key, info in meta.items():
        if not info.get("provisional"):
            continue
        try:
            nominal = dt.date.fromisoformat(info["nominal"])
        except (KeyError, ValueError):
            continue
        end = calendar.roll_forward(nominal)
        if end.provisional:  # still no arrangement for that year
            continue
        before = {key: dates.get(key), "provisional": True}
        dates[key], meta[key] = end.due.isoformat(), end.to_dict()
        changed.append({"zone_code": zone.code, "deadline": key, "nominal": nominal.isoformat(),
                        "before": before[key], "after": end.due.isoformat()})
        audit.record(session, None, "deadline_recomputed", f"zone/{zone.code}", actor=actor, before=before,
                     after={key: end.due.isoformat(), "provisional": False, "nominal": nominal.isoformat()})
    if changed:
        zone.dates = dates | {"deadlines": meta}
    return changed


def _change_deadlines(session: Session, calendar: WorkCalendar, rules: RuleSet | None,
                      actor: str) -> list[dict[str, Any]]:
    days = int((rules.change if rules is not None else {}).get("report_within_working_days", 15))
    changed = []
    stmt = select(ChangeEvent, Zone).join(Zone, Zone.id == ChangeEvent.zone_id).where(
        ChangeEvent.due_provisional.is_(True)).order_by(ChangeEvent.id)
    for event, zone in session.execute(stmt):
        due = calendar.add_working_days(event.occurred_on, days)
        if due.provisional:
            continue
        before = event.report_due.isoformat()
        event.report_due, event.due_provisional = due.due, False
        changed.append({"zone_code": zone.code, "deadline": f"change/{event.id}/report_due", "nominal": None,
                        "before": before, "after": due.due.isoformat()})
        audit.record(session, None, "deadline_recomputed", f"zone/{zone.code}/change/{event.id}", actor=actor,
                     before={"report_due": before, "provisional": True},
                     after={"report_due": due.due.isoformat(), "provisional": False})
    return changed


def recompute(*, session: Session, calendar: WorkCalendar, rules: RuleSet | None = None,
              actor: str = "system") -> list[dict[str, Any]]:
    """Recompute every provisional deadline whose year is now known; returns what changed (also audited)."""
    changed: list[dict[str, Any]] = []
    for zone in repo.list_zones(session):
        changed += _zone_deadlines(session, zone, calendar, actor)
    changed += _change_deadlines(session, calendar, rules, actor)
    session.flush()
    return changed


def recompute_at_startup(unit_of_work: Callable[[], AbstractContextManager[Session]], calendar: WorkCalendar,
                         rules: RuleSet | None) -> list[dict[str, Any]]:
    """The start-up hook: holiday files added since the last start take effect. A database that cannot be
    reached does not stop the application from starting (the pages say so on the first request)."""
    try:
        with unit_of_work() as session:
            changed = recompute(session=session, calendar=calendar, rules=rules, actor="startup")
    except ZonegeoError as exc:
        log.warning("provisional deadlines not recomputed at start-up: %s", exc)
        return []
    if changed:
        log.info("recomputed %d provisional deadlines", len(changed))
    return changed
