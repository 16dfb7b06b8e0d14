"""Importing a zone folder again: the same files write nothing; a layout users approved since is never replaced."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from tests.conftest import demo_copy
from zonegeo.db import repo
from zonegeo.db.models import AuditEntry, ChangeEvent, Institution, Zone, ZoneVersion
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import ConflictError
from zonegeo.services.changes import transition
from zonegeo.services.uploads import UploadedFile, upload_version
from zonegeo.services.zones import folder_sha256, import_zone

DAY = dt.date(2026, 4, 30)


def shifted_boundary(folder, east_deg: float) -> str:
    """The folder's boundary moved east (about 19 m per 0.0002°): another layout."""
    doc = json.loads((folder / "boundary.geojson").read_text(encoding="utf-8"))
    for feature in doc["features"]:
        ring = feature["geometry"]["coordinates"][0]
        feature["geometry"]["coordinates"][0] = [[x + east_deg, y] for x, y in ring]
    return json.dumps(doc)


def counts(session, code: str) -> dict[str, int]:
    """What an import can write: versions, change events, audit entries (all of them), institution rows."""
    zone_id = select(Zone.id).where(Zone.code == code).scalar_subquery()

    def n(model, *where):
        return session.scalar(select(func.count()).select_from(model).where(*where))

    return {"versions": n(ZoneVersion, ZoneVersion.zone_id == zone_id),
            "events": n(ChangeEvent, ChangeEvent.zone_id == zone_id),
            "audit": n(AuditEntry),
            "institutions": n(Institution, Institution.zone_id == zone_id)}


def imported(session, folder, rules, **kw):
    return import_zone(session=session, folder=folder, rules=rules, calendar=WorkCalendar(), today=DAY, **kw)


def test_the_same_folder_twice_writes_nothing_the_second_time(session, rules, tmp_path):
    folder, code = demo_copy(tmp_path, "ID")
    first = imported(session, folder, rules)
    assert (first.created_zone, first.version, first.new_version, first.unchanged) == (True, 1, True, False)
    zone = repo.get_zone(session, code)
    before, facts = counts(session, code), (zone.name, zone.operator, zone.note)
    assert before["versions"] == 1 and before["institutions"] > 0
    again = imported(session, folder, rules, uploaded_by="second-run")
    assert (again.version, again.new_version, again.unchanged) == (1, False, True)
    assert again.institutions == {"entered": 0, "left": 0, "updated": 0}
    assert counts(session, code) == before  # no version, no change event, no audit entry
    session.expire_all()
    zone = repo.get_zone(session, code)
    assert (zone.name, zone.operator, zone.note) == facts


def test_a_third_import_of_the_same_files_after_a_change_is_written_once(session, rules, tmp_path):
    """Changed files are imported (once); the same changed files again are not."""
    folder, code = demo_copy(tmp_path, "ID")
    imported(session, folder, rules)
    (folder / "boundary.geojson").write_text(shifted_boundary(folder, 0.0002), encoding="utf-8")
    changed = imported(session, folder, rules)
    assert (changed.version, changed.new_version, changed.unchanged) == (2, True, False)
    assert changed.change_report_due is not None
    after_change = counts(session, code)
    assert after_change["versions"] == 2 and after_change["events"] == 1
    assert imported(session, folder, rules).unchanged
    assert counts(session, code) == after_change


def test_a_changed_zone_toml_alone_is_imported_without_a_version(session, rules, tmp_path):
    folder, code = demo_copy(tmp_path, "ID")
    imported(session, folder, rules)
    before = counts(session, code)
    toml = folder / "zone.toml"
    text = toml.read_text(encoding="utf-8")
    assert 'operator = "' in text
    toml.write_text(text.replace('operator = "', 'operator = "新', 1), encoding="utf-8")
    result = imported(session, folder, rules)
    assert (result.new_version, result.unchanged) == (False, False)
    assert repo.get_zone(session, code).operator.startswith("新")
    assert counts(session, code) == before | {"audit": before["audit"] + 1}


