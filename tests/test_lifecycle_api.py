"""One zone walked through its whole life over the API, each step by the role the regulation names."""

from __future__ import annotations

import hashlib
import uuid

from tests.conftest import DEMO

REVIEW_ITEMS = ("management", "industry_demand", "function_layout", "industry_match", "supporting_services",
                "institution_nature")


def act(client, code, action, on, **data):
    return client.post(f"/api/zones/{code}/lifecycle/{action}", json={"on": on, "data": data})


def approved_layout(applicant, province, code) -> None:
    """The demo boundary uploaded by the applicant, submitted, and approved by the province."""
    content = (DEMO / "boundary.geojson").read_bytes()
    up = applicant.post(f"/api/zones/{code}/uploads", files=[("files", ("boundary.geojson", content))],
                        data={"roles": ["boundary"]})
    assert up.status_code == 201, up.text
    number = up.json()["version"]
    assert applicant.post(f"/api/zones/{code}/versions/{number}/submit", json={}).status_code == 200
    assert province.post(f"/api/zones/{code}/versions/{number}/approve", json={}).status_code == 200


def test_a_zone_from_application_to_revocation(as_role):
    applicant, city, province, expert = (as_role(r) for r in ("applicant", "city", "province", "expert"))
    code = f"LIFE-{uuid.uuid4().hex[:6]}"
    r = applicant.post("/api/zones", json={"code": code, "name": "测试集聚区（测试）", "city": "南京市",
                                            "builder": "测试园区管委会", "operator": "测试运营有限公司"})
    assert r.status_code == 201 and r.json()["state"] == "draft"
    early = act(applicant, code, "submit", "2023-09-01")
    assert early.status_code == 422 and early.json()["code"] == "missing_material"
    for kind in ("application_form", "work_plan", "commitment"):
        content = f"{kind} PDF".encode()
        up = applicant.post(f"/api/zones/{code}/attachments", files={"file": (f"{kind}.pdf", content)},
                            data={"kind": kind})
        assert up.status_code == 201 and up.json()["sha256"] == hashlib.sha256(content).hexdigest()
    assert applicant.post(f"/api/zones/{code}/attachments", files={"file": ("l.pdf", b"x")},
                          data={"kind": "recommendation_letter"}).status_code == 403
    assert act(applicant, code, "submit", "2023-09-01").json()["state"] == "submitted"
    wrong = act(applicant, code, "recommend", "2023-09-02")
    assert wrong.status_code == 409 and "已申报" in wrong.json()["message"] and wrong.json()["detail"]["allowed"] == []
    assert act(city, code, "recommend", "2023-09-05").json()["code"] == "missing_material"
    city.post(f"/api/zones/{code}/attachments", files={"file": ("推荐函.pdf", b"letter")},
              data={"kind": "recommendation_letter"})
    assert act(city, code, "recommend", "2023-09-05").json()["state"] == "recommended"
    assert act(province, code, "start_review", "2023-09-11").json()["state"] == "under_review"
    assert province.post(f"/api/zones/{code}/experts", json={"expert": "expert-wang"}).status_code == 201
    opinion = expert.post(f"/api/zones/{code}/opinions", json={"opinion": "同意推荐", "recommend": True,
                                                             "site_visit": True})
    assert opinion.status_code == 201
    # 公示 from Monday 25 September 2023: 5 working days over National Day end on make-up Saturday 7 October.
    notice = act(province, code, "start_notice", "2023-09-25").json()
    assert notice["dates"]["notice_end"] == "2023-10-07"
    blocked = act(province, code, "approve", "2023-10-07")
    assert blocked.status_code == 409 and blocked.json()["code"] == "approval_blocked"
    missing = [m["code"] for m in blocked.json()["detail"]["missing"]]
    assert missing == ["no_approved_layout"] + ["review_missing"] * len(REVIEW_ITEMS) + ["notice_not_over"]
    assert "没有已批准的空间布局版本" in blocked.json()["message"] and "公示期" in blocked.json()["message"]
    approved_layout(applicant, province, code)
    for item in REVIEW_ITEMS:
        rec = expert.post(f"/api/zones/{code}/reviews", json={"item": item, "result": "符合", "note": "材料齐全"})
        assert rec.status_code == 201, rec.text
    # approved on Sunday 8 October 2023 (a make-up working day): two years end on 8 October 2025, a holiday,
    # so the construction period ends on Thursday 9 October 2025
    approved = act(province, code, "approve", "2023-10-08").json()
    assert approved["state"] == "construction" and approved["dates"]["construction_ends"] == "2025-10-09"
    assert approved["dates"]["deadlines"]["construction_ends"] == {"nominal": "2025-10-08", "due": "2025-10-09",
                                                                   "provisional": False}
    failed = act(province, code, "accept", "2025-10-20", result="不合格").json()
    assert failed["state"] == "rectification" and failed["dates"]["rectification_ends"] == "2026-04-20"
    assert act(province, code, "accept", "2026-04-15", result="合格").json()["state"] == "operating"
    report = city.post(f"/api/zones/{code}/annual-reports", json={"year": 2025, "on": "2026-04-02"}).json()
    assert report == {"year": 2025, "due": "2026-03-31", "nominal_due": "2026-03-31", "late": True,
                      "provisional": False}
    assert act(province, code, "evaluate", "2026-06-01", grade="合格").json()["state"] == "operating"
    revoked = act(province, code, "revoke", "2026-07-01", reason=4).json()
    assert revoked["state"] == "revoked" and "不配合" in revoked["note"]
    history = [h["action"] for h in province.get(f"/api/zones/{code}/lifecycle").json()["data"]]
    assert history == ["submit", "recommend", "start_review", "expert_opinion", "start_notice", "approve", "accept",
                       "accept", "annual_report", "evaluate", "revoke"]
    audit = province.get(f"/api/audit?object=zone/{code}").json()["data"]
    actions = {e["action"] for e in audit}
    assert {"zone_created", "attachment_added", "lifecycle_submit", "lifecycle_revoke", "expert_opinion",
            "review_recorded", "version_approve"} <= actions
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
