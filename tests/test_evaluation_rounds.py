"""Evaluation rounds on real PostGIS: creating a round (default zones, wrong role, bounds), scoring (experts and the
city bureau, bounds, who may), the grade confirmed through the lifecycle's ``evaluate`` (a lifecycle event with the
grade; 不合格 → 运行整改期 with the dates the state machine sets), overrides with a reason, participation and
正当理由 (two years absent without one → the revocation proposal the lifecycle makes), the 待办 rows."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from zonegeo.db.models import AuditEntry, EvaluationEntry, EvaluationScore, LifecycleEvent, User, Zone
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain import evaluation as ev
from zonegeo.domain import lifecycle as states
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from zonegeo.services import auth, evaluations
from zonegeo.services import lifecycle as zone_life

TODAY = dt.date(2026, 11, 26)
CAL = WorkCalendar()


def person(session, role: str, city: str | None = None) -> User:
    return auth.add_user(session=session, username=f"{role}-{uuid.uuid4().hex[:8]}", password=PASSWORD, role=role,
                         city=city)


def zone(session, status: str = "operating", city: str = "南京市", accepted: str = "2021-06-01") -> Zone:
    code = f"EV-{uuid.uuid4().hex[:8]}"
    row = Zone(code=code, name=f"评价测试集聚区{code[-4:]}", city=city, builder="建设主体", operator="运营单位",
               status=status, dates={"accepted_on": accepted} if accepted else {}, four_sides={})
    session.add(row)
    session.flush()
    return row


@pytest.fixture(scope="module")
def usernames(engine, tokens) -> dict[str, str]:
    """The users of this module, made (and committed) once: password hashing is slow."""
    with transaction(session_factory(engine)) as s:
        made = {"city": person(s, "city", "南京市"), "suzhou": person(s, "city", "苏州市"), "e1": person(s, "expert"),
                "e2": person(s, "expert"), "outsider": person(s, "expert")}
        return {k: u.username for k, u in made.items()} | {"province": "province-bureau", "applicant": "demo-applicant"}


@pytest.fixture
def people(session, usernames) -> dict[str, User]:
    return {k: auth.get_user(session, name) for k, name in usernames.items()}


def make_round(session, rules, people, zones, year: int = 2026):
    return evaluations.create_round(session=session, user=people["province"], year=year, rules=rules,
                                    zones=[z.code for z in zones], experts=[people["e1"].username,
                                                                            people["e2"].username], today=TODAY)


def score(session, user, row, z, value) -> None:
    values = value if isinstance(value, dict) else dict.fromkeys(ev.DIMENSIONS, value)
    evaluations.enter_scores(session=session, user=user, round_id=row.id, code=z.code, scores=values)


def test_a_round_takes_the_operating_and_rectifying_zones_by_default(session, rules, people):
    operating, rectifying, building = zone(session), zone(session, "rectifying"), zone(session, "construction")
    row = evaluations.create_round(session=session, user=people["province"], year=2026, rules=rules, today=TODAY)
    codes = {e.zone_id for e in session.scalars(select(EvaluationEntry).where(EvaluationEntry.round_id == row.id))}
    assert {operating.id, rectifying.id} <= codes and building.id not in codes
    assert row.title == "2026年度江苏省知识产权服务业集聚区综合评价"
    assert row.scheme["weights"]["policy"] == "20" and row.scheme["excellent_min"] == "90"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object == f"evaluation/{row.id}")).one()
    assert (entry.action, entry.actor) == ("evaluation_round_created", "province-bureau")


def test_round_creation_is_bounded_and_province_only(session, rules, people):
    z, building = zone(session), zone(session, "construction")
    for who in ("city", "e1", "applicant"):
        with pytest.raises(PermissionDeniedError):
            evaluations.create_round(session=session, user=people[who], year=2026, rules=rules, zones=[z.code])
    for year in ("1999", str(TODAY.year + 1), "二〇二六", ""):
        with pytest.raises(InputError) as caught:
            evaluations.create_round(session=session, user=people["province"], year=year, rules=rules,
                                     zones=[z.code], today=TODAY)
        assert caught.value.code == "bad_year"
    with pytest.raises(InputError, match="不在运行期"):
        evaluations.create_round(session=session, user=people["province"], year=2026, rules=rules,
                                 zones=[z.code, building.code], today=TODAY)
    with pytest.raises(InputError, match="至少选择"):
        evaluations.create_round(session=session, user=people["province"], year=2026, rules=rules, zones=[])
    with pytest.raises(InputError, match="最多500个"):
        evaluations.create_round(session=session, user=people["province"], year=2026, rules=rules,
                                 zones=[f"Z{i}" for i in range(501)], today=TODAY)
    with pytest.raises(InputError, match="不是在用的评审专家"):
        evaluations.create_round(session=session, user=people["province"], year=2026, rules=rules, zones=[z.code],
                                 experts=[people["city"].username], today=TODAY)
    evaluations.create_round(session=session, user=people["province"], year=2026, rules=rules, zones=[z.code],
                             today=TODAY)
    with pytest.raises(ConflictError, match="已在2026年度的评价中"):
        evaluations.create_round(session=session, user=people["province"], year=2026, rules=rules, zones=[z.code],
                                 today=TODAY)


def test_scores_are_bounded_and_only_the_rounds_scorers_may_enter_them(session, rules, people):
    z, other = zone(session), zone(session, city="苏州市")
    row = make_round(session, rules, people, [z, other])
    with pytest.raises(NotFoundError):  # an expert not in the round does not even see it
        score(session, people["outsider"], row, z, "80")
    with pytest.raises(PermissionDeniedError, match="所在设区市"):  # Suzhou's bureau scores Suzhou's zone only
        score(session, people["suzhou"], row, z, "80")
    with pytest.raises(PermissionDeniedError):
        score(session, people["province"], row, z, "80")
    for bad, code in (("100.01", "score_out_of_range"), ("-1", "score_out_of_range"), ("", "missing_score"),
                      ("八十", "bad_score"), ("80.123", "score_precision")):
        with pytest.raises(InputError) as caught:
            score(session, people["e1"], row, z, {**dict.fromkeys(ev.DIMENSIONS, "80"), "policy": bad})
        assert caught.value.code == code and "政策发展环境" in caught.value.message
    with pytest.raises(InputError, match="未知的评价维度"):
        score(session, people["e1"], row, z, {**dict.fromkeys(ev.DIMENSIONS, "80"), "beauty": "99"})
    stored = session.scalars(select(EvaluationScore).join(EvaluationEntry)
                             .where(EvaluationEntry.round_id == row.id)).all()
    assert stored == []  # a refused entry stores nothing, not even the valid dimensions
    score(session, people["e1"], row, z, {d: "100" if d == "policy" else "0" for d in ev.DIMENSIONS})
    score(session, people["e1"], row, z, "70")  # entered again: replaces, never a second row
    mine = session.scalars(select(EvaluationScore).where(EvaluationScore.scorer == people["e1"].username)).all()
    assert len(mine) == 5 and {s.score for s in mine} == {Decimal("70.00")} and {s.role for s in mine} == {"expert"}
    score(session, people["suzhou"], row, other, "90")
    city = session.scalars(select(EvaluationScore).where(EvaluationScore.scorer == people["suzhou"].username)).all()
    assert {s.role for s in city} == {"city"} and len(city) == 5


def test_a_complete_sheet_is_graded_and_confirmed_through_the_lifecycle(session, rules, people):
    z = zone(session)
    row = make_round(session, rules, people, [z])
    score(session, people["e1"], row, z, "95")
    sheet = evaluations.zone_sheet(session=session, user=people["province"], round_id=row.id, code=z.code)
    assert sheet["grade"] is None and {m["scorer"] for m in sheet["missing"]} == {people["e2"].username, "city"}
    with pytest.raises(InputError, match="评分尚未完成"):
        evaluations.confirm(session=session, user=people["province"], round_id=row.id, code=z.code,
                            on=dt.date(2026, 11, 20), calendar=CAL, rules=rules, today=TODAY)
    score(session, people["e2"], row, z, "85")
    score(session, people["city"], row, z, "90")
    sealed = evaluations.zone_sheet(session=session, user=people["city"], round_id=row.id, code=z.code)
    assert sealed["sealed"] and (sealed["total"], sealed["grade"], set(sealed["scores"])) == (
        "", None, {people["city"].username})  # 独立评分: the city sees its own scores only
    assert set(sealed["dimensions"].values()) == {""} and sealed["missing"] == []
    mine = evaluations.zone_sheet(session=session, user=people["e2"], round_id=row.id, code=z.code)
    assert set(mine["scores"]) == {people["e2"].username} and mine["scores"][people["e2"].username]["policy"] == "85.00"
    sheet = evaluations.zone_sheet(session=session, user=people["province"], round_id=row.id, code=z.code)
    assert not sheet["sealed"] and len(sheet["scores"]) == 3
    # 0.8 × (95 + 85) / 2 + 0.2 × 90 = 90.00 exactly: 优秀
    assert (sheet["total"], sheet["grade"], sheet["dimensions"]["industry"]) == ("90.00", "excellent", "90.00")
    with pytest.raises(PermissionDeniedError):
        evaluations.confirm(session=session, user=people["city"], round_id=row.id, code=z.code,
                            on=dt.date(2026, 11, 20), calendar=CAL, rules=rules, today=TODAY)
    with pytest.raises(InputError, match="不在评价年度2026年内"):
        evaluations.confirm(session=session, user=people["province"], round_id=row.id, code=z.code,
                            on=dt.date(2025, 12, 31), calendar=CAL, rules=rules, today=TODAY)
    done = evaluations.confirm(session=session, user=people["province"], round_id=row.id, code=z.code,
                               on=dt.date(2026, 11, 20), calendar=CAL, rules=rules, today=TODAY)
    assert (done["grade"], done["state"]) == ("excellent", "operating")
    event = session.scalars(select(LifecycleEvent).where(LifecycleEvent.zone_id == z.id)).one()
    assert (event.action, event.data["grade"], event.on_date, event.actor) == (
        "evaluate", "excellent", dt.date(2026, 11, 20), "province-bureau")
    assert event.data["evaluation_round"] == row.id and event.data["total"] == "90.00"
    entry = session.scalars(select(EvaluationEntry).where(EvaluationEntry.zone_id == z.id)).one()
    assert (entry.confirmed_grade, entry.computed_grade, entry.computed_total, entry.lifecycle_event_id) == (
        "excellent", "excellent", Decimal("90.00"), event.id)
    with pytest.raises(ConflictError, match="已由省知识产权局确认"):
        evaluations.confirm(session=session, user=people["province"], round_id=row.id, code=z.code,
                            on=dt.date(2026, 11, 20), calendar=CAL, rules=rules, today=TODAY)
    with pytest.raises(ConflictError):
        score(session, people["e1"], row, z, "10")
    after = evaluations.zone_sheet(session=session, user=people["e1"], round_id=row.id, code=z.code)
    assert not after["sealed"] and after["total"] == "90.00"  # confirmed: the result is open to the scorers
    assert evaluations.excellent_rows(session=session, user=people["province"], round_id=row.id)[0][2:4] == [
        z.code, z.name]


def test_a_fail_puts_the_zone_in_rectification_with_the_state_machines_dates(session, rules, people):
    z = zone(session)
    row = make_round(session, rules, people, [z])
    for who in ("e1", "e2", "city"):
        score(session, people[who], row, z, "59.99")
    on = dt.date(2026, 5, 29)
    done = evaluations.confirm(session=session, user=people["province"], round_id=row.id, code=z.code, on=on,
                               calendar=CAL, rules=rules, today=TODAY)
    assert (done["grade"], done["state"]) == ("fail", "rectifying")
    session.refresh(z)
    expected = CAL.roll_forward(states.add_months(on, 6)).due  # 2026-11-29 is a Sunday: the Monday after
    assert z.dates["rectification_ends"] == expected.isoformat() == "2026-11-30"
    event = session.scalars(select(LifecycleEvent).where(LifecycleEvent.zone_id == z.id)).one()
    assert (event.to_state, event.data["grade"], event.data["rectification_months"]) == ("rectifying", "fail", 6)


def test_a_shorter_rectification_and_an_override_with_its_reason(session, rules, people):
    z, y = zone(session), zone(session)
    row = make_round(session, rules, people, [z, y])
    for who in ("e1", "e2", "city"):
        score(session, people[who], row, z, "70")
    with pytest.raises(InputError, match="须说明理由"):
        evaluations.confirm(session=session, user=people["province"], round_id=row.id, code=z.code,
                            on=dt.date(2026, 3, 2), calendar=CAL, rules=rules, override="fail", today=TODAY)
    done = evaluations.confirm(session=session, user=people["province"], round_id=row.id, code=z.code,
                               on=dt.date(2026, 3, 2), calendar=CAL, rules=rules, override="fail",
                               override_reason="核查发现服务机构数据造假", rectification_months="3", today=TODAY)
    assert (done["grade"], done["state"]) == ("fail", "rectifying")
    session.refresh(z)
    assert z.dates["rectification_ends"] == "2026-06-02"
    entry = session.scalars(select(EvaluationEntry).where(EvaluationEntry.zone_id == z.id)).one()
    assert (entry.confirmed_grade, entry.computed_grade, entry.override_reason) == ("fail", "pass", "核查发现服务机构数据造假")
    with pytest.raises(InputError) as caught:  # the state machine's own bound: 整改时限一般不超过六个月
        evaluations.confirm(session=session, user=people["province"], round_id=row.id, code=y.code,
                            on=dt.date(2026, 3, 2), calendar=CAL, rules=rules, override="fail",
                            override_reason="未完成评分，依核查结论认定", rectification_months="7", today=TODAY)
    assert caught.value.code == "bad_period"


def test_a_zone_in_rectification_cannot_be_graded_until_the_state_machine_allows_it(session, rules, people):
    z = zone(session, "rectifying")
    row = make_round(session, rules, people, [z])
    for who in ("e1", "e2", "city"):
        score(session, people[who], row, z, "80")
    with pytest.raises(ConflictError, match="运行整改期"):
        evaluations.confirm(session=session, user=people["province"], round_id=row.id, code=z.code,
                            on=dt.date(2026, 3, 2), calendar=CAL, rules=rules, today=TODAY)
    entry = session.scalars(select(EvaluationEntry).where(EvaluationEntry.zone_id == z.id)).one()
    assert entry.confirmed_grade is None


def test_participation_needs_a_reason_to_be_justified(session, rules, people):
    z = zone(session)
    row = make_round(session, rules, people, [z])
    with pytest.raises(InputError, match="请填写正当理由"):
        evaluations.set_participation(session=session, user=people["province"], round_id=row.id, code=z.code,
                                      participation="absent_justified", reason="  ")
    with pytest.raises(InputError, match="不能超过500个字符"):
        evaluations.set_participation(session=session, user=people["province"], round_id=row.id, code=z.code,
                                      participation="absent_justified", reason="理" * 501)
    with pytest.raises(PermissionDeniedError):
        evaluations.set_participation(session=session, user=people["city"], round_id=row.id, code=z.code,
                                      participation="absent")
    evaluations.set_participation(session=session, user=people["province"], round_id=row.id, code=z.code,
                                  participation="absent_justified", reason="园区整体搬迁，经省局同意暂缓评价")
    assert evaluations.excused_years(session, [z.id]) == {z.id: {2026}}
    with pytest.raises(ConflictError, match="未参加评价"):
        score(session, people["e1"], row, z, "80")
    evaluations.set_participation(session=session, user=people["province"], round_id=row.id, code=z.code,
                                  participation="absent", reason="ignored")
    entry = session.scalars(select(EvaluationEntry).where(EvaluationEntry.zone_id == z.id)).one()
    assert (entry.participation, entry.reason) == ("absent", "")
    assert evaluations.excused_years(session, [z.id]) == {z.id: set()}


def test_two_years_absent_without_reason_lead_to_the_revocation_proposal(session, rules, people):
    absent, came_back = zone(session), zone(session)
    for year in (2024, 2025):
        row = make_round(session, rules, people, [absent, came_back], year=year)
        evaluations.set_participation(session=session, user=people["province"], round_id=row.id, code=absent.code,
                                      participation="absent")
        if year == 2024:
            evaluations.set_participation(session=session, user=people["province"], round_id=row.id,
                                          code=came_back.code, participation="absent")
        else:
            for who in ("e1", "e2", "city"):
                score(session, people[who], row, came_back, "75")
            evaluations.confirm(session=session, user=people["province"], round_id=row.id, code=came_back.code,
                                on=dt.date(2025, 12, 1), calendar=CAL, rules=rules, today=TODAY)
    day = dt.date(2026, 1, 15)
    events = {z.code: zone_life.histories(session, [z.id])[z.id] for z in (absent, came_back)}
    suggested = {z.code: [o["code"] for o in zone_life.obligations(z, day, events[z.code], CAL)]
                 for z in (absent, came_back)}
    assert "revocation_suggested" in suggested[absent.code] and "revocation_suggested" not in suggested[came_back.code]
    done = zone_life.act(session=session, user=people["province"], code=absent.code, action="propose_revocation",
                         on=day, data={"reason": "1"}, calendar=CAL, rules=rules, today=TODAY)
    assert done["state"] == "revocation_proposed" and done["proposal"]["reason"] == 1
    with pytest.raises(InputError) as caught:
        zone_life.act(session=session, user=people["province"], code=came_back.code, action="propose_revocation",
                      on=day, data={"reason": "1"}, calendar=CAL, rules=rules, today=TODAY)
    assert caught.value.code == "reason_not_met"


def test_the_worklist_rows_of_each_role(session, rules, people):
    z = zone(session)
    row = make_round(session, rules, people, [z])

    def kinds(user) -> list[str]:
        return [r["kind"] for r in evaluations.worklist_items(session, user, TODAY) if r["zone_code"] == z.code]

    assert kinds(people["e1"]) == ["evaluation_scores"] and kinds(people["city"]) == ["evaluation_city_scores"]
    assert kinds(people["province"]) == [] and kinds(people["outsider"]) == [] and kinds(people["suzhou"]) == []
    item = evaluations.worklist_items(session, people["e1"], TODAY)[-1]
    assert item["action_url"] == f"/evaluations/{row.id}/zones/{z.code}" and item["role_label"] == "评审专家"
    assert set(item) >= {"zone_code", "zone_name", "city", "what", "kind", "kind_label", "since", "due", "overdue",
                         "workdays_left", "role", "action_url"}
    for who in ("e1", "e2", "city"):
        score(session, people[who], row, z, "80")
    assert kinds(people["e1"]) == [] and kinds(people["city"]) == [] and kinds(people["province"]) == [
        "evaluation_confirm"]
    evaluations.confirm(session=session, user=people["province"], round_id=row.id, code=z.code,
                        on=dt.date(2026, 11, 2), calendar=CAL, rules=rules, today=TODAY)
    assert kinds(people["province"]) == []
    assert kinds(people["applicant"]) == []


def test_a_year_absent_with_a_justified_reason_does_not_count_toward_revocation(session, rules, people):
    """连续两年无正当理由不参加绩效评价: a year absent with a recorded 正当理由 is no such year (the second of two)."""
    z = zone(session)
    for year, participation, reason in ((2024, "absent", ""), (2025, "absent_justified", "园区整体搬迁，经省局同意暂缓评价")):
        row = make_round(session, rules, people, [z], year=year)
        evaluations.set_participation(session=session, user=people["province"], round_id=row.id, code=z.code,
                                      participation=participation, reason=reason)
    day = dt.date(2026, 1, 15)
    events = zone_life.histories(session, [z.id])[z.id]
    assert [o["code"] for o in zone_life.obligations(z, day, events, CAL)].count("revocation_suggested") == 0
    with pytest.raises(InputError) as caught:
        zone_life.act(session=session, user=people["province"], code=z.code, action="propose_revocation",
                      on=day, data={"reason": "1"}, calendar=CAL, rules=rules, today=TODAY)
    assert caught.value.code == "reason_not_met"
    # the excused year is read by the state machine, never listed as a stored event
    assert all(e["action"] != "evaluation_excused"
               for e in zone_life.history(session=session, user=people["province"], code=z.code, excused=False))


def test_the_round_rows_join_each_users_worklist_under_its_filters(session, rules, people):
    from zonegeo.services.worklist import worklist

    z = zone(session)
    row = make_round(session, rules, people, [z])
    mine = [r for r in worklist(session=session, user=people["e1"], today=TODAY, calendar=CAL) if r["zone_code"] == z.code]
    assert [r["kind"] for r in mine] == ["evaluation_scores"]
    assert mine[0]["action_url"] == f"/evaluations/{row.id}/zones/{z.code}"
    city = worklist(session=session, user=people["city"], today=TODAY, calendar=CAL)
    assert "evaluation_city_scores" in [r["kind"] for r in city if r["zone_code"] == z.code]
    others = worklist(session=session, user=people["province"], today=TODAY, calendar=CAL, city="苏州市")
    assert not [r for r in others if r["zone_code"] == z.code]  # filtered out with its city


def test_a_justified_absence_leaves_every_worklist_and_page_working(session, rules, people, engine):
    """The excused year rides in the zone's history: the worklists and the zone's pages read past it."""
    from zonegeo.services.worklist import worklist

    z = zone(session, status="operating")
    row = make_round(session, rules, people, [z], year=2025)
    evaluations.set_participation(session=session, user=people["province"], round_id=row.id, code=z.code,
                                  participation="absent_justified", reason="园区整体搬迁，经省局同意暂缓评价")
    for role in ("province", "city", "e1"):
        rows = worklist(session=session, user=people[role], today=TODAY, calendar=CAL)
        assert all(r["kind"] in ("annual_report", "acceptance_due", "evaluation_scores", "evaluation_city_scores",
                                 "evaluation_confirm") or r["zone_code"] != z.code for r in rows)
    events = zone_life.history(session=session, user=people["province"], code=z.code)
    assert [e["action"] for e in events] == ["evaluation_excused"]
