"""The city's and the province's decisions on pages (issue 13): /zones/{code}/decide shows only what the state
machine allows this role now, each decision a CSRF-protected form that redirects back with the state machine's
Chinese message; irreversible ones need the confirmation box; /zones/{code}/versions/{n}/decide approves or
returns (with a comment) a submitted layout version. Every refusal stores nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from tests.conftest import DEMO, app_client, bearer, web
from tests.test_lifecycle_edges_api import zone_in
from tests.test_register_drafts import roster, upload
from tests.test_zone_desk import flash, states, upload_core
from zonegeo.db import repo
from zonegeo.db.models import Attachment, AuditEntry, LifecycleEvent, RegisterDraft, ZoneVersion
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain import decisions, lifecycle
from zonegeo.services import auth

NOTICED = {"notice_start": "2026-01-05", "notice_end": "2026-01-09"}


@pytest.fixture
def city(web_as):
    return web_as("nanjing-bureau")


@pytest.fixture
def province(web_as):
    return web_as("province-bureau")


@pytest.fixture
def applicant(web_as):
    return web_as("demo-applicant")


@pytest.fixture
def api(settings, tokens):
    with app_client(settings, headers=bearer(tokens, "province")) as c:
        yield c


def owned(engine, tmp_path, status: str, dates: dict[str, str] | None = None, prefix: str = "DEC") -> str:
    return zone_in(engine, tmp_path, status, dates or {}, prefix=prefix, members={"demo-applicant": "applicant"})


@pytest.fixture(scope="module")
def seen(engine, tmp_path_factory):
    """``seen("submitted")``: one zone per state for the module's tests that only read it or are refused (each
    checks that nothing changed); tests whose decisions go through get their own from ``owned``."""
    made: dict[tuple, str] = {}

    def zone(state: str, dates: dict[str, str] | None = None) -> str:
        key = (state, tuple(sorted((dates or {}).items())))
        if key not in made:
            made[key] = owned(engine, tmp_path_factory.mktemp("decisions"), state, dates)
        return made[key]

    return zone


def status(engine, code: str) -> str:
    with transaction(session_factory(engine)) as s:
        return repo.get_zone(s, code).status


def count(engine, model, code: str) -> int:
    with transaction(session_factory(engine)) as s:
        zone = repo.get_zone(s, code)
        return len(s.scalars(select(model).where(model.zone_id == zone.id)).all())


def post(c, code: str, action: str, files=None, **form):
    return c.post(f"/zones/{code}/decide/{action}", data={"csrf": c.csrf, **form}, files=files,
                  follow_redirects=False)


def shown(c, code: str) -> str:
    return c.get(f"/zones/{code}/decide").text


def actions_on(page: str) -> list[str]:
    return re.findall(r'class="decision" id="action-([a-z_]+)"', page)


# ---- the page offers what the state machine allows -------------------------------------------------------------

@pytest.mark.parametrize(("state", "who"), [("submitted", "city"), ("submitted", "province"),
                                            ("recommended", "province"), ("noticed", "province"),
                                            ("operating", "province"), ("construction", "city")])
def test_the_page_offers_exactly_the_allowed_actions(state, who, city, province, seen):
    code = seen(state, NOTICED if state == "noticed" else {"accepted_on": "2024-01-10"})
    page = shown(city if who == "city" else province, code)
    assert actions_on(page) == lifecycle.allowed_actions(state, who)
    assert f'data-state="{state}"' in page and 'id="step-bar"' in page
    if not lifecycle.allowed_actions(state, who):
        assert "没有需要您办理的事项" in page


def test_every_action_a_bureau_may_take_has_its_fields_and_irreversible_ones_a_confirmation():
    for action, t in lifecycle.TRANSITIONS.items():
        if set(t.roles) & {"city", "province"}:
            assert action in decisions.FIELDS, action
    form = {f.action: f for f in decisions.forms("noticed", "province")}
    assert form["approve"].irreversible and form["reject"].irreversible and not form["objection"].irreversible
    assert [f.name for f in form["reject"].fields] == ["reason"] and form["reject"].fields[0].required
    revoke = decisions.forms("operating", "province")[-1]
    assert revoke.action == "revoke" and [v for v, _ in revoke.fields[0].choices] == ["3", "4", "5", "6"]


def test_an_applicant_sees_no_buttons_and_is_refused_every_decision(applicant, engine, seen):
    code = seen("submitted")
    page = shown(applicant, code)
    assert actions_on(page) == [] and "您没有办理本集聚区事项的权限" in page and "<button" not in page.split('id="decisions"')[1]
    for action in ("recommend", "return", "reject"):
        assert post(applicant, code, action, reason="x").status_code == 403
    assert applicant.post(f"/zones/{code}/decide/experts", data={"csrf": applicant.csrf, "expert": "expert-wang"},
                          follow_redirects=False).status_code == 403
    assert 'id="decide-link"' not in applicant.get(f"/zones/{code}").text
    assert status(engine, code) == "submitted"


def test_a_city_bureau_of_another_city_may_not_act(settings, engine, seen, tokens):
    with transaction(session_factory(engine)) as s:
        if s.scalar(select(auth.User).where(auth.User.username == "suzhou-bureau")) is None:
            from tests.conftest import PASSWORD
            auth.add_user(session=s, username="suzhou-bureau", password=PASSWORD, role="city", city="苏州市")
    code = seen("submitted")
    c = web(settings, "suzhou-bureau")
    try:
        assert post(c, code, "return", reason="不是本市").status_code in (403, 404)
    finally:
        c.__exit__(None, None, None)
    assert status(engine, code) == "submitted"


def test_a_post_without_the_page_token_is_refused(city, engine, seen):
    code = seen("submitted")
    r = city.post(f"/zones/{code}/decide/return", data={"csrf": "forged", "reason": "x"}, follow_redirects=False)
    assert r.status_code == 403 and status(engine, code) == "submitted"


# ---- the city: recommend with the letter, or return -------------------------------------------------------------

def test_the_city_recommends_with_the_letter_uploaded_on_the_form(city, engine, tmp_path):
    code = owned(engine, tmp_path, "submitted")
    r = post(city, code, "recommend")  # no letter: the state machine's message, nothing stored
    assert r.status_code == 303 and r.headers["location"] == f"/zones/{code}/decide#action-recommend"
    page = shown(city, code)
    assert flash(page) == "推荐须附设区市知识产权局推荐函" and 'data-code="missing_material"' in page
    assert status(engine, code) == "submitted" and count(engine, Attachment, code) == 0
    assert flash(shown(city, code)) == ""  # shown once
    r = post(city, code, "recommend", files={"letter": ("推荐函.pdf", b"%PDF-1.4 letter", "application/pdf")})
    assert r.status_code == 303 and r.headers["location"].endswith("#state")
    assert "已办理：推荐；当前状态：设区市已推荐" in flash(shown(city, code))
    assert status(engine, code) == "recommended"
    with transaction(session_factory(engine)) as s:
        zone = repo.get_zone(s, code)
        kinds = s.scalars(select(Attachment.kind).where(Attachment.zone_id == zone.id)).all()
        event = s.scalars(select(LifecycleEvent).where(LifecycleEvent.zone_id == zone.id)).all()[-1]
        audit = s.scalars(select(AuditEntry).where(AuditEntry.object == f"zone/{code}",
                                                   AuditEntry.action == "lifecycle_recommend")).one()
    assert kinds == ["recommendation_letter"] and event.actor == "nanjing-bureau" and audit.actor == "nanjing-bureau"


def test_a_refused_recommendation_does_not_keep_the_uploaded_letter(city, engine, tmp_path):
    code = owned(engine, tmp_path, "recommended")
    post(city, code, "recommend", files={"letter": ("推荐函.pdf", b"%PDF letter", "application/pdf")})
    message = flash(shown(city, code))
    assert "当前状态为“设区市已推荐”，设区市知识产权局不能“推荐”" in message
    assert count(engine, Attachment, code) == 0  # rolled back with the refusal


def test_the_city_returns_with_comments_and_a_return_without_them_is_refused(city, engine, tmp_path):
    code = owned(engine, tmp_path, "submitted")
    post(city, code, "return", reason="  ")
    assert flash(shown(city, code)) == "退回须说明理由（data.reason）" and status(engine, code) == "submitted"
    post(city, code, "return", reason="申报表缺少盖章页")
    assert status(engine, code) == "draft"
    with transaction(session_factory(engine)) as s:
        zone = repo.get_zone(s, code)
        event = s.scalars(select(LifecycleEvent).where(LifecycleEvent.zone_id == zone.id)).all()[-1]
    assert event.action == "return" and event.data["reason"] == "申报表缺少盖章页"


# ---- the province: dates, confirmations, refusals -------------------------------------------------------------

def test_irreversible_decisions_need_the_confirmation_box(province, engine, tmp_path):
    code = owned(engine, tmp_path, "recommended")
    post(province, code, "reject", reason="不符合条件")
    page = shown(province, code)
    assert 'data-code="not_confirmed"' in page and "请先勾选确认" in flash(page)
    assert status(engine, code) == "recommended"
    post(province, code, "reject", confirm="yes")  # confirmed, but no reason: the state machine's message
    assert flash(shown(province, code)) == "不予批准须说明理由（data.reason）" and status(engine, code) == "recommended"
    post(province, code, "reject", confirm="yes", reason="不符合条件")
    assert status(engine, code) == "rejected"
    assert actions_on(shown(province, code)) == []


@pytest.mark.parametrize(("on", "code_", "text"), [("2026-13-40", "bad_date", "日期“2026-13-40”不正确"),
                                                   ("2999-01-01", "future_date", "只能登记已经发生的事项"),
                                                   ("1990-01-01", "bad_date", "早于2000年")])
def test_a_bad_date_is_named_and_nothing_happens(on, code_, text, province, engine, seen):
    code = seen("recommended")
    post(province, code, "start_review", on=on)
    page = shown(province, code)
    assert f'data-code="{code_}"' in page and text in flash(page) and status(engine, code) == "recommended"


def test_an_action_not_allowed_now_gets_the_state_machines_message(province, city, engine, seen):
    code = seen("recommended")
    post(province, code, "approve", confirm="yes")
    assert flash(shown(province, code)).startswith("当前状态为“设区市已推荐”，省知识产权局不能“批复同意建设”")
    post(city, code, "start_review")  # the city's role may not
    assert "设区市知识产权局不能“组织专家评审”" in flash(shown(city, code))
    post(province, code, "publish")
    assert flash(shown(province, code)) == "未知的操作“publish”"
    assert status(engine, code) == "recommended"


def test_approval_with_missing_conditions_lists_them(province, engine, seen):
    code = seen("noticed", NOTICED)
    post(province, code, "approve", confirm="yes", on=dt.date.today().isoformat())
    message = flash(shown(province, code))
    assert message.startswith("尚不能批复，缺少以下条件") and "没有专家评审意见" in message
    assert status(engine, code) == "noticed"


def test_results_and_periods_are_checked(province, engine, tmp_path):
    code = owned(engine, tmp_path, "operating", {"approved_on": "2021-01-04", "accepted_on": "2023-01-04"})
    post(province, code, "evaluate", grade="很好")
    assert "评价结果（data.grade）“很好”不正确" in flash(shown(province, code))
    post(province, code, "evaluate", grade="fail", rectification_months="9")
    assert "应为1–6个月" in flash(shown(province, code)) and status(engine, code) == "operating"
    post(province, code, "evaluate", grade="fail", rectification_months="4")
    assert status(engine, code) == "rectifying"
    post(province, code, "close_rectification", result="pass")
    assert status(engine, code) == "operating"
    post(province, code, "revoke", reason="2", confirm="yes")  # reason 2 is the system's to propose
    assert "不能直接取消" in flash(shown(province, code)) and status(engine, code) == "operating"
    post(province, code, "revoke", reason="5", confirm="yes")
    assert status(engine, code) == "revoked"


def test_the_province_assigns_experts_while_the_review_is_organised(province, engine, tmp_path):
    code = owned(engine, tmp_path, "recommended")
    page = shown(province, code)
    assert 'id="expert-select"' in page and "尚未指派" in page
    form = {"csrf": province.csrf}
    province.post(f"/zones/{code}/decide/experts", data=form | {"expert": "demo-applicant"}, follow_redirects=False)
    assert "角色不是expert" in flash(shown(province, code))
    province.post(f"/zones/{code}/decide/experts", data=form | {"expert": "expert-wang"}, follow_redirects=False)
    page = shown(province, code)
    assert "已指派评审专家：expert-wang" in flash(page) and "（expert-wang）" in page.split('id="assigned"')[1][:200]
    done = owned(engine, tmp_path, "construction", {"approved_on": "2025-01-06", "construction_ends": "2027-01-06"})
    province.post(f"/zones/{done}/decide/experts", data=form | {"expert": "expert-wang"}, follow_redirects=False)
    assert "不能指派评审专家" in flash(shown(province, done))


# ---- layout versions: approve or return ------------------------------------------------------------------------

def submitted_draft(api, engine, tmp_path, grow: float = 1.2) -> tuple[str, int]:
    code = owned(engine, tmp_path, "construction", {"approved_on": "2025-01-06", "construction_ends": "2027-01-06"},
                 prefix="VD")
    number = upload_core(api, code, grow)
    assert api.post(f"/api/zones/{code}/versions/{number}/submit", json={}).status_code == 200
    return code, number


def vpost(c, code: str, number: int, action: str, **form):
    return c.post(f"/zones/{code}/versions/{number}/decide/{action}", data={"csrf": c.csrf, **form},
                  follow_redirects=False)


def test_the_version_page_shows_both_maps_the_diff_the_report_and_the_actions(api, province, engine, tmp_path):
    code, number = submitted_draft(api, engine, tmp_path)
    page = province.get(f"/zones/{code}/versions/{number}/decide").text
    assert f'src="/zones/{code}/versions/{number}/map"' in page and f'src="/zones/{code}/versions/1/map"' in page
    assert f'href="/zones/{code}/versions/1/diff/{number}/map"' in page
    assert 'data-material="true"' in page and 'data-layer="core"' in page and "核心区变化" in page
    assert 'id="report-conclusion"' in page and 'id="approve-confirm"' in page and 'id="return-note"' in page
    assert f'id="decide-version-{number}"' in province.get(f"/zones/{code}").text
    desk = province.get(f"/zones/{code}/decide").text
    assert f'<a href="/zones/{code}/versions/{number}/decide">审批版本{number}</a>' in desk


def test_approving_a_version_needs_the_confirmation_and_sets_the_effective_date(api, province, engine, tmp_path):
    code, number = submitted_draft(api, engine, tmp_path)
    r = vpost(province, code, number, "approve", effective_on="2026-03-02")
    assert r.status_code == 303 and r.headers["location"] == f"/zones/{code}/versions/{number}/decide#actions"
    assert "请先勾选确认" in flash(province.get(r.headers["location"]).text)
    assert states(engine, code)[number] == "submitted"
    vpost(province, code, number, "approve", effective_on="2026-03-02", confirm="yes")
    page = province.get(f"/zones/{code}/versions/{number}/decide").text
    assert f"版本{number}已批准，自2026-03-02起生效" in flash(page) and 'data-state="approved"' in page
    with transaction(session_factory(engine)) as s:
        v = repo.get_version(s, repo.get_zone(s, code), number)
        assert v.effective_on == dt.date(2026, 3, 2) and v.decided_by == "province-bureau"
    assert states(engine, code)[1] == "superseded"
    vpost(province, code, number, "approve", confirm="yes")  # twice: the state machine's message
    assert "当前状态为“已批准”，不能批准" in flash(province.get(f"/zones/{code}/versions/{number}/decide").text)


def test_a_returned_version_carries_its_comment_to_the_applicant(api, province, applicant, engine, tmp_path):
    code, number = submitted_draft(api, engine, tmp_path)
    vpost(province, code, number, "return", note="   ")
    assert "须填写意见" in flash(province.get(f"/zones/{code}/versions/{number}/decide").text)
    assert states(engine, code)[number] == "submitted"
    vpost(province, code, number, "return", note="核心区东侧超出四至范围，请修正")
    assert states(engine, code)[number] == "draft"
    page = applicant.get(f"/zones/{code}").text
    assert re.search(rf'id="version-note-{number}">省知识产权局退回意见：核心区东侧超出四至范围，请修正<', page)
    # the applicant corrects and submits again
    r = applicant.post(f"/zones/{code}/versions/{number}/submit", data={"csrf": applicant.csrf}, follow_redirects=False)
    assert r.status_code == 303 and states(engine, code)[number] == "submitted"
    with transaction(session_factory(engine)) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "version_return",
                                                   AuditEntry.object == f"zone/{code}/version/{number}")).one()
        assert entry.actor == "province-bureau" and entry.after["note"] == "核心区东侧超出四至范围，请修正"


def test_only_the_province_decides_versions(api, applicant, city, engine, tmp_path):
    code, number = submitted_draft(api, engine, tmp_path)
    for c in (applicant, city):
        assert vpost(c, code, number, "approve", confirm="yes").status_code == 403
        assert vpost(c, code, number, "return", note="x").status_code == 403
    page = city.get(f"/zones/{code}/versions/{number}/decide").text
    assert "版本的批准和退回由省知识产权局办理" in page and 'id="approve-confirm"' not in page
    assert states(engine, code)[number] == "submitted"


def test_an_unknown_version_action_and_a_forged_token_are_refused(api, province, engine, tmp_path):
    code, number = submitted_draft(api, engine, tmp_path)
    vpost(province, code, number, "withdraw", confirm="yes")
    assert 'data-code="unknown_action"' in province.get(f"/zones/{code}/versions/{number}/decide").text
    r = province.post(f"/zones/{code}/versions/{number}/decide/approve", data={"csrf": "no", "confirm": "yes"},
                      follow_redirects=False)
    assert r.status_code == 403 and states(engine, code)[number] == "submitted"


def test_the_return_api_needs_a_comment_and_a_submitted_version(api, engine, tmp_path, tokens, settings):
    code, number = submitted_draft(api, engine, tmp_path)
    r = api.post(f"/api/zones/{code}/versions/{number}/return", json={"note": ""})
    assert r.status_code == 422 and r.json()["code"] == "missing_note"
    r = api.post(f"/api/zones/{code}/versions/{number}/return", json={"note": "x" * 2001})
    assert r.status_code == 422 and r.json()["code"] == "note_too_long"
    with app_client(settings, headers=bearer(tokens, "applicant")) as c:
        assert c.post(f"/api/zones/{code}/versions/{number}/return", json={"note": "x"}).status_code == 403
    r = api.post(f"/api/zones/{code}/versions/{number}/return", json={"note": "请补充建筑层数"})
    assert r.status_code == 200 and r.json()["state"] == "draft" and r.json()["note"] == "请补充建筑层数"
    r = api.post(f"/api/zones/{code}/versions/{number}/return", json={"note": "再退一次"})
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    with transaction(session_factory(engine)) as s:
        assert repo.get_version(s, repo.get_zone(s, code), number).note == "请补充建筑层数"


def test_returning_a_version_returns_its_register_draft_with_the_comment(api, engine, tmp_path):
    code = owned(engine, tmp_path, "construction", {"approved_on": "2025-01-06", "construction_ends": "2027-01-06"},
                 prefix="VR")
    files = (("core.geojson", (DEMO / "core.geojson").read_bytes(), "core"), ("名录.csv", roster(18), "institutions"))
    r = upload(api, code, *files)
    assert r.status_code in (200, 201), r.text
    number, draft = r.json()["version"], r.json()["register_draft"]
    assert api.post(f"/api/zones/{code}/versions/{number}/submit", json={}).status_code == 200
    r = api.post(f"/api/zones/{code}/versions/{number}/return", json={"note": "名录缺两家机构"})
    assert r.status_code == 200, r.text
    with transaction(session_factory(engine)) as s:
        zone = repo.get_zone(s, code)
        row = s.scalars(select(RegisterDraft).where(RegisterDraft.zone_id == zone.id,
                                                    RegisterDraft.number == draft)).one()
        assert (row.state, row.note) == ("returned", "名录缺两家机构")
        assert s.scalars(select(ZoneVersion.state).where(ZoneVersion.zone_id == zone.id,
                                                         ZoneVersion.number == number)).one() == "draft"
    # resubmitting the layout as it is would leave the returned register behind: refused, saying what to do
    r = api.post(f"/api/zones/{code}/versions/{number}/submit", json={})
    assert r.status_code == 409 and r.json()["code"] == "register_returned_with_version", r.text
    assert "名录缺两家机构" in r.json()["message"] and "撤回该名录草稿" in r.json()["message"]
    assert api.post(f"/api/zones/{code}/register-drafts/{draft}/withdraw", json={}).status_code == 200
    assert api.post(f"/api/zones/{code}/versions/{number}/submit", json={}).status_code == 200


def test_the_approved_version_and_a_missing_one(province, engine, tmp_path):
    code = owned(engine, tmp_path, "construction", {"approved_on": "2025-01-06", "construction_ends": "2027-01-06"})
    page = province.get(f"/zones/{code}/versions/1/decide")
    assert page.status_code == 200 and "本版本即现行已批准的版本" in page.text and 'id="diff"' not in page.text
    assert "没有可办理的事项" in page.text and 'id="approve-confirm"' not in page.text
    assert province.get(f"/zones/{code}/versions/99/decide").status_code == 404
    assert province.get("/zones/NO-SUCH-ZONE/decide").status_code == 404


def test_a_nul_in_a_multipart_field_is_refused_before_anything_is_stored(city, engine, seen):
    code = seen("submitted")
    r = city.post(f"/zones/{code}/decide/return", data={"csrf": city.csrf, "reason": "退回\x00意见"},
                  files={"letter": ("推荐函.pdf", b"%PDF", "application/pdf")}, follow_redirects=False)
    assert r.status_code == 422 and status(engine, code) == "submitted" and count(engine, Attachment, code) == 0
