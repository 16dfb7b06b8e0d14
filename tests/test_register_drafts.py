"""Institution lists go through review (issue 12, "Institution lists bypass review"): an institutions upload makes
a register draft and never touches the zone's institutions or makes a layout version; the province's approval
applies it (with how each institution was located), alone or with the layout version it came with."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from tests.conftest import DEMO, app_client, bearer, import_demo_copy
from zonegeo.db import repo
from zonegeo.db.models import AuditEntry, Institution, RegisterDraft, Zone, ZoneVersion
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain import register
from zonegeo.domain.model import ChainLink, InstitutionKind
from zonegeo.domain.model import Institution as DomainInstitution
from zonegeo.errors import ConflictError, InputError
from zonegeo.services import access

LINES = (DEMO / "institutions.csv").read_text(encoding="utf-8").splitlines()  # a header and 20 institutions


def roster(n: int) -> bytes:
    """The demo register's first ``n`` institutions."""
    return ("\n".join(LINES[:n + 1]) + "\n").encode()


@pytest.fixture
def zone_code(engine, tmp_path, tokens):
    """A zone of its own (the demo under a new code, 20 institutions) owned by the applicant."""
    code = import_demo_copy(engine, tmp_path, "RG")
    with transaction(session_factory(engine)) as session:
        access.add_member(session=session, code=code, username="demo-applicant", relation_="applicant")
    return code


@pytest.fixture
def applicant(settings, tokens):
    with app_client(settings, headers=bearer(tokens, "applicant")) as c:
        yield c


def upload(client, code, *files, **form):
    parts = [("files", (name, data)) for name, data, _ in files]
    return client.post(f"/api/zones/{code}/uploads", files=parts,
                       data={"roles": [role for _, _, role in files], "crs": ["EPSG:4490"] * len(files), **form})


def stored(engine, code):
    """(version numbers, active institutions as (name, located_by), register drafts as (number, state, version))."""
    with engine.connect() as conn:
        zone_id = conn.scalar(select(Zone.id).where(Zone.code == code))
        numbers = conn.scalars(select(ZoneVersion.number).where(ZoneVersion.zone_id == zone_id)
                               .order_by(ZoneVersion.number)).all()
        insts = conn.execute(select(Institution.name, Institution.located_by).where(
            Institution.zone_id == zone_id, Institution.left_on.is_(None)).order_by(Institution.id)).all()
        drafts = conn.execute(select(RegisterDraft.number, RegisterDraft.state, RegisterDraft.version_number)
                              .where(RegisterDraft.zone_id == zone_id).order_by(RegisterDraft.number)).all()
    return list(numbers), [tuple(i) for i in insts], [tuple(d) for d in drafts]


def counted(client, code) -> int:
    return client.get(f"/api/zones/{code}/report").json()["institutions"]["counted"]


def act(client, code, number, action, note=""):
    return client.post(f"/api/zones/{code}/register-drafts/{number}/{action}", json={"note": note})


def audit_actions(engine, code) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(AuditEntry.action).where(AuditEntry.object.like(f"zone/{code}/register/%"))
                                 .order_by(AuditEntry.id)))


# ---- institutions only ---------------------------------------------------------------------------------------

