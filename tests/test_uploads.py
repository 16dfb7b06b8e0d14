"""Uploading boundary files through the API: a draft version when valid, every finding and no change when not."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from tests import formats
from tests.conftest import DEMO, bearer, import_demo_copy
from zonegeo.db.models import Institution, Zone, ZoneVersion


@pytest.fixture
def zone_code(engine, tmp_path):
    """A zone of its own (the demo layout under a new code), committed, for tests that write."""
    return import_demo_copy(engine, tmp_path, "UP")


def state(engine, code):
    with engine.connect() as conn:
        zone_id = conn.scalar(select(Zone.id).where(Zone.code == code))
        versions = conn.execute(select(ZoneVersion.number, ZoneVersion.state, ZoneVersion.content_sha256)
                                .where(ZoneVersion.zone_id == zone_id).order_by(ZoneVersion.number)).all()
        institutions = conn.scalar(select(func.count()).select_from(Institution)
                                   .where(Institution.zone_id == zone_id, Institution.left_on.is_(None)))
    return versions, institutions


def post(client, code, *files, **form):
    parts = [("files", (name, data)) for name, data, _ in files]
    data = {"roles": [role for _, _, role in files], **form}
    return client.post(f"/api/zones/{code}/uploads", files=parts, data=data)


@pytest.mark.parametrize("writer", ["write_shapefile_zip", "write_kmz", "write_dxf", "write_geojson"])
def test_a_valid_upload_makes_a_draft_version(client, engine, zone_code, tmp_path, writer):
    suffix = {"write_shapefile_zip": ".zip", "write_kmz": ".kmz", "write_dxf": ".dxf", "write_geojson": ".geojson"}
    path = getattr(formats, writer)(tmp_path / f"红线{suffix[writer]}")
    r = post(client, zone_code, (path.name, path.read_bytes(), "boundary"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["version"], body["state"]) == (2, "draft")
    assert body["report"]["areas"]["land_m2"] == pytest.approx(formats.reference_area_m2(), rel=1e-4)
    roles = {i["role"]: i for i in body["report"]["inputs"]}
    assert roles["boundary"]["file"] == path.name
    assert roles["buildings"]["carried_from_version"] == 1
    versions, _ = state(engine, zone_code)
    assert [(n, s) for n, s, _ in versions] == [(1, "approved"), (2, "draft")]
    # A draft does not replace the approved layout in the zone's report.
    assert client.get(f"/api/zones/{zone_code}/report").json()["zone"]["version"] == 1
    assert client.get(f"/zones/{zone_code}/versions/2/map").status_code == 200


def test_an_invalid_upload_reports_every_finding_and_changes_nothing(client, engine, zone_code, tmp_path):
    before = state(engine, zone_code)
    bad_table = "名称,经度,纬度,链条环节\n甲,118.73,32.0,创造\n乙,abc,32.0,运用\n丙,118.73,32.0,设计\n".encode()
    bowtie = formats.write_geojson(tmp_path / "b.geojson")
    doc = json.loads(bowtie.read_text(encoding="utf-8"))
    ring = doc["features"][0]["geometry"]["coordinates"][0]
    ring[1], ring[2] = ring[2], ring[1]  # crosses itself now
    doc["features"][0]["geometry"]["coordinates"] = [ring]
    r = post(client, zone_code, ("四至.geojson", json.dumps(doc).encode(), "boundary"),
             ("机构.csv", bad_table, "institutions"), ("图.png", b"\x89PNG\r\n\x1a\n0", "core"))
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "upload_invalid"
    codes = sorted(f["code"] for f in body["detail"]["findings"])
    # Issue 9: an unknown chain link (“设计”) is kept with a warning, no longer a finding that refuses the file.
    assert codes == ["bad_coordinate", "invalid_geometry", "unsupported_format"]
    located = {f["code"]: f for f in body["detail"]["findings"]}
    assert located["bad_coordinate"]["row"] == 3 and located["invalid_geometry"]["coordinate"]
    assert located["unsupported_format"]["file"] == "图.png"
    assert state(engine, zone_code) == before


@pytest.mark.parametrize(("form", "code"), [
    ({"roles": ["boundary", "core"]}, "roles_mismatch"),
    ({"roles": ["roads"]}, "upload_invalid"),
])
def test_malformed_requests(client, zone_code, tmp_path, form, code):
    path = formats.write_geojson(tmp_path / "b.geojson")
    r = client.post(f"/api/zones/{zone_code}/uploads", files=[("files", (path.name, path.read_bytes()))], data=form)
    assert r.status_code == 422 and r.json()["code"] == code


def test_upload_to_an_unknown_zone_is_404(client, tmp_path):
    path = formats.write_geojson(tmp_path / "b.geojson")
    r = post(client, "NO-SUCH-ZONE", (path.name, path.read_bytes(), "boundary"))
    assert r.status_code == 404 and r.json()["code"] == "zone_not_found"


def test_the_size_limit_applies_to_uploads(settings, demo_zone, zone_code, engine, tmp_path, tokens):
    from fastapi.testclient import TestClient

    from zonegeo.api.app import create_app

    small = settings.model_copy(update={"max_upload_mb": 0})
    before = state(engine, zone_code)
    path = formats.write_geojson(tmp_path / "b.geojson")
    with TestClient(create_app(small), headers=bearer(tokens, "province")) as c:
        r = post(c, zone_code, (path.name, path.read_bytes(), "boundary"))
    assert r.status_code == 422 and r.json()["code"] == "file_too_large"
    assert state(engine, zone_code) == before


def test_institutions_upload_drafts_the_register_and_approval_applies_it(client, engine, zone_code):
    # Issue 12: an institutions upload no longer changes the register at once (it used to, before any review).
    before = state(engine, zone_code)
    lines = (DEMO / "institutions.csv").read_text(encoding="utf-8").splitlines()
    r = post(client, zone_code, ("机构.csv", ("\n".join(lines[:-1]) + "\n").encode(), "institutions"),
             crs=["EPSG:4490"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["institutions"]["left"] == 1  # what approval would change
    assert (body["version"], body["register_draft"], body["state"]) == (None, 1, "draft")
    assert state(engine, zone_code) == before  # no layout version, the 20 institutions unchanged
    for action in ("submit", "approve"):
        assert client.post(f"/api/zones/{zone_code}/register-drafts/1/{action}", json={}).status_code == 200
    assert state(engine, zone_code) == (before[0], 19)


def _bad_files(tmp_path):
    """(file name, bytes, role, expected finding code) for each kind of bad input."""
    import zipfile

    def zip_bytes(entry, data=b"x", mode=zipfile.ZIP_STORED):
        path = tmp_path / f"{uuid.uuid4().hex}.zip"
        with zipfile.ZipFile(path, "w", mode) as zf:
            zf.writestr("a.shp", b"\x00\x00\x27\x0a" + b"\x00" * 96)
            zf.writestr(entry, data)
        return path.read_bytes()

    lonlat_square = formats.write_geojson(tmp_path / "ok.geojson").read_text(encoding="utf-8")
    swapped = json.loads(lonlat_square)
    swapped["features"][0]["geometry"]["coordinates"] = [
        [[y, x] for x, y in ring] for ring in swapped["features"][0]["geometry"]["coordinates"]]
    beijing = json.loads(lonlat_square)
    beijing["features"][0]["geometry"]["coordinates"] = [
        [[x - 2.4, y + 7.9] for x, y in ring] for ring in beijing["features"][0]["geometry"]["coordinates"]]
    kml = formats.kml_text().replace("<kml xmlns", '<!DOCTYPE kml [<!ENTITY a "a">]>\n<kml xmlns', 1)
    table = formats.write_point_csv(tmp_path / "p.csv", prefix=False).read_bytes()
    return [
        ("穿越.zip", zip_bytes("../../evil.dbf"), "boundary", "archive_unsafe_entry"),
        ("炸弹.zip", zip_bytes("big.dbf", b"\x00" * 30_000_000, zipfile.ZIP_DEFLATED), "boundary", "archive_bomb"),
        ("实体.kml", kml.encode(), "boundary", "xml_doctype_refused"),
        ("图片.geojson", b"\x89PNG\r\n\x1a\n0000", "boundary", "unsupported_format"),
        ("颠倒.geojson", json.dumps(swapped).encode(), "boundary", "coordinates_swapped"),
        ("北京.geojson", json.dumps(beijing).encode(), "boundary", "outside_jiangsu"),
        ("无带号.csv", table, "boundary", "crs_ambiguous"),
        ("机构.csv", "名称,经度\n甲,118.7\n".encode(), "institutions", "missing_columns"),
    ]


def test_each_bad_input_is_refused_with_its_code_and_leaves_the_zone_unchanged(client, engine, zone_code, tmp_path):
    before = state(engine, zone_code)
    for name, data, role, code in _bad_files(tmp_path):
        r = post(client, zone_code, (name, data, role))
        assert r.status_code == 422, (name, r.text)
        (finding,) = r.json()["detail"]["findings"]
        assert finding["code"] == code, (name, finding)
        assert finding["message"] and name.split(".")[0] in json.dumps(r.json(), ensure_ascii=False)
        assert state(engine, zone_code) == before, name
