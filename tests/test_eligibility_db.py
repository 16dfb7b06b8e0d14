"""Issue 9 §2 through the database: one credit code in two zones, and the report on the zone pages."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select, update

from tests.conftest import import_demo_copy
from zonegeo.db.models import Institution, Zone
from zonegeo.services import disclosure
from zonegeo.services.eligibility import zone_report


def _claims(report) -> list[dict]:
    found = [w for w in report.warnings if w.code == "credit_code_in_other_zone"]
    return found[0].detail["claims"] if found else []


def test_the_same_credit_code_in_two_zones_is_flagged(engine, session, rules, tmp_path):
    first = import_demo_copy(engine, tmp_path, "XZA")
    second = import_demo_copy(engine, tmp_path, "XZB")
    report = zone_report(session=session, code=first, rules=rules)
    claims = [c for c in _claims(report) if c["other_zone"] == second]
    assert claims, "the second zone lists the demo's institutions too"
    one = claims[0]
    assert one["name"] == one["other_name"] and one["address"] and one["other_address"]
    assert one["other_zone_name"].endswith(f"（{second}）")
    message = next(w.message for w in report.warnings if w.code == "credit_code_in_other_zone")
    assert second in message and one["other_address"] in message
    assert first not in {c["other_zone"] for c in _claims(report)}  # never its own zone
    # The public does not get credit-code findings.
    public = disclosure.report(disclosure.PUBLIC, report.to_dict())
    assert "credit_code_in_other_zone" not in json.dumps(public["warnings"], ensure_ascii=False)


def test_institutions_that_left_the_other_zone_are_not_flagged(engine, session, rules, tmp_path):
    first = import_demo_copy(engine, tmp_path, "XZC")
    second = import_demo_copy(engine, tmp_path, "XZD")
    other_id = session.scalar(select(Zone.id).where(Zone.code == second))
    session.execute(update(Institution).where(Institution.zone_id == other_id).values(left_on=dt.date.today()))
    report = zone_report(session=session, code=first, rules=rules)
    assert second not in {c["other_zone"] for c in _claims(report)}


def test_a_code_typed_with_spaces_in_lower_case_still_matches(engine, session, rules, tmp_path):
    first = import_demo_copy(engine, tmp_path, "XZE")
    second = import_demo_copy(engine, tmp_path, "XZF")
    other_id = session.scalar(select(Zone.id).where(Zone.code == second))
    row = session.scalars(select(Institution).where(Institution.zone_id == other_id, Institution.credit_code != "")
                          .order_by(Institution.id)).first()
    typed = row.credit_code
    row.credit_code = " ".join([typed[:9].lower(), typed[9:]])
    session.flush()
    claims = [c for c in _claims(zone_report(session=session, code=first, rules=rules)) if c["other_zone"] == second]
    assert typed in {c["credit_code"] for c in claims}


def test_the_zone_page_names_the_review_items_and_the_conclusion(client):
    page = client.get("/zones/NJ-DEMO-01")
    assert page.status_code == 200
    assert page.text.count('data-item="') == 6 and "需人工审核的事项" in page.text
    assert "结论：量化条件全部符合；以下事项需人工审核" in page.text
    assert "符合全部申报条件" not in page.text


def test_the_public_page_and_report_name_the_review_items(anon, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "PUBMR", published=True)
    report = anon.get(f"/api/zones/{code}/report").json()
    assert len(report["manual_review"]) == 6 and report["conclusion"].startswith("量化条件")
    assert report["areas"]["core_basis"] == "land" and {"core_land_m2", "core_floor_m2"} <= set(report["areas"])
    page = anon.get(f"/zones/{code}")
    assert page.status_code == 200
    assert page.text.count('data-item="') == 6 and report["conclusion"] in page.text


def test_other_kinds_and_links_are_stored_and_reported(session, rules, tmp_path):
    from tests.conftest import demo_copy
    from zonegeo.services.zones import import_zone

    folder, code = demo_copy(tmp_path, "OPEN")
    csv = folder / "institutions.csv"
    lines = csv.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    window = dict(zip(header, next(line.split(",") for line in lines[1:] if "业务窗口" in line), strict=True))
    extra = window | {"名称": "建邺区知识产权信息公共服务网点（演示）", "统一社会信用代码": "",
                      "类型": "知识产权信息公共服务网点", "链条环节": ""}
    first = dict(zip(header, lines[1].split(","), strict=True))
    lines[1] = ",".join((first | {"链条环节": first["链条环节"] + "、管理"})[h] for h in header)
    csv.write_text("\n".join([*lines, ",".join(extra[h] for h in header)]) + "\n", encoding="utf-8")
    import_zone(session=session, folder=folder)
    report = zone_report(session=session, code=code, rules=rules).to_dict()
    platform = next(p for p in report["institutions"]["platforms"] if p["kind"] == "other_platform")
    assert {k: v for k, v in platform.items() if k != "index"} == {
        "name": "建邺区知识产权信息公共服务网点（演示）", "kind": "other_platform",
        "kind_label": "知识产权信息公共服务网点", "inside": True}
    assert report["institutions"]["chain_other"] == {"管理": 1}
