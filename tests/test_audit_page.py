"""The audit trail on a page (/audit, /zones/{code}/audit), its .xlsx export and GET /api/audit's filters."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from tests.conftest import import_demo_copy
from zonegeo.db.models import AuditEntry
from zonegeo.domain import audit_labels
from zonegeo.services import access, audit, auth
from zonegeo.services.templates_kit import XLSX_TYPE

SRC = Path(__file__).resolve().parents[1] / "src" / "zonegeo"


@pytest.fixture(scope="module")
def other_zone(engine, tmp_path_factory) -> str:
    """A zone the applicant does not own (imported, so it has audit entries of its own)."""
    return import_demo_copy(engine, tmp_path_factory.mktemp("audit"), "AUD")


# ---- labels -------------------------------------------------------------------------------------------------------

def written_actions() -> tuple[set[str], set[str]]:
    """The action codes the code base writes: literal ones, and the prefixes of composed ones (f"lifecycle_{…}")."""
    literal, prefixes = set(), set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"audit\.record\(\s*[\w.()]+,\s*[\w.()]+,\s*(f?)\"([^\"]*)\"", text):
            if m.group(1):
                prefixes.add(m.group(2).split("{")[0])
            else:
                literal.add(m.group(2))
        literal |= set(re.findall(r"action=\"(register_row_\w+)\"", text))  # register rows: _save_row(action=…)
    return literal, prefixes


def test_every_action_the_code_writes_has_a_chinese_label():
    literal, prefixes = written_actions()
    calls = sum(p.read_text(encoding="utf-8").count("audit.record(") for p in SRC.rglob("*.py"))
    assert calls >= 25 and len(literal) >= 20  # the scan found the calls (not a vacuous pass)
    missing = sorted(a for a in literal if not audit_labels.known(a))
    assert not missing, f"audit actions without a label in domain/audit_labels.py: {missing}"
    assert prefixes == set(audit_labels.PREFIXED), prefixes
    for code in literal:
        assert re.search(r"[\u4e00-\u9fff]", audit_labels.action_label(code)), code
    # a composed code is labelled for every transition of its state machine
    from zonegeo.domain import lifecycle, register, versions
    for prefix, machine in (("lifecycle_", lifecycle.TRANSITIONS), ("version_", versions.TRANSITIONS),
                            ("register_", register.TRANSITIONS)):
        for action in machine:
            assert audit_labels.known(prefix + action)
            assert audit_labels.action_label(prefix + action) != prefix + action


def test_every_action_stored_so_far_has_a_label(as_role, other_zone, session):
    stored = set(session.scalars(select(AuditEntry.action).distinct()))
    assert {"import_zone", "token_created", "member_added", "user_added"} <= stored  # the fixtures' writes
    assert not sorted(a for a in stored if not audit_labels.known(a))


def test_sentences_read_as_chinese():
    assert audit_labels.sentence("version_submit", "zone/A/version/3") == "提交空间布局版本3"
    assert audit_labels.sentence("register_approve", "zone/A/register/2") == "批准机构名录草稿2"
    assert audit_labels.sentence("login", "user/demo") == "登录"
    assert audit_labels.sentence("lifecycle_approve", "zone/A") == "批复同意建设"
    assert audit_labels.sentence("register_row_place", "zone/A/register/2/row/5") == "定位机构名录草稿2第5家机构"
    assert audit_labels.sentence("upload_version", "zone/A/version/1") == "上传空间布局版本1"
    assert audit_labels.sentence("no_such_thing", "x/y") == "no_such_thing x/y"  # unknown: shown, not an error
    assert audit_labels.zone_code("zone/NJ-1/version/2") == "NJ-1" and audit_labels.zone_code("user/x") is None


def test_the_diff_shows_what_changed_and_folds_long_values():
    rows = audit_labels.diff({"state": "submitted", "same": 1}, {"state": "approved", "same": 1, "note": "长" * 100})
    assert [(r["key"], r["old"], r["new"]) for r in rows] == [("state", "submitted", "approved"),
                                                                ("note", "—", "长" * 100)]
    assert [r["long"] for r in rows] == [False, True]
    assert audit_labels.diff(None, None) == []
    assert audit_labels.diff(None, 5) == [{"key": "值", "old": "—", "new": "5", "long": False}]
    assert audit_labels.diff_text({"published": False}, {"published": True}) == "published: 否 → 是"
    nested = audit_labels.diff(None, {"institutions": {"left": 2, "entered": 1}, "files": ["a.shp", "b.csv"]})
    assert {r["key"]: r["new"] for r in nested} == {"institutions": "{entered：1；left：2}", "files": "[a.shp、b.csv]"}


# ---- the page -----------------------------------------------------------------------------------------------------

def row_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr data-id="(\d+)"', html)]


def zones_of(html: str) -> set[str]:
    return set(re.findall(r'<tr data-id="\d+" data-action="[^"]*" data-zone="([^"]*)"', html))


def test_the_province_sees_everything_with_filters_kept_in_the_form(as_role, demo_zone, other_zone, session):
    province = as_role("province")
    page = province.get("/audit")
    assert page.status_code == 200 and "<h1>审计日志</h1>" in page.text
    newest = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(50)).all()
    assert row_ids(page.text)[:5] == [e.id for e in newest][:5]
    assert "登录" in page.text or "导入集聚区" in page.text
    # filter by zone and action: only those entries, the form keeps the choice
    r = province.get("/audit", params={"zone": other_zone, "action": "import_zone"})
    assert r.status_code == 200
    assert zones_of(r.text) == {other_zone} and set(re.findall(r'data-action="([^"]*)"', r.text)) == {"import_zone"}
    assert f'<option value="{other_zone}" selected>' in r.text and '<option value="import_zone" selected>' in r.text
    assert f"导入集聚区集聚区{other_zone}" not in r.text  # the sentence names the zone once
    # by user and date (Beijing days): today's entries of demo-applicant only
    today = dt.datetime.now(audit.BEIJING).date().isoformat()
    r = province.get("/audit", params={"user": "demo-applicant", "date_from": today, "date_to": today})
    assert r.status_code == 200 and 'value="demo-applicant"' in r.text and f'value="{today}"' in r.text
    expected = session.scalar(select(AuditEntry.id).where(AuditEntry.actor == "demo-applicant")
                              .order_by(AuditEntry.id.desc()).limit(1))
    assert (row_ids(r.text)[:1] == [expected]) if expected else "没有符合条件的审计记录" in r.text
    r = province.get("/audit", params={"date_from": "2001-01-01", "date_to": "2001-01-02"})
    assert "没有符合条件的审计记录" in r.text and "共0条" in r.text


def test_bad_filters_get_a_chinese_message_not_a_500(as_role):
    province = as_role("province")
    r = province.get("/audit", params={"date_from": "2026-13-01"})
    assert r.status_code == 422 and "格式不正确" in r.text and 'role="alert"' in r.text
    r = province.get("/audit", params={"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert r.status_code == 422 and "晚于" in r.text
    r = province.get("/audit", params={"limit": "201"})
    assert r.status_code == 422 and "1到200" in r.text
    r = province.get("/audit", params={"offset": "x"})
    assert r.status_code == 422 and "不是整数" in r.text
    r = province.get("/audit.xlsx", params={"date_to": "nope"})
    assert r.status_code == 422 and r.json()["code"] == "bad_date"


def test_an_applicant_never_sees_another_zones_entries(as_role, demo_zone, other_zone, session):
    applicant = as_role("applicant")
    own_zones = {z.code for z in access.visible_zones(session, auth.get_user(session, "demo-applicant"))}
    assert demo_zone in own_zones and other_zone not in own_zones  # (other tests may give it zones of its own)
    r = applicant.get("/audit", params={"limit": 200})
    assert r.status_code == 200
    assert demo_zone in zones_of(r.text) and zones_of(r.text) <= own_zones  # no login lines, no other zone
    assert other_zone not in r.text
    # asking for the other zone by filter gives nothing, and its page does not exist for the applicant
    r = applicant.get("/audit", params={"zone": other_zone})
    assert r.status_code == 200 and row_ids(r.text) == []
    assert applicant.get(f"/zones/{other_zone}/audit").status_code == 404
    own = applicant.get(f"/zones/{demo_zone}/audit")
    assert own.status_code == 200 and zones_of(own.text) == {demo_zone}
    # the export is scoped the same way
    x = applicant.get("/audit.xlsx", params={"zone": other_zone})
    assert x.status_code == 200 and sheet_rows(x.content)[1:] == []
    ids = [int(r[0]) for r in sheet_rows(applicant.get("/audit.xlsx").content)[1:]]
    objects = session.scalars(select(AuditEntry.object).where(AuditEntry.id.in_(ids))).all()
    assert ids and all(audit_labels.zone_code(o) in own_zones for o in objects)
    # a city sees its city's zones (both demo copies are in 南京市); an expert its assigned zone
    city_zones = {z.code for z in access.visible_zones(session, auth.get_user(session, "nanjing-bureau"))}
    assert other_zone in zones_of(as_role("city").get("/audit", params={"zone": other_zone}).text)
    assert zones_of(as_role("city").get("/audit", params={"limit": 200}).text) <= city_zones
    expert_zones = {z.code for z in access.visible_zones(session, auth.get_user(session, "expert-wang"))}
    seen = zones_of(as_role("expert").get("/audit", params={"limit": 200}).text)
    assert demo_zone in seen and seen <= expert_zones and other_zone not in seen
    assert as_role("expert").get(f"/zones/{other_zone}/audit").status_code == 404


def test_paging_walks_every_entry_once(as_role, demo_zone, session):
    province = as_role("province")
    total = session.scalar(select(AuditEntry.id).where(AuditEntry.object.like(f"zone/{demo_zone}%"))
                           .order_by(AuditEntry.id.desc()).limit(1))
    assert total
    first = province.get(f"/zones/{demo_zone}/audit", params={"limit": 2})
    assert first.status_code == 200 and len(row_ids(first.text)) == 2 and 'id="audit-prev"' not in first.text
    nxt = re.search(r'href="([^"]+)" id="audit-next"', first.text)
    assert nxt
    url = nxt.group(1).replace("&amp;", "&")
    assert url.startswith(f"/zones/{demo_zone}/audit?") and "offset=2" in url and "limit=2" in url
    second = province.get(url)
    assert second.status_code == 200 and 'id="audit-prev"' in second.text
    assert set(row_ids(first.text)).isdisjoint(row_ids(second.text))
    seen, url_ = [], f"/zones/{demo_zone}/audit?limit=3"
    while url_:
        page = province.get(url_).text
        seen += row_ids(page)
        m = re.search(r'href="([^"]+)" id="audit-next"', page)
        url_ = m.group(1).replace("&amp;", "&") if m else ""
    expected = [e.id for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()))
                if audit_labels.zone_code(e.object) == demo_zone]
    assert seen == expected


# ---- the export ---------------------------------------------------------------------------------------------------

def sheet_rows(content: bytes) -> list[list[str]]:
    """The first sheet's rows as text, read with openpyxl as a user's reader would."""
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def test_the_export_matches_the_database(as_role, demo_zone, session):
    province = as_role("province")
    r = province.get("/audit.xlsx", params={"zone": demo_zone})
    assert r.status_code == 200 and r.headers["content-type"].startswith(XLSX_TYPE)
    assert "attachment" in r.headers["content-disposition"]
    rows = sheet_rows(r.content)
    assert rows[0] == audit.EXPORT_HEADER
    entries = [e for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()))
               if audit_labels.zone_code(e.object) == demo_zone]
    assert [int(x[0]) for x in rows[1:]] == [e.id for e in entries]
    for row, e in zip(rows[1:], entries, strict=True):
        assert row[2] == e.actor and row[4] == audit_labels.sentence(e.action, e.object)
        assert row[1] == e.at.astimezone(audit.BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        assert row[-1] == e.action and row[5] == demo_zone
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert 'state="frozen"' in sheet and 'ySplit="1"' in sheet and sheet.count("customWidth") == 9
    assert int(r.headers["x-audit-rows"]) == len(entries) == int(r.headers["x-audit-total"])


def test_a_cut_export_says_so(as_role, monkeypatch):
    monkeypatch.setattr(audit, "MAX_EXPORT", 3)
    r = as_role("province").get("/audit.xlsx")
    rows = sheet_rows(r.content)
    total = int(r.headers["x-audit-total"])
    assert total > 3 and len(rows) == 1 + 3 + 1 and f"共{total}条" in rows[-1][0] and "仅导出最新的3条" in rows[-1][0]
    page = as_role("province").get("/audit")
    assert 'id="audit-export-cut"' in page.text


# ---- the API ------------------------------------------------------------------------------------------------------

def test_the_api_filters_and_pages(as_role, demo_zone, other_zone):
    province = as_role("province")
    old = province.get("/api/audit", params={"object": f"zone/{demo_zone}", "limit": 5})
    assert old.status_code == 200 and len(old.json()["data"]) <= 5
    assert all(e["object"].startswith(f"zone/{demo_zone}") for e in old.json()["data"])
    body = province.get("/api/audit", params={"zone": other_zone, "action": "import_zone"}).json()
    assert body["total"] == len(body["data"]) >= 1
    assert {(e["action"], e["object"]) for e in body["data"]} == {("import_zone", f"zone/{other_zone}")}
    everything = province.get("/api/audit", params={"limit": 1000}).json()
    page2 = province.get("/api/audit", params={"limit": 2, "offset": 2}).json()
    assert [e["id"] for e in page2["data"]] == [e["id"] for e in everything["data"][2:4]]
    assert page2["total"] == everything["total"] and page2["offset"] == 2
    users = province.get("/api/audit", params={"user": "demo-applicant"}).json()["data"]
    assert all(e["actor"] == "demo-applicant" for e in users)
    r = province.get("/api/audit", params={"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert r.status_code == 422 and r.json()["code"] == "audit_dates_reversed"
    assert as_role("city").get("/api/audit").status_code == 403
    assert as_role("applicant").get("/api/audit").status_code == 403


def test_the_header_links_to_the_audit_log(as_role):
    assert 'href="/audit"' in as_role("applicant").get("/audit").text
