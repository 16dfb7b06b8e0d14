"""需人工审核 items recorded by the assigned experts and the province: who, when, what, and approval waits for them."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import app_client, bearer
from tests.test_lifecycle_edges_api import zone_in


@pytest.fixture
def expert(settings, tokens):
    with app_client(settings, headers=bearer(tokens, "expert")) as c:
        yield c


@pytest.fixture
def applicant(settings, tokens):
    with app_client(settings, headers=bearer(tokens, "applicant")) as c:
        yield c


def test_an_assigned_expert_records_items_and_everyone_sees_reviewer_date_result_note(client, expert, engine,
                                                                                      tmp_path, rules):
    code = zone_in(engine, tmp_path, "under_review", {}, prefix="REV")
    body = {"item": "management", "result": "需补充", "note": "缺少管理人员名单"}
    assert expert.post(f"/api/zones/{code}/reviews", json=body).status_code == 404  # not assigned: not visible
    assert client.post(f"/api/zones/{code}/experts", json={"expert": "expert-wang"}).status_code == 201
    first = expert.post(f"/api/zones/{code}/reviews", json=body)
    assert first.status_code == 201, first.text
    assert first.json() | {"id": 0} == {"id": 0, "item": "management", "title": "管理科学高效", "result": "needs_more",
                                        "result_label": "需补充", "note": "缺少管理人员名单", "reviewer": "expert-wang",
                                        "role": "expert", "date": dt.date.today().isoformat()}
    again = client.post(f"/api/zones/{code}/reviews", json={"item": "management", "result": "meets"})
    assert again.status_code == 201 and again.json()["reviewer"] == "province-bureau"
    listed = expert.get(f"/api/zones/{code}/reviews").json()
    assert [i["id"] for i in listed["items"]] == [i.id for i in rules.manual_review]
    management = listed["items"][0]
    assert management["result"] == "meets" and [r["reviewer"] for r in management["records"]] == [
        "expert-wang", "province-bureau"]
    assert listed["recorded"] == 1 and listed["total"] == len(rules.manual_review) and not listed["complete"]


@pytest.mark.parametrize("body,field", [
    ({"item": "no-such-item", "result": "符合"}, "item"),
    ({"item": "management", "result": "合格"}, "result"),
    ({"item": "management", "result": "不符合"}, "note"),
    ({"item": "management", "result": "需补充", "note": "  "}, "note"),
])
def test_bad_review_input_is_422_naming_the_field(client, engine, tmp_path, body, field):
    code = zone_in(engine, tmp_path, "under_review", {}, prefix="REV")
    r = client.post(f"/api/zones/{code}/reviews", json=body)
    assert r.status_code == 422 and r.json()["detail"]["field"] == field, r.text


def test_only_reviewers_record_and_only_before_the_decision(client, applicant, engine, tmp_path):
    r = applicant.post("/api/zones/NJ-DEMO-01/reviews", json={"item": "management", "result": "符合"})
    assert r.status_code == 403
    assert applicant.get("/api/zones/NJ-DEMO-01/reviews").status_code == 403
    closed = client.post("/api/zones/NJ-DEMO-01/reviews", json={"item": "management", "result": "符合"})
    assert closed.status_code == 409 and closed.json()["code"] == "review_closed"  # the demo zone is in construction
    code = zone_in(engine, tmp_path, "noticed", {"notice_end": "2024-01-05"}, prefix="REV")
    assert client.post(f"/api/zones/{code}/reviews", json={"item": "management", "result": "符合"}).status_code == 201


def test_approval_lists_the_unrecorded_and_unfinished_items(client, engine, tmp_path, rules):
    code = zone_in(engine, tmp_path, "noticed", {"notice_end": "2024-01-05"}, prefix="REV")
    client.post(f"/api/zones/{code}/reviews", json={"item": "management", "result": "需补充", "note": "补充名单"})
    client.post(f"/api/zones/{code}/reviews", json={"item": "industry_demand", "result": "不符合", "note": "无主导产业"})
    r = client.post(f"/api/zones/{code}/lifecycle/approve", json={"on": "2024-01-08", "data": {
        "layout_approved": True, "reviews": {i.id: "meets" for i in rules.manual_review}}})  # facts are not taken
    assert r.status_code == 409
    codes = [m["code"] for m in r.json()["detail"]["missing"]]
    assert codes[:2] == ["no_recommendation", "no_expert_opinion"]
    assert codes[2:] == ["review_needs_more", "review_fails"] + ["review_missing"] * (len(rules.manual_review) - 2)
    assert "管理科学高效" in r.json()["message"] and "产业需求强烈" in r.json()["message"]