def test_an_institutions_only_upload_makes_a_register_draft_and_changes_nothing(client, anon, applicant, engine,
                                                                                zone_code):
    before = stored(engine, zone_code)
    public_before = client.get(f"/api/zones/{zone_code}/report").json()
    assert public_before["institutions"]["counted"] >= 15
    r = upload(applicant, zone_code, ("名录.csv", roster(10), "institutions"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["version"], body["register_draft"], body["state"], body["created"]) == (None, 1, "draft", True)
    assert body["institutions"] == {"entered": 0, "left": 10, "updated": 0}  # what approval would do
    assert body["report"]["institutions"]["total"] == 10  # the draft's own report counts its rows
    assert body["report"]["zone"]["register_draft"] == 1
    versions_after, insts_after, drafts = stored(engine, zone_code)
    assert versions_after == before[0] == [1]  # no layout version for an institutions-only upload
    assert insts_after == before[1] and len(insts_after) == 20  # the institution table is untouched
    assert drafts == [(1, "draft", None)]
    assert client.get(f"/api/zones/{zone_code}/report").json()["institutions"] == public_before["institutions"]
    # the draft: its rows (how each was located), its report beside the approved register's
    detail = client.get(f"/api/zones/{zone_code}/register-drafts/1").json()
    assert len(detail["rows"]) == 10 and {r["located_by"] for r in detail["rows"]} == {"coordinates"}
    assert {r["located_label"] for r in detail["rows"]} == {"按坐标"}
    assert detail["report"]["institutions"]["counted"] < 15 <= detail["approved_report"]["institutions"]["counted"]
    assert detail["approved_report"]["institutions"]["counted"] == public_before["institutions"]["counted"]
    assert detail["layout_version"] == 1 and detail["allowed_actions"] == ["submit", "withdraw"]
    listed = client.get(f"/api/zones/{zone_code}/register-drafts").json()
    assert listed["count"] == 1 and listed["data"][0]["state_label"] == "草稿"
    assert audit_actions(engine, zone_code) == ["upload_register"]
    # the public sees no draft (the list and the page need a login) and an unchanged report
    assert anon.get(f"/api/zones/{zone_code}/register-drafts").status_code == 401


def test_approving_the_register_changes_the_institutions_and_the_count(client, applicant, engine, zone_code):
    start = counted(client, zone_code)
    assert upload(applicant, zone_code, ("名录.csv", roster(10), "institutions")).status_code == 201
    assert act(client, zone_code, 1, "approve").status_code == 409  # a draft is submitted first
    r = act(applicant, zone_code, 1, "approve")
    assert r.status_code == 403  # the applicant never approves
    assert act(applicant, zone_code, 1, "submit").json()["state"] == "submitted"
    assert counted(client, zone_code) == start  # submitted is not approved
    done = act(client, zone_code, 1, "approve", "材料齐全")
    assert done.status_code == 200, done.text
    assert done.json()["institutions"] == {"entered": 0, "left": 10, "updated": 0}
    _, insts, drafts = stored(engine, zone_code)
    assert len(insts) == 10 and {by for _, by in insts} == {"coordinates"}  # located_by stored
    assert drafts == [(1, "approved", None)]
    assert counted(client, zone_code) < start and counted(client, zone_code) <= 10
    # a second register, approved, supersedes the first
    assert upload(applicant, zone_code, ("名录.csv", roster(20), "institutions")).json()["register_draft"] == 2
    act(applicant, zone_code, 2, "submit")
    assert act(client, zone_code, 2, "approve").json()["superseded"] == [1]
    _, insts, drafts = stored(engine, zone_code)
    assert len(insts) == 20 and [d[1] for d in drafts] == ["superseded", "approved"]
    assert counted(client, zone_code) == start
    assert audit_actions(engine, zone_code) == ["upload_register", "register_submit", "register_approve",
                                                "upload_register", "register_submit", "register_approve"]


def test_return_needs_a_comment_and_withdraw_keeps_the_draft(client, applicant, engine, zone_code):
    upload(applicant, zone_code, ("名录.csv", roster(12), "institutions"))
    act(applicant, zone_code, 1, "submit")
    r = act(client, zone_code, 1, "return", "  ")
    assert r.status_code == 422 and r.json()["code"] == "return_needs_comment" and "退回意见" in r.json()["message"]
    assert stored(engine, zone_code)[2] == [(1, "submitted", None)]  # nothing half-stored
    assert act(applicant, zone_code, 1, "return", "请补充").status_code == 403  # the province returns
    r = act(client, zone_code, 1, "return", "第3行信用代码有误，请核实后重新上传")
    assert r.status_code == 200 and r.json()["state"] == "returned"
    detail = applicant.get(f"/api/zones/{zone_code}/register-drafts/1").json()
    assert detail["note"] == "第3行信用代码有误，请核实后重新上传" and detail["decided_by"] == "province-bureau"
    assert detail["allowed_actions"] == ["withdraw"]
    r = act(applicant, zone_code, 1, "submit")
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    assert "已退回" in r.json()["message"] and "不能提交" in r.json()["message"]
    # a returned register was decided: its rows are no longer placed or confirmed (a new upload corrects it)
    r = applicant.post(f"/api/zones/{zone_code}/register-drafts/1/rows/1/place", json={"lon": 118.735, "lat": 32.006})
    assert r.status_code == 409 and r.json()["code"] == "register_not_editable"
    assert act(applicant, zone_code, 1, "withdraw", "改日重新上传").json()["state"] == "withdrawn"
    # the applicant's note is audited, the province's 退回意见 stays on the draft
    assert applicant.get(f"/api/zones/{zone_code}/register-drafts/1").json()["note"] == "第3行信用代码有误，请核实后重新上传"
    r = act(client, zone_code, 1, "approve")
    assert r.status_code == 409 and "当前没有可执行的操作" in r.json()["message"]
    _, insts, drafts = stored(engine, zone_code)
    assert len(insts) == 20 and drafts == [(1, "withdrawn", None)]
    assert act(client, zone_code, 9, "submit").status_code == 404
    assert act(client, zone_code, 1, "bogus").status_code in (404, 405)


def test_an_identical_institutions_upload_returns_the_same_draft(applicant, engine, zone_code):
    first = upload(applicant, zone_code, ("名录.csv", roster(15), "institutions"))
    again = upload(applicant, zone_code, ("名录.csv", roster(15), "institutions"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["created"] is False and again.json()["register_draft"] == 1
    assert again.json()["report"]["institutions"] == first.json()["report"]["institutions"]
    other = upload(applicant, zone_code, ("名录.csv", roster(16), "institutions"))
    assert other.status_code == 201 and other.json()["register_draft"] == 2
    assert stored(engine, zone_code)[0] == [1]
    # once submitted, the same files make a new draft (a draft only is returned again)
    act(applicant, zone_code, 2, "submit")
    assert upload(applicant, zone_code, ("名录.csv", roster(16), "institutions")).json()["register_draft"] == 3


# ---- with a layout version ------------------------------------------------------------------------------------

def test_layout_and_institutions_make_a_tied_pair_approved_together(client, applicant, engine, zone_code):
    start = counted(client, zone_code)
    boundary = (DEMO / "boundary.geojson").read_bytes()
    files = (("boundary.geojson", boundary, "boundary"), ("名录.csv", roster(10), "institutions"))
    r = upload(applicant, zone_code, *files)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["version"], body["register_draft"], body["register_state"]) == (2, 1, "draft")
    assert body["report"]["institutions"]["total"] == 10  # the layout draft's report counts the register's rows
    assert {i["role"] for i in body["report"]["inputs"]} >= {"boundary", "institutions"}
    again = upload(applicant, zone_code, *files)
    assert (again.status_code, again.json()["version"], again.json()["register_draft"]) == (200, 2, 1)
    assert stored(engine, zone_code)[2] == [(1, "draft", 2)]
    assert counted(client, zone_code) == start  # the zone's report: the approved layout, approved institutions
    # the draft's map shows the draft's institutions, the approved layout's map the approved ones
    eleventh = LINES[11].split(",")[0]
    assert eleventh not in client.get(f"/zones/{zone_code}/versions/2/map").text
    assert eleventh in client.get(f"/zones/{zone_code}/versions/1/map").text
    # tied: decided with its version, not on its own
    r = act(applicant, zone_code, 1, "submit")
    assert r.status_code == 409 and r.json()["code"] == "register_tied_to_version" and "版本2" in r.json()["message"]
    assert applicant.get(f"/api/zones/{zone_code}/register-drafts/1").json()["allowed_actions"] == ["withdraw"]
    r = applicant.post(f"/api/zones/{zone_code}/versions/2/submit", json={})
    assert r.status_code == 200, r.text
    assert stored(engine, zone_code)[2] == [(1, "submitted", 2)]
    assert act(client, zone_code, 1, "approve").json()["code"] == "register_tied_to_version"
    r = client.post(f"/api/zones/{zone_code}/versions/2/approve", json={})
    assert r.status_code == 200, r.text
    versions_after, insts, drafts = stored(engine, zone_code)
    assert versions_after == [1, 2] and drafts == [(1, "approved", 2)] and len(insts) == 10
    assert counted(client, zone_code) < start
    assert audit_actions(engine, zone_code) == ["upload_register", "register_submit", "register_approve"]
    with engine.connect() as conn:
        after = conn.scalars(select(AuditEntry.after).where(AuditEntry.action == "register_approve",
                                                            AuditEntry.object == f"zone/{zone_code}/register/1")).one()
    assert after["with_version"] == 2 and after["institutions"]["left"] == 10


def test_a_returned_register_is_not_approved_with_its_version(client, applicant, engine, zone_code):
    files = (("core.geojson", (DEMO / "core.geojson").read_bytes(), "core"), ("名录.csv", roster(10), "institutions"))
    assert upload(applicant, zone_code, *files).json()["version"] == 2
    applicant.post(f"/api/zones/{zone_code}/versions/2/submit", json={})
    assert act(client, zone_code, 1, "return", "名录与楼栋不符").json()["state"] == "returned"
    assert client.post(f"/api/zones/{zone_code}/versions/2/approve", json={}).status_code == 200
    _, insts, drafts = stored(engine, zone_code)
    assert drafts == [(1, "returned", 2)] and len(insts) == 20  # the layout approved, the institutions not


def test_withdrawing_a_version_withdraws_its_register(applicant, engine, zone_code):
    files = (("core.geojson", (DEMO / "core.geojson").read_bytes(), "core"), ("名录.csv", roster(10), "institutions"))
    assert upload(applicant, zone_code, *files).json()["register_draft"] == 1
    r = applicant.post(f"/api/zones/{zone_code}/versions/2/withdraw", json={})
    assert r.status_code == 200, r.text
    assert stored(engine, zone_code)[2] == [(1, "withdrawn", 2)]


def test_the_last_layout_is_not_withdrawn_while_a_register_of_its_own_needs_it(applicant, engine):
    """A new application's only layout (v1, with its register 1) and a register uploaded alone (2, checked against
    v1): withdrawing v1 would leave register 2 with no layout, so it is refused until register 2 is withdrawn."""
    code = f"RGW-{uuid.uuid4().hex[:6]}"
    r = applicant.post("/api/zones", json={"code": code, "name": "撤回测试", "city": "南京市", "builder": "某公司"})
    assert r.status_code == 201, r.text
    layout = [(f"{role}.geojson", (DEMO / f"{role}.geojson").read_bytes(), role)
              for role in ("boundary", "core", "buildings")]
    assert upload(applicant, code, *layout, ("名录.csv", roster(10), "institutions")).json()["version"] == 1
    assert upload(applicant, code, ("名录2.csv", roster(12), "institutions")).json()["register_draft"] == 2
    r = applicant.post(f"/api/zones/{code}/versions/1/withdraw", json={})
    assert r.status_code == 409 and r.json()["code"] == "layout_needed_by_register", r.text
    assert "机构名录草稿2" in r.json()["message"]
    assert stored(engine, code)[0] == [1] and stored(engine, code)[2] == [(1, "draft", 1), (2, "draft", None)]
    assert applicant.get(f"/api/zones/{code}/register-drafts/2").status_code == 200
    assert act(applicant, code, 2, "withdraw").status_code == 200
    assert applicant.post(f"/api/zones/{code}/versions/1/withdraw", json={}).status_code == 200
    assert stored(engine, code)[2] == [(1, "withdrawn", 1), (2, "withdrawn", None)]


# ---- how each institution was located ----------------------------------------------------------------------

def test_located_by_building_is_stored_and_reported(client, applicant, engine, zone_code):
    # the first three demo rows without coordinates (placed at their 楼栋), the rest with coordinates
    placed = [",".join([*line.split(",")[:5], "", "", line.split(",")[7], "A座 知识产权大厦", line.split(",")[9]])
              for line in LINES[1:4]]
    data = ("\n".join([LINES[0], *placed, *LINES[4:]]) + "\n").encode()
    r = upload(applicant, zone_code, ("名录.csv", data, "institutions"))
    assert r.status_code == 201, r.text
    located = r.json()["report"]["institutions"]["located"]
    assert [e["located_label"] for e in located[:4]] == ["按楼栋定位"] * 3 + ["按坐标"]
    assert all(e["inside"] for e in located[:3])
    detail = client.get(f"/api/zones/{zone_code}/register-drafts/1").json()
    assert [row["located_by"] for row in detail["rows"][:4]] == ["building", "building", "building", "coordinates"]
    act(applicant, zone_code, 1, "submit")
    done = act(client, zone_code, 1, "approve").json()
    assert done["institutions"] == {"entered": 0, "left": 0, "updated": 3}  # placed at 楼栋 now: moved
    _, insts, _ = stored(engine, zone_code)
    assert [by for _, by in insts[:4]] == ["building", "building", "building", "coordinates"]
    report = client.get(f"/api/zones/{zone_code}/report").json()["institutions"]["located"]
    assert [e["located_label"] for e in report[:4]] == ["按楼栋定位"] * 3 + ["按坐标"]


def test_the_register_page_shows_rows_effect_and_actions(client, applicant, zone_code):
    upload(applicant, zone_code, ("名录.csv", roster(10), "institutions"))
    page = applicant.get(f"/zones/{zone_code}/register-drafts/1")
    assert page.status_code == 200
    assert "按坐标" in page.text and "范围内" in page.text and 'id="action-submit"' in page.text
    assert 'id="action-approve"' not in page.text  # the applicant's buttons only
    act(applicant, zone_code, 1, "submit")
    page = client.get(f"/zones/{zone_code}/register-drafts/1")
    assert 'id="action-approve"' in page.text and 'id="action-return"' in page.text
    assert 'id="action-submit"' not in page.text
    assert client.get(f"/zones/{zone_code}/register-drafts/7").status_code == 404


# ---- the state machine and the rows, pure --------------------------------------------------------------------

def test_the_register_state_machine():
    assert register.allowed_actions("draft") == ["submit", "withdraw"]
    assert register.allowed_actions("submitted") == ["approve", "return"]
    assert register.allowed_actions("returned") == ["withdraw"]
    assert register.allowed_actions("approved") == register.allowed_actions("withdrawn") == []
    assert register.step("submitted", "return", number=3, note="请补充").target == "returned"
    with pytest.raises(InputError) as e:
        register.step("submitted", "return", number=3)
    assert e.value.code == "return_needs_comment"
    with pytest.raises(InputError) as e:
        register.step("submitted", "return", number=3, note="长" * (register.MAX_NOTE + 1))
    assert e.value.code == "note_too_long"
    with pytest.raises(ConflictError) as e:
        register.step("approved", "approve", number=3)
    assert e.value.message == "机构名录草稿3当前状态为“已批准”，不能批准；当前没有可执行的操作"
    with pytest.raises(InputError):
        register.step("draft", "publish", number=3)
    register.check_untied("submit", number=1, version_number=None, version_state=None)
    register.check_untied("submit", number=1, version_number=2, version_state="approved")
    register.check_untied("withdraw", number=1, version_number=2, version_state="draft")
    with pytest.raises(ConflictError):
        register.check_untied("approve", number=1, version_number=2, version_state="submitted")


def test_rows_keep_every_field():
    inst = DomainInstitution(name="甲", credit_code="91320105MA1XXXXX0X", lon=118.7, lat=32.0,
                             kind=InstitutionKind.OTHER_PLATFORM, services=("代理", "咨询"),
                             chain=(ChainLink.CREATION, ChainLink.TALENT), address="某路1号", building="1号楼",
                             floor="5", kind_label="知识产权信息公共服务网点", chain_other=("评估",),
                             located_by="building")
    row = register.to_row(inst)
    assert register.from_row(row) == inst
    assert repo.rows_sha256([row]) == repo.rows_sha256([dict(reversed(row.items()))])
    assert repo.rows_sha256([row]) != repo.rows_sha256([row | {"floor": "6"}])


def test_register_numbers_are_per_zone(session, engine, zone_code, rules, tmp_path):
    other = import_demo_copy(engine, tmp_path, "RG2")
    from zonegeo.services.uploads import UploadedFile, upload_version

    path = tmp_path / "名录.csv"
    path.write_bytes(roster(5))
    numbers = [upload_version(session=session, code=code, rules=rules, uploaded_by="t",
                              files=[UploadedFile(path, "名录.csv", "institutions", crs="EPSG:4490")]).register_draft
               for code in (zone_code, other)]
    assert numbers == [1, 1]
    assert session.scalar(select(func.count()).select_from(RegisterDraft)
                          .join(Zone, Zone.id == RegisterDraft.zone_id).where(Zone.code.in_([zone_code, other]))) == 2


def test_the_zone_page_lists_register_drafts_for_those_who_see_drafts(client, anon, applicant, zone_code):
    upload(applicant, zone_code, ("名录.csv", roster(10), "institutions"))
    act(applicant, zone_code, 1, "submit")
    act(client, zone_code, 1, "return", "请补充信用代码")
    page = client.get(f"/zones/{zone_code}").text
    assert 'id="register-draft-1"' in page and 'data-state="returned"' in page
    assert f'href="/zones/{zone_code}/register-drafts/1"' in page and "退回意见：请补充信用代码" in page
    assert 'id="register-draft-1"' in applicant.get(f"/zones/{zone_code}").text
    # the public sees no register drafts (the zone is published by the fixture or not: either way no draft)
    public = anon.get(f"/zones/{zone_code}")
    assert "register-draft-1" not in public.text
