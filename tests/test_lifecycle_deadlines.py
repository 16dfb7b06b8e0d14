"""Provisional deadlines recomputed when the holiday arrangement of their year arrives: by the service, by
`zonegeo deadlines recompute`, and at application start-up; each change in the audit log."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import bearer
from tests.test_lifecycle_edges_api import zone_in
from zonegeo.api.app import create_app
from zonegeo.config import PROJECT_ROOT
from zonegeo.db.models import AuditEntry, ChangeEvent, Zone
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain.workdays import WorkCalendar, YearArrangement
from zonegeo.services import changes, deadlines

D = dt.date
# A State Council arrangement for 2027 as it might be published: 劳动节 1–5 May.
MAY_2027 = [D(2027, 5, d) for d in range(1, 6)]
WITH_2027 = WorkCalendar({2027: YearArrangement(2027, frozenset(MAY_2027), frozenset(), "test")})


def holiday_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "holidays"
    folder.mkdir()
    days = ", ".join(f'"{d.isoformat()}"' for d in MAY_2027)
    (folder / "2027.toml").write_text(f'year = 2027\nsource = "test"\nholidays = [{days}]\nworkdays = []\n',
                                      encoding="utf-8")
    return folder


def failed_evaluation(client, engine, tmp_path) -> str:
    """Evaluated 不合格 on 2 November 2026: six months end on Sunday 2 May 2027, in a year with no arrangement."""
    code = zone_in(engine, tmp_path, "operating", {"accepted_on": "2021-06-01"}, prefix="DUE")
    r = client.post(f"/api/zones/{code}/lifecycle/evaluate", json={"on": "2026-11-02", "data": {"grade": "fail"}})
    assert r.status_code == 200, r.text
    assert r.json()["dates"]["rectification_ends"] == "2027-05-03"  # 5.1–5.2 statutory, then Monday 3 May
    assert r.json()["dates"]["deadlines"]["rectification_ends"]["provisional"] is True
    worklist = [w for w in client.get("/api/worklist").json()["data"] if w["zone_code"] == code]
    assert any(w["due"] == "2027-05-03" and w["provisional"] for w in worklist)
    return code


def stored(engine, code: str) -> tuple[dict, list[AuditEntry]]:
    with transaction(session_factory(engine)) as session:
        zone = session.scalar(select(Zone).where(Zone.code == code))
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.object.like(f"zone/{code}%"),
                                                                AuditEntry.action == "deadline_recomputed")))
        session.expunge_all()
        return dict(zone.dates), entries


def test_the_service_recomputes_once_the_year_is_known_and_logs_it(client, engine, tmp_path, rules):
    code = failed_evaluation(client, engine, tmp_path)
    with transaction(session_factory(engine)) as session:
        assert [c for c in deadlines.recompute(session=session, calendar=WorkCalendar(), rules=rules)
                if c["zone_code"] == code] == []  # still no arrangement: nothing changes
        change = changes.record_change(session=session, code=code, kind="operator", occurred_on=D(2026, 12, 20),
                                       description="运营单位更名", rules=rules, calendar=WorkCalendar())
        assert change.due_provisional and change.report_due == D(2027, 1, 11)  # 2027-01-01 statutory only
        change_id = change.id
    with transaction(session_factory(engine)) as session:
        done = [c for c in deadlines.recompute(session=session, calendar=WITH_2027, rules=rules, actor="test")
                if c["zone_code"] == code]
    assert {(c["deadline"], c["before"], c["after"]) for c in done} == {
        ("rectification_ends", "2027-05-03", "2027-05-06"),
        (f"change/{change_id}/report_due", "2027-01-11", "2027-01-08")}  # the test arrangement has no 1 January
    dates, entries = stored(engine, code)
    assert dates["rectification_ends"] == "2027-05-06"
    assert dates["deadlines"]["rectification_ends"] == {"nominal": "2027-05-02", "due": "2027-05-06",
                                                        "provisional": False}
    assert sorted((e.actor, e.before.get("rectification_ends", e.before.get("report_due"))) for e in entries) == [
        ("test", "2027-01-11"), ("test", "2027-05-03")]
    with transaction(session_factory(engine)) as session:
        event = session.get(ChangeEvent, change_id)
        assert not event.due_provisional and event.report_due == D(2027, 1, 8)
        again = [c for c in deadlines.recompute(session=session, calendar=WITH_2027, rules=rules)
                 if c["zone_code"] == code]
    assert again == []


def test_the_cli_command_recomputes(client, engine, tmp_path, database_url):
    code = failed_evaluation(client, engine, tmp_path)
    zonegeo = Path(sys.executable).with_name("zonegeo")
    env = {**os.environ, "ZONEGEO_DATABASE_URL": database_url, "ZONEGEO_HOLIDAYS_DIR": str(holiday_folder(tmp_path))}
    proc = subprocess.run([str(zonegeo), "deadlines", "recompute", "--json"], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = [r for r in json.loads(proc.stdout) if r["zone_code"] == code]
    assert rows == [{"zone_code": code, "deadline": "rectification_ends", "nominal": "2027-05-02",
                     "before": "2027-05-03", "after": "2027-05-06"}]
    dates, entries = stored(engine, code)
    assert dates["rectification_ends"] == "2027-05-06" and [e.actor for e in entries] == ["cli"]


def test_start_up_recomputes(client, engine, tmp_path, settings, tokens):
    code = failed_evaluation(client, engine, tmp_path)
    later = settings.model_copy(update={"holidays_dir": holiday_folder(tmp_path)})
    with TestClient(create_app(later), headers=bearer(tokens, "province")) as c:
        assert c.get(f"/api/zones/{code}").status_code == 200
    dates, entries = stored(engine, code)
    assert dates["rectification_ends"] == "2027-05-06" and [e.actor for e in entries] == ["startup"]
    assert entries[0].after == {"rectification_ends": "2027-05-06", "provisional": False, "nominal": "2027-05-02"}
