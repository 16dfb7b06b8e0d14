"""One zone walked through its whole life over the API, each step by the role the regulation names."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from fastapi.testclient import TestClient

from tests.conftest import bearer
from zonegeo.api.app import create_app


@pytest.fixture
def as_role(settings, tokens):
    clients = {}

    def get(role: str) -> TestClient:
        if role not in clients:
            clients[role] = TestClient(create_app(settings), headers=bearer(tokens, role)).__enter__()
        return clients[role]

    yield get
    for c in clients.values():
        c.__exit__(None, None, None)


def act(client, code, action, on, **data):
    return client.post(f"/api/zones/{code}/lifecycle/{action}", json={"on": on, "data": data})


def test_a_zone_from_application_to_revocation(as_role):
    applicant, city, province, expert = (as_role(r) for r in ("applicant", "city", "province", "expert"))
    code = f"LIFE-{uuid.uuid4().hex[:6]}"
    r = applicant.post("/api/zones", json={"code": code, "name": "测试集聚区（测试）", "city": "南京市",
                                            "builder": "测试园区管委会"})
    assert r.status_code == 201 and r.json()["state"] == "draft"
    early = act(applicant, code, "submit", "2025-09-01")
    assert early.status_code == 422 and early.json()["code"] == "missing_material"
    for kind in ("application_form", "work_plan", "commitment"):
        content = f"{kind} PDF".encode()
        up = applicant.post(f"/api/zones/{code}/attachments", files={"file": (f"{kind}.pdf", content)},
                            data={"kind": kind})
        assert up.status_code == 201 and up.json()["sha256"] == hashlib.sha256(content).hexdigest()
    assert applicant.post(f"/api/zones/{code}/attachments", files={"file": ("l.pdf", b"x")},
                          data={"kind": "recommendation_letter"}).status_code == 403
    assert act(applicant, code, "submit", "2025-09-01").json()["state"] == "submitted"
    wrong = act(applicant, code, "recommend", "2025-09-02")
    assert wrong.status_code == 409 and "已申报" in wrong.json()["message"] and wrong.json()["detail"]["allowed"] == []
    assert act(city, code, "recommend", "2025-09-05").json()["code"] == "missing_material"
    city.post(f"/api/zones/{code}/attachments", files={"file": ("推荐函.pdf", b"letter")},
              data={"kind": "recommendation_letter"})
    assert act(city, code, "recommend", "2025-09-05").json()["state"] == "recommended"
    assert act(province, code, "start_review", "2025-09-10").json()["state"] == "under_review"
    assert province.post(f"/api/zones/{code}/experts", json={"expert": "expert-wang"}).status_code == 201
    opinion = expert.post(f"/api/zones/{code}/opinions", json={"opinion": "同意推荐", "recommend": True,
                                                             "site_visit": True})
    assert opinion.status_code == 201
    notice = act(province, code, "start_notice", "2025-09-29").json()
    assert notice["dates"]["notice_end"] == "2025-10-11"  # 5 working days over National Day (make-up Saturday)
    worklist = province.get("/api/worklist").json()["data"]
    assert any(w["zone_code"] == code and w["due"] == "2025-10-11" for w in worklist)
    too_soon = act(province, code, "approve", "2025-10-11")
    assert too_soon.status_code == 422 and too_soon.json()["code"] == "notice_not_over"
    approved = act(province, code, "approve", "2025-10-13").json()
    assert approved["state"] == "construction" and approved["dates"]["construction_ends"] == "2027-10-13"
    failed = act(province, code, "accept", "2027-10-20", result="fail").json()
    assert failed["state"] == "rectification" and failed["dates"]["rectification_ends"] == "2028-04-20"
    assert act(province, code, "accept", "2028-04-15", result="pass").json()["state"] == "operating"
    report = city.post(f"/api/zones/{code}/annual-reports", json={"year": 2028, "on": "2029-04-02"}).json()
    assert report == {"year": 2028, "due": "2029-03-31", "late": True}
    assert act(province, code, "evaluate", "2029-06-01", grade="pass").json()["state"] == "operating"
    revoked = act(province, code, "revoke", "2029-12-01", reason=4).json()
    assert revoked["state"] == "revoked" and "不配合" in revoked["note"]
    history = [h["action"] for h in province.get(f"/api/zones/{code}/lifecycle").json()["data"]]
    assert history == ["submit", "recommend", "start_review", "expert_opinion", "start_notice", "approve", "accept",
                       "accept", "annual_report", "evaluate", "revoke"]
    audit = province.get(f"/api/audit?object=zone/{code}").json()["data"]
    actions = {e["action"] for e in audit}
    assert {"zone_created", "attachment_added", "lifecycle_submit", "lifecycle_revoke", "expert_opinion"} <= actions
    assert city.get("/api/audit").status_code == 403
    assert province.get(f"/api/zones/{code}").json()["status"] == "revoked"


def test_revoked_zones_leave_the_public_map_and_stay_in_the_records(as_role, engine, tmp_path):
    from tests.conftest import import_demo_copy
    from zonegeo.db.session import session_factory, transaction
    from zonegeo.services.publishing import public_zones

    code = import_demo_copy(engine, tmp_path, "REV", published=True)  # in its construction period
    with transaction(session_factory(engine)) as session:
        assert code in [z.code for z, _ in public_zones(session)]
    r = act(as_role("province"), code, "revoke", "2026-11-02", reason=3)
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    with transaction(session_factory(engine)) as session:
        assert code not in [z.code for z, _ in public_zones(session)]
    assert as_role("public").get(f"/api/zones/{code}").status_code == 404
    assert as_role("province").get(f"/api/zones/{code}/report").status_code == 200
