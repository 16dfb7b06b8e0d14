"""Versions through approval, change events with their deadlines, reports filed on time or late."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading

import pytest
from sqlalchemy import select

from tests import formats
from tests.conftest import DEMO, import_demo_copy, reference
from zonegeo.db.models import ChangeEvent, Zone, ZoneVersion
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.services.zones import import_zone

# Deadlines come from the reference cases (15 working days), not from our own calendar.


def ref_due(start: str) -> str:
    cases = json.loads(reference("workdays.json").read_text(encoding="utf-8"))["cases"]
    return next(c["due"] for c in cases if c["start"] == start and c["n_working_days"] == 15)


@pytest.fixture
def zone_code(engine, tmp_path, rules):
    return import_demo_copy(engine, tmp_path, "CH", rules=rules)


def upload_boundary(client, code, geojson: dict) -> int:
    r = client.post(f"/api/zones/{code}/uploads", files=[("files", ("b.geojson", json.dumps(geojson).encode()))],
                    data={"roles": ["boundary"]})
    assert r.status_code == 201, r.text
    return r.json()["version"]


def demo_boundary() -> dict:
    return json.loads((DEMO / "boundary.geojson").read_text(encoding="utf-8"))


def grown_boundary() -> dict:
    """The demo boundary with its east edge moved 20 m east (a 20 m strip, about 180 m long)."""
    from pyproj import Transformer

    doc = demo_boundary()
    to_gk = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    to_ll = Transformer.from_crs("EPSG:4549", "EPSG:4490", always_xy=True)
    ring = doc["features"][0]["geometry"]["coordinates"][0]
    east = max(to_gk.transform(x, y)[0] for x, y in ring)
    moved = []
    for x, y in ring:
        e, n = to_gk.transform(x, y)
        moved.append(list(to_ll.transform(e + 20 if abs(e - east) < 0.01 else e, n)))
    doc["features"][0]["geometry"]["coordinates"][0] = moved
    return doc


def test_approving_a_grown_boundary_creates_a_spatial_change_due_in_15_working_days(client, zone_code):
    number = upload_boundary(client, zone_code, grown_boundary())
    assert client.post(f"/api/zones/{zone_code}/versions/{number}/submit", json={"by": "申报单位"}).status_code == 200
    r = client.post(f"/api/zones/{zone_code}/versions/{number}/approve",
                    json={"by": "省局", "effective_on": "2026-09-30"})
    assert r.status_code == 200, r.text
    event = r.json()["change_event"]
    assert event["kind"] == "spatial_layout" and event["report_due"] == ref_due("2026-09-30")  # over National Day
    assert event["metrics"]["boundary"]["area_change_m2"] == pytest.approx(20 * 180, rel=0.01)
    versions = client.get(f"/api/zones/{zone_code}/versions").json()["data"]
    assert [(v["number"], v["state"]) for v in versions] == [(1, "superseded"), (2, "approved")]
    assert client.get(f"/api/zones/{zone_code}/report").json()["zone"]["version"] == 2


def test_rediginising_noise_is_approved_without_a_change_event(client, zone_code):
    doc = demo_boundary()
    ring = doc["features"][0]["geometry"]["coordinates"][0]
    doc["features"][0]["geometry"]["coordinates"][0] = ring[2:-1] + ring[:3]  # another start vertex
    number = upload_boundary(client, zone_code, doc)
    client.post(f"/api/zones/{zone_code}/versions/{number}/submit", json={})
    r = client.post(f"/api/zones/{zone_code}/versions/{number}/approve", json={})
    assert r.status_code == 200 and r.json()["change_event"] is None
    diff = client.get(f"/api/zones/{zone_code}/versions/1/diff/{number}").json()
    assert diff["material"] is False and diff["boundary"]["hausdorff_m"] < 0.01


def test_illegal_transitions_are_409_naming_the_state(client, zone_code):
    r = client.post(f"/api/zones/{zone_code}/versions/1/approve", json={})
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "illegal_transition" and "已批准" in body["message"]
    assert body["detail"]["state"] == "approved"
    assert client.post(f"/api/zones/{zone_code}/versions/9/submit", json={}).status_code == 404
    assert client.post(f"/api/zones/{zone_code}/versions/1/explode", json={}).status_code == 404  # no such action


def test_diff_endpoint_and_map(client, zone_code):
    number = upload_boundary(client, zone_code, grown_boundary())
    diff = client.get(f"/api/zones/{zone_code}/versions/1/diff/{number}?geometries=true").json()
    assert diff["material"] and diff["boundary"]["added"]["type"] in ("Polygon", "MultiPolygon")
    page = client.get(f"/zones/{zone_code}/versions/1/diff/{number}/map")
    assert page.status_code == 200
    assert "有实质变化" in page.text and "\\u56db\\u81f3\\uff1a\\u65b0\\u589e" in page.text  # 四至：新增 (escaped JSON)


def test_non_spatial_changes_reports_and_lateness(client, zone_code):
    r = client.post(f"/api/zones/{zone_code}/changes",
                    json={"kind": "operator", "occurred_on": "2025-01-27", "description": "运营管理单位更换"})
    assert r.status_code == 201
    event = r.json()
    assert event["report_due"] == ref_due("2025-01-27")  # over Spring Festival 2025
    assert event["status"] == "overdue"
    late = client.post(f"/api/zones/{zone_code}/changes/{event['id']}/report",
                       json={"reported_by": "王某", "reported_on": "2025-02-26"})
    assert late.status_code == 200 and late.json()["status"] == "late"
    again = client.post(f"/api/zones/{zone_code}/changes/{event['id']}/report", json={"reported_by": "王某"})
    assert again.status_code == 409
    bad = client.post(f"/api/zones/{zone_code}/changes", json={"kind": "spatial_layout", "occurred_on": "2025-01-25"})
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_change_kind"
    on_time = client.post(f"/api/zones/{zone_code}/changes", json={"kind": "mechanism", "occurred_on": "2028-01-05"})
    assert on_time.json()["status"] == "pending" and on_time.json()["due_provisional"] is True
    listed = client.get("/api/changes?status=late").json()["data"]
    assert event["id"] in [row["id"] for row in listed]
    assert client.get("/api/changes?status=whatever").status_code == 422


def test_changes_page_lists_pending_and_overdue_by_city_nearest_first(client, zone_code):
    for day in ("2025-03-03", "2024-06-03"):
        client.post(f"/api/zones/{zone_code}/changes", json={"kind": "function", "occurred_on": day})
    page = client.get("/changes")
    assert page.status_code == 200 and "南京市" in page.text
    dues = [line.split("<td>")[1][:10] for line in page.text.split('data-status="overdue"')[1:]]
    assert dues == sorted(dues)


@pytest.mark.parametrize("same", [False, True], ids=["different-files", "the-same-file"])
def test_concurrent_uploads_get_distinct_version_numbers(engine, zone_code, rules, tmp_path, same):
    """Two uploads at once: different files make versions 2 and 3; the same file twice (two tabs, a double
    click) makes one draft, whichever of the two commits first."""
    from zonegeo.services.uploads import UploadedFile, upload_version

    paths = [formats.write_geojson(tmp_path / "b.geojson")]
    if same:
        paths.append(paths[0])
    else:  # the same parcel under another name: other bytes, another upload
        other = tmp_path / "c.geojson"
        other.write_text(paths[0].read_text(encoding="utf-8").replace("地块", "地块二"), encoding="utf-8")
        paths.append(other)
    factory = session_factory(engine)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker(path):
        try:
            with transaction(factory) as session:
                barrier.wait(timeout=10)
                results.append(upload_version(session=session, code=zone_code, rules=rules, uploaded_by="t",
                                              files=[UploadedFile(path, path.name, "boundary")]).version)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(results) == ([2, 2] if same else [2, 3])
    with engine.connect() as conn:
        zone_id = conn.scalar(select(Zone.id).where(Zone.code == zone_code))
        numbers = conn.scalars(select(ZoneVersion.number).where(ZoneVersion.zone_id == zone_id)).all()
    assert sorted(numbers) == ([1, 2] if same else [1, 2, 3])


def test_a_reimport_with_a_changed_layout_records_the_change(engine, zone_code, rules, tmp_path):
    folder = tmp_path / "again"
    shutil.copytree(DEMO, folder)
    toml = folder / "zone.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("NJ-DEMO-01", zone_code), encoding="utf-8")
    (folder / "boundary.geojson").write_text(json.dumps(grown_boundary()), encoding="utf-8")
    with transaction(session_factory(engine)) as session:
        result = import_zone(session=session, folder=folder, rules=rules, calendar=WorkCalendar(),
                             today=dt.date(2026, 4, 30))
    assert result.version == 2 and result.change_report_due.isoformat() == ref_due("2026-04-30")
    with engine.connect() as conn:
        kinds = conn.scalars(select(ChangeEvent.kind).join(Zone, Zone.id == ChangeEvent.zone_id)
                             .where(Zone.code == zone_code)).all()
    assert kinds == ["spatial_layout"]