def test_folder_fingerprint_covers_names_and_contents(tmp_path):
    folder, _ = demo_copy(tmp_path, "FP")
    first = folder_sha256(folder)
    assert folder_sha256(folder) == first
    (folder / "institutions.csv").write_bytes((folder / "institutions.csv").read_bytes() + b"\n")
    assert folder_sha256(folder) != first
    second = folder_sha256(folder)
    (folder / "institutions.csv").rename(folder / "institutions2.csv")
    assert folder_sha256(folder) != second


def approve_a_users_layout(session, rules, code: str, folder, tmp_path) -> int:
    path = tmp_path / "users.geojson"
    path.write_text(shifted_boundary(folder, 0.0002), encoding="utf-8")
    number = upload_version(session=session, code=code, rules=rules, uploaded_by="demo-applicant",
                            files=[UploadedFile(path, "users.geojson", "boundary")]).version
    for action in ("submit", "approve"):
        transition(session=session, code=code, number=number, action=action, by="province-bureau", rules=rules,
                   calendar=WorkCalendar())
    return number


def approved_number(session, code: str) -> int:
    return repo.approved_version(session, repo.get_zone(session, code)).number


def test_a_layout_users_approved_since_is_never_replaced(session, rules, tmp_path):
    folder, code = demo_copy(tmp_path, "ID")
    imported(session, folder, rules)
    users = approve_a_users_layout(session, rules, code, folder, tmp_path)
    assert users == 2 and approved_number(session, code) == 2
    # The same files again: nothing at all.
    assert imported(session, folder, rules).unchanged
    # The files change, but not their layout: institutions are taken, the users' layout stays approved.
    csv = folder / "institutions.csv"
    lines = csv.read_text(encoding="utf-8").splitlines()
    csv.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # one institution leaves
    before = counts(session, code)
    kept = imported(session, folder, rules)
    assert (kept.kept_approved, kept.new_version, kept.version) == (True, False, 2)
    assert kept.institutions["left"] == 1
    assert approved_number(session, code) == 2
    assert counts(session, code) == before | {"audit": before["audit"] + 1}
    # And again: still the users' layout (the import record remembers which version holds the files' layout).
    (folder / "zone.toml").write_text((folder / "zone.toml").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert imported(session, folder, rules).kept_approved
    assert approved_number(session, code) == 2
    # The files bring a layout of their own: refused, nothing written.
    (folder / "boundary.geojson").write_text(shifted_boundary(folder, 0.0004), encoding="utf-8")
    before = counts(session, code)
    with pytest.raises(ConflictError) as e:
        imported(session, folder, rules)
    assert e.value.code == "layout_approved_since_import"
    assert "第2版" in e.value.message and e.value.detail == {"zone": code, "approved_version": 2,
                                                              "imported_version": 1}
    assert counts(session, code) == before and approved_number(session, code) == 2


def test_a_zone_made_on_the_web_is_not_replaced_by_files(session, rules, tmp_path):
    """No import record at all, an approved layout: a folder with another layout is refused."""
    folder, code = demo_copy(tmp_path, "ID")
    imported(session, folder, rules)
    other, other_code = demo_copy(tmp_path / "web", "WEB")
    zone = repo.get_zone(session, code)
    web = Zone(code=other_code, name="网上申报的集聚区", city=zone.city)
    session.add(web)
    session.flush()
    plan = repo.to_domain_plan(repo.approved_version(session, zone), [])
    repo.add_version(session, web, plan, state="approved", source_files=[], ingest_warnings=[],
                     uploaded_by="demo-applicant", effective_on=DAY)
    (other / "boundary.geojson").write_text(shifted_boundary(other, 0.0002), encoding="utf-8")
    with pytest.raises(ConflictError) as e:
        imported(session, other, rules)
    assert e.value.detail["imported_version"] is None
