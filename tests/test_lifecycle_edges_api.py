"""第三章 at its edges over the API, on real PostGIS: checked results, proposed revocations, no 500 on bad
lifecycle input, the actor from the login."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.conftest import app_client, demo_copy
from zonegeo.db.models import AuditEntry, LifecycleEvent, Zone, ZoneVersion
from zonegeo.db.session import session_factory, transaction
from zonegeo.services import access
from zonegeo.services.zones import import_zone


def zone_in(engine, tmp_path, status: str, dates: dict[str, str] | None, prefix: str = "EDGE",
            members: dict[str, str] | None = None) -> str:
    """A committed demo copy imported in ``status`` with ``dates`` (None: no [dates] table at all), with
    ``members`` (username → relation, e.g. ``{"expert-wang": "expert"}``) added in the same transaction."""
    folder, code = demo_copy(tmp_path, prefix)
    toml = folder / "zone.toml"
    head = toml.read_text(encoding="utf-8").split("[dates]")[0].replace('status = "construction"', f'status = "{status}"')
    tail = "[dates]\n" + "".join(f'{k} = "{v}"\n' for k, v in dates.items()) if dates is not None else ""
    crs = '\n[crs]\ninstitutions = "EPSG:4490"\n'
    toml.write_text(head + tail + crs, encoding="utf-8")
    with transaction(session_factory(engine)) as session:
        import_zone(session=session, folder=folder)
        for username, relation in (members or {}).items():
            access.add_member(session=session, code=code, username=username, relation_=relation)
    return code


def act(client, code, action, on, **data):
    return client.post(f"/api/zones/{code}/lifecycle/{action}", json={"on": on, "data": data})


RECTIFYING = {"approved_on": "2021-10-11", "construction_ends": "2023-10-11", "rectification_ends": "2024-04-11"}


def test_a_typed_chinese_pass_in_rectification_is_a_pass_not_a_revocation(client, engine, tmp_path):
    """The reported bug: result "合格" in the 整改 period revoked the zone."""
    code = zone_in(engine, tmp_path, "rectification", RECTIFYING)
    r = act(client, code, "accept", "2024-04-10", result="合格")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "operating" and r.json()["record"]["result"] == "pass"
    history = client.get(f"/api/zones/{code}/lifecycle").json()["data"]
    assert history[-1]["result"] == "pass"


@pytest.mark.parametrize("action,key,value", [("accept", "result", "ok"), ("accept", "result", "Pass!"),
                                              ("evaluate", "grade", "良好")])
def test_an_unknown_result_is_422_naming_the_allowed_values(client, engine, tmp_path, action, key, value):
    code = zone_in(engine, tmp_path, "rectification" if action == "accept" else "operating",
                   RECTIFYING | {"accepted_on": "2024-04-10"})
    r = act(client, code, action, "2024-04-10", **{key: value})
    assert r.status_code == 422 and r.json()["code"] == "bad_result"
    assert "合格（pass）" in r.json()["message"] and "不合格（fail）" in r.json()["message"]
    assert r.json()["detail"]["allowed"]
    assert client.get(f"/api/zones/{code}").json()["status"] in ("rectification", "operating")


def test_a_failed_re_acceptance_is_proposed_shown_and_confirmed_by_the_province(client, engine, tmp_path, settings,
                                                                                tokens):

    from tests.conftest import bearer

    code = zone_in(engine, tmp_path, "rectification", RECTIFYING)
    r = act(client, code, "accept", "2024-05-06", result="不合格")
    assert r.status_code == 200 and r.json()["state"] == "revocation_proposed"
    assert r.json()["proposal"]["reason"] == 2 and "整改期已于2024年04月11日届满" in r.json()["note"]
    shown = client.get(f"/api/zones/{code}/revocation").json()["proposal"]
    assert shown["reason_text"].startswith("验收不合格") and shown["return_to"] == "rectification"
    items = [w for w in client.get("/api/worklist").json()["data"] if w["zone_code"] == code]
    assert any(w["kind"] == "revocation_confirm" and "拟取消称号" in w["what"] for w in items)
    assert any(w["kind"] == "late_decision" and "晚于整改期限" in w["what"] for w in items)
    with app_client(settings, headers=bearer(tokens, "city")) as city:
        assert act(city, code, "confirm_revocation", "2024-05-07").status_code == 409
    assert client.get(f"/api/zones/{code}").json()["status"] == "revocation_proposed"
    done = act(client, code, "confirm_revocation", "2024-05-07")
    assert done.status_code == 200 and done.json()["state"] == "revoked"
    assert act(client, code, "confirm_revocation", "2024-05-08").status_code == 409


def test_a_declined_proposal_returns_the_zone(client, engine, tmp_path):
    code = zone_in(engine, tmp_path, "rectification", RECTIFYING)
    act(client, code, "accept", "2024-04-10", result="fail")
    no_reason = act(client, code, "decline_revocation", "2024-04-12")
    assert no_reason.status_code == 422 and no_reason.json()["detail"]["field"] == "data.decision"
    r = act(client, code, "decline_revocation", "2024-04-12", decision="复核材料有误，重新组织验收")
    assert r.status_code == 200 and r.json()["state"] == "rectification"
    assert client.get(f"/api/zones/{code}/revocation").json()["proposal"] is None


def test_consecutive_failed_evaluations_over_the_api(client, engine, tmp_path):
    """Evaluations in 2022 and 2024 (none in 2023) are consecutive periods; the old rule counted calendar years."""
    code = zone_in(engine, tmp_path, "operating", {"accepted_on": "2021-06-01"})
    assert act(client, code, "evaluate", "2022-06-01", grade="不合格").json()["state"] == "rectifying"
    assert act(client, code, "close_rectification", "2022-11-30", result="合格").json()["state"] == "operating"
    assert act(client, code, "evaluate", "2024-06-03", grade="fail", rectification_months=3).json()["dates"][
        "rectification_ends"] == "2024-09-03"
    r = act(client, code, "close_rectification", "2024-09-03", result="不合格")
    assert r.json()["state"] == "revocation_proposed" and r.json()["record"]["consecutive_failed_evaluations"] == 2


@pytest.mark.parametrize("reason", ["abc", 9, "", None])
def test_an_unknown_revocation_reason_is_422(client, engine, tmp_path, reason):
    code = zone_in(engine, tmp_path, "operating", {"accepted_on": "2021-06-01"})
    r = act(client, code, "revoke", "2024-06-03", reason=reason)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "data.reason" and "理由" in r.json()["message"]


def test_a_zone_imported_in_construction_without_dates_is_a_named_4xx(client, engine, tmp_path):
    code = zone_in(engine, tmp_path, "construction", None)
    r = act(client, code, "accept", "2024-06-03", result="pass")
    assert r.status_code == 422 and r.json()["detail"]["field"] == "dates.construction_ends"
    assert "建设期届满日期" in r.json()["message"]
    items = [w["what"] for w in client.get("/api/worklist").json()["data"] if w["zone_code"] == code]
    assert any("dates.construction_ends" in w for w in items)


def test_a_broken_stored_date_is_a_named_4xx(client, engine, tmp_path):
    code = zone_in(engine, tmp_path, "construction", {"construction_ends": "2024-13-01"})
    r = act(client, code, "accept", "2024-06-03", result="pass")
    assert r.status_code == 422 and r.json()["detail"]["field"] == "dates.construction_ends"
    assert client.get("/api/worklist").status_code == 200


def test_dates_in_the_future_and_years_that_do_not_exist(client, engine, tmp_path, settings, tokens):

    from tests.conftest import bearer

    code = zone_in(engine, tmp_path, "operating", {"accepted_on": "2021-06-01"})
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    r = act(client, code, "evaluate", tomorrow, grade="pass")
    assert r.status_code == 422 and r.json()["code"] == "future_date" and r.json()["detail"]["field"] == "on"
    assert act(client, code, "evaluate", dt.date.today().isoformat(), grade="pass").status_code == 200
    with app_client(settings, headers=bearer(tokens, "city")) as city:
        city_code = zone_in(engine, tmp_path, "operating", {"accepted_on": "2021-06-01"}, prefix="EDGE")
        for year in (10000, -1, dt.date.today().year):
            r = city.post(f"/api/zones/{city_code}/annual-reports", json={"year": year, "on": "2026-03-01"})
            assert r.status_code == 422 and r.json()["detail"]["field"] == "year", (year, r.text)
        r = city.post(f"/api/zones/{city_code}/annual-reports", json={"year": 2024, "on": tomorrow})
        assert r.status_code == 422 and r.json()["detail"]["field"] == "on"
        bad = city.post(f"/api/zones/{city_code}/annual-reports", json={"year": 2024, "on": "10000-01-01"})
        assert bad.status_code == 422
        ok = city.post(f"/api/zones/{city_code}/annual-reports", json={"year": 2023, "on": "2024-03-29"})
        assert ok.status_code == 201 and ok.json()["due"] == "2024-04-01" and ok.json()["late"] is False


def test_the_actor_comes_from_the_login_and_a_typed_name_is_kept_beside_it(client, engine, tmp_path):
    code = zone_in(engine, tmp_path, "operating", {"accepted_on": "2021-06-01"})
    r = act(client, code, "evaluate", "2024-06-03", grade="合格", by="张三（冒名）")
    assert r.status_code == 200
    with transaction(session_factory(engine)) as session:
        zone = session.scalar(select(Zone).where(Zone.code == code))
        event = session.scalars(select(LifecycleEvent).where(LifecycleEvent.zone_id == zone.id)).all()[-1]
        assert event.actor == "province-bureau" and event.data["by_name"] == "张三（冒名）"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.object == f"zone/{code}",
                                                         AuditEntry.action == "lifecycle_evaluate")).one()
        assert entry.actor == "province-bureau" and entry.after["by_name"] == "张三（冒名）"


def test_a_version_decision_is_the_logged_in_users_with_the_typed_name_added(client, engine, tmp_path):
    """Old behaviour: TransitionRequest.by replaced the actor in the audit log and in decided_by."""
    import json

    from tests.conftest import DEMO

    code = zone_in(engine, tmp_path, "construction", {"approved_on": "2024-01-02", "construction_ends": "2026-01-05"})
    doc = json.loads((DEMO / "boundary.geojson").read_text(encoding="utf-8"))
    doc["features"][0]["geometry"]["coordinates"][0] = doc["features"][0]["geometry"]["coordinates"][0][::-1]
    up = client.post(f"/api/zones/{code}/uploads", files=[("files", ("b.geojson", json.dumps(doc).encode()))],
                     data={"roles": ["boundary"]})
    number = up.json()["version"]
    client.post(f"/api/zones/{code}/versions/{number}/submit", json={"by": "someone-else"})
    r = client.post(f"/api/zones/{code}/versions/{number}/approve", json={"by": "省局李四"})
    assert r.status_code == 200 and r.json()["decided_by"] == "province-bureau"
    with transaction(session_factory(engine)) as session:
        zone = session.scalar(select(Zone).where(Zone.code == code))
        version = session.scalar(select(ZoneVersion).where(ZoneVersion.zone_id == zone.id,
                                                           ZoneVersion.number == number))
        assert version.decided_by == "province-bureau" and version.decided_by_name == "省局李四"
        entries = session.scalars(select(AuditEntry).where(AuditEntry.object == f"zone/{code}/version/{number}")
                                  .order_by(AuditEntry.id)).all()
        assert [(e.action, e.actor) for e in entries][-2:] == [("version_submit", "province-bureau"),
                                                              ("version_approve", "province-bureau")]
        assert entries[-1].after["by_name"] == "省局李四" and entries[-2].after["by_name"] == "someone-else"
