"""The expert desk (评审工作台) on real PostGIS: the assigned expert's one form (答辩 and 实地考察 apart, the 需人工审核
items one by one), its bounds, the states it is open in, and who may read or write it."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select, text

from tests.conftest import PASSWORD
from tests.test_lifecycle_edges_api import zone_in
from zonegeo.db.models import ExpertOpinion, LifecycleEvent, ReviewRecord, Zone
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain import site_visit as desk_rules
from zonegeo.services import auth

TODAY = __import__("datetime").date.today().isoformat()


def assigned(engine, tmp_path, state: str = "under_review", dates: dict | None = None) -> str:
    return zone_in(engine, tmp_path, state, dates or {}, prefix="DESK", members={"expert-wang": "expert"})


@pytest.fixture(scope="module")
def stranger(engine, tokens) -> str:
    """An expert assigned to no zone of this module."""
    name = f"expert-s-{uuid.uuid4().hex[:6]}"
    with transaction(session_factory(engine)) as session:
        auth.add_user(session=session, username=name, password=PASSWORD, role="expert")
    return name


@pytest.fixture
def expert(web_as):
    return web_as("expert-wang")


def submit(c, code: str, **fields):
    """Stored: redirected back to the page (303); refused: the page again (422/409) with the form as typed."""
    r = c.post(f"/zones/{code}/expert", data={"csrf": c.csrf} | fields, follow_redirects=False)
    if r.status_code == 303:
        assert r.headers["location"] == f"/zones/{code}/expert#result"
        return c.get(f"/zones/{code}/expert")
    assert r.status_code in (409, 422) and 'class="flash flash-error"' in r.text, (r.status_code, r.text[:300])
    return r


def flash(page) -> str:
    m = re.search(r'id="result"[^>]*>(.*?)</div>', page.text, re.S)
    return m.group(1) if m else ""


def counts(engine, code: str) -> tuple[int, int, int]:
    with engine.connect() as conn:
        zone_id = conn.execute(select(Zone.id).where(Zone.code == code)).scalar()
        return (conn.execute(text("SELECT count(*) FROM review_record WHERE zone_id = :z"), {"z": zone_id}).scalar(),
                conn.execute(text("SELECT count(*) FROM expert_opinion WHERE zone_id = :z"), {"z": zone_id}).scalar(),
                conn.execute(text("SELECT count(*) FROM lifecycle_event WHERE zone_id = :z AND action = 'expert_opinion'"),
                             {"z": zone_id}).scalar())


FULL = {"hearing_on": TODAY, "hearing_opinion": "答辩清楚，运营团队稳定", "hearing_recommend": "yes",
        "inspection_on": TODAY, "inspection_opinion": "两家机构不在位，建议补充", "inspection_recommend": "no",
        "opinion": "基本符合条件，建议推荐", "recommend": "yes",
        "item_management": "meets", "item_industry_demand": "needs_more", "note_industry_demand": "请补充产业数据"}


def test_the_assigned_expert_sees_the_materials_links_and_one_form(expert, engine, tmp_path, rules):
    code = assigned(engine, tmp_path)
    page = expert.get(f"/zones/{code}/expert")
    assert page.status_code == 200 and 'id="opinion-form"' in page.text
    for href in (f"/zones/{code}/map", f"/zones/{code}/map/offline", f"/zones/{code}/visit", f'href="/zones/{code}"'):
        assert href in page.text
    assert page.text.count('class="item"') == len(rules.manual_review)
    assert 'id="part-hearing"' in page.text and 'id="part-inspection"' in page.text
    assert "<script>" not in page.text
    index = expert.get("/expert")
    assert index.status_code == 200 and f'data-code="{code}"' in index.text and 'id="nav-expert"' in index.text


def test_one_form_records_hearing_and_inspection_apart_and_the_items(expert, engine, tmp_path):
    code = assigned(engine, tmp_path)
    page = submit(expert, code, **FULL)
    assert "已记录2项人工审核结果" in flash(page) and "已提交评审意见（推荐）" in flash(page)
    with transaction(session_factory(engine)) as session:
        zone = session.scalars(select(Zone).where(Zone.code == code)).one()
        row = session.scalars(select(ExpertOpinion).where(ExpertOpinion.zone_id == zone.id)).one()
        assert (row.expert, row.recommend, row.hearing_recommend, row.inspection_recommend) == ("expert-wang", True, True,
                                                                                                False)
        assert row.hearing_opinion == FULL["hearing_opinion"] and row.inspection_on.isoformat() == TODAY
        event = session.get(LifecycleEvent, row.event_id)
        assert event.actor == "expert-wang" and event.data["site_visit"] is True
        assert event.data["inspection"]["opinion"] == FULL["inspection_opinion"]
        reviews = {r.item: (r.result, r.note, r.reviewer) for r in
                   session.scalars(select(ReviewRecord).where(ReviewRecord.zone_id == zone.id))}
        assert reviews == {"management": ("meets", "", "expert-wang"),
                           "industry_demand": ("needs_more", "请补充产业数据", "expert-wang")}
        audit = session.execute(text("SELECT actor, role FROM audit_log WHERE action = 'expert_opinion' AND object = :o"),
                                {"o": f"zone/{code}/lifecycle/{event.id}"}).all()
        assert [tuple(a) for a in audit] == [("expert-wang", "expert")]
    assert 'class="record opinion-record"' in page.text and "两家机构不在位" in page.text


def test_a_part_without_its_date_is_refused_and_nothing_is_stored(expert, engine, tmp_path):
    code = assigned(engine, tmp_path)
    page = submit(expert, code, **(FULL | {"hearing_on": ""}))
    assert page.status_code == 422
    assert "现场答辩：请填写日期" in flash(page) and "未保存任何内容" in flash(page)
    # what was typed is still in the form
    assert f'>{FULL["inspection_opinion"]}</textarea>' in page.text and f'value="{TODAY}"' in page.text
    assert 'value="needs_more" selected' in page.text and 'id="recommend-yes" value="yes" checked' in page.text
    assert counts(engine, code) == (0, 0, 0)  # the items marked in the same form were not kept either


@pytest.mark.parametrize("field,value,code_", [
    ("opinion", "评" * (desk_rules.MAX_OPINION_CHARS + 1), "text_too_long"),
    ("inspection_opinion", "察" * (desk_rules.MAX_OPINION_CHARS + 1), "text_too_long"),
    ("hearing_on", "2999-01-01", "date_in_future"),
    ("hearing_on", "2020-01-01", "date_too_old"),
    ("hearing_on", "昨天", "bad_date"),
    ("recommend", "", "missing_recommend"),
    ("note_management", "注" * (desk_rules.MAX_NOTE_CHARS + 1), "text_too_long"),
    ("item_management", "fails", "missing_note"),
    ("item_management", "也许", "bad_result"),
])
def test_bounds_and_vocabulary_are_checked(expert, engine, tmp_path, field, value, code_):
    code = assigned(engine, tmp_path)
    page = submit(expert, code, **(FULL | {field: value}))
    assert re.search(rf'data-code="{code_}"', page.text), flash(page)
    assert counts(engine, code) == (0, 0, 0)


def test_texts_exactly_at_the_limit_are_stored(expert, engine, tmp_path):
    code = assigned(engine, tmp_path)
    limit = desk_rules.MAX_OPINION_CHARS
    page = submit(expert, code, opinion="评" * limit, recommend="no", hearing_on=TODAY, hearing_opinion="答" * limit,
                  hearing_recommend="no", item_management="fails", note_management="注" * desk_rules.MAX_NOTE_CHARS)
    assert "已提交评审意见（不推荐）" in flash(page)
    with engine.connect() as conn:
        lengths = conn.execute(text("SELECT char_length(opinion), char_length(hearing_opinion), inspection_on "
                                    "FROM expert_opinion o JOIN zone z ON z.id = o.zone_id WHERE z.code = :c"),
                               {"c": code}).one()
    assert tuple(lengths) == (limit, limit, None)


def test_nothing_filled_in_is_named(expert, engine, tmp_path):
    code = assigned(engine, tmp_path)
    page = submit(expert, code)
    assert "请填写评审意见，或至少标记一项需人工审核事项" in flash(page)


def test_an_unassigned_expert_gets_403_and_no_form(web_as, stranger, engine, tmp_path):
    code = assigned(engine, tmp_path)
    c = web_as(stranger)
    page = c.get(f"/zones/{code}/expert")
    assert page.status_code == 403 and 'id="opinion-form"' not in page.text and "未被指派" in page.text
    r = c.post(f"/zones/{code}/expert", data={"csrf": c.csrf} | FULL, follow_redirects=False)
    assert r.status_code == 403
    assert c.get(f"/zones/{code}/visit").status_code == 403
    assert f'data-code="{code}"' not in c.get("/expert").text
    assert counts(engine, code) == (0, 0, 0)


def test_the_city_and_the_province_read_without_a_form_and_the_applicant_is_refused(web_as, expert, engine, tmp_path):
    code = assigned(engine, tmp_path)
    submit(expert, code, **FULL)
    for who in ("nanjing-bureau", "province-bureau"):
        c = web_as(who)
        page = c.get(f"/zones/{code}/expert")
        assert page.status_code == 200 and 'id="desk-readonly"' in page.text and 'id="opinion-form"' not in page.text
        assert "基本符合条件，建议推荐" in page.text and "expert-wang" in page.text
        refused = c.post(f"/zones/{code}/expert", data={"csrf": c.csrf} | FULL, follow_redirects=False)
        assert refused.status_code == 403
        assert c.get("/expert").status_code == 403
    applicant = web_as("demo-applicant")
    assert applicant.get(f"/zones/{code}/expert").status_code == 403
    assert counts(engine, code) == (2, 1, 1)


def test_outside_the_open_states_the_form_is_not_offered_and_a_post_gets_the_state_message(expert, engine, tmp_path):
    code = assigned(engine, tmp_path, "construction", {"approved_on": "2025-10-11", "construction_ends": "2027-10-11"})
    page = expert.get(f"/zones/{code}/expert")
    assert 'id="desk-closed"' in page.text and "建设期" in page.text and 'id="opinion-form"' not in page.text
    after = submit(expert, code, **FULL)
    assert "当前状态为“建设期”" in flash(after)
    assert counts(engine, code) == (0, 0, 0)


def test_when_recommended_the_items_are_open_and_the_opinion_waits_for_the_review(expert, engine, tmp_path):
    code = assigned(engine, tmp_path, "recommended")
    page = expert.get(f"/zones/{code}/expert")
    assert 'id="opinion-form"' in page.text and 'id="opinion-closed"' in page.text and 'id="part-hearing"' not in page.text
    ok = submit(expert, code, item_management="meets")
    assert "已记录1项人工审核结果" in flash(ok)
    refused = submit(expert, code, opinion="同意", recommend="yes", item_function_layout="meets")
    assert "不在专家评审阶段" in flash(refused)
    assert counts(engine, code) == (1, 0, 0)


def test_a_post_without_the_page_token_is_refused(expert, engine, tmp_path):
    code = assigned(engine, tmp_path)
    r = expert.post(f"/zones/{code}/expert", data={"csrf": "wrong"} | FULL, follow_redirects=False)
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    assert counts(engine, code) == (0, 0, 0)


def test_an_opinion_sent_through_the_api_is_stored_like_the_desks(expert, engine, tmp_path, client, tokens):
    """One way to an expert opinion: the API's lands in the same structured record the desk lists."""
    from tests.conftest import bearer

    code = assigned(engine, tmp_path)
    r = client.post(f"/api/zones/{code}/opinions", json={"opinion": "同意推荐（接口）", "recommend": True},
                    headers=bearer(tokens, "expert"))
    assert r.status_code == 201, r.text
    assert counts(engine, code) == (0, 1, 1)
    assert "同意推荐（接口）" in expert.get(f"/zones/{code}/expert").text
