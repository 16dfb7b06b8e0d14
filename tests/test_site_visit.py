"""The site visit (实地考察) over HTTP on real PostGIS: findings by the assigned expert only, bounded, stored once per
client id whatever the phone re-sends, photos decoded with Pillow (EXIF GPS and DateTimeOriginal kept, distance from
the registered point, EXIF stripped from the stored copy), and the record read back by the province and the city."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from fractions import Fraction

import pytest
from PIL import Image
from pyproj import Geod
from sqlalchemy import select, text

from tests.conftest import PASSWORD, bearer
from tests.test_lifecycle_edges_api import zone_in
from zonegeo.db.geometry import from_db
from zonegeo.db.models import AuditEntry, Building, Institution, Zone, ZoneVersion
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain import site_visit as rules
from zonegeo.errors import InputError
from zonegeo.services import access, auth, site_visits

NOW = dt.datetime.now(dt.UTC)


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    s = round(((value - d) * 60 - m) * 60 * 10000)
    return Fraction(d, 1), Fraction(m, 1), Fraction(s, 10000)


def jpeg(lon: float | None = None, lat: float | None = None, taken: str | None = "2026:11:20 10:15:30",
         size: tuple[int, int] = (640, 480)) -> bytes:
    """A JPEG made here with Pillow, carrying EXIF GPS (when given), DateTimeOriginal and a camera model."""
    image = Image.new("RGB", size, (120, 160, 200))
    exif = Image.Exif()
    exif[0x0110] = "TestPhone 1"  # Model: must not survive in the stored copy
    if taken:
        exif.get_ifd(0x8769)[36867] = taken
    if lon is not None and lat is not None:
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2] = ("N" if lat >= 0 else "S"), _dms(lat)
        gps[3], gps[4] = ("E" if lon >= 0 else "W"), _dms(lon)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture(scope="module")
def zone(engine, tokens, tmp_path_factory) -> str:
    """A zone under review with expert-wang assigned (tests here only add findings of their own client ids)."""
    return zone_in(engine, tmp_path_factory.mktemp("visit"), "under_review", {}, prefix="VISIT",
                   members={"expert-wang": "expert"})


@pytest.fixture(scope="module")
def other_expert(engine, tokens) -> str:
    """An expert assigned to nothing here, with a token."""
    name = f"expert-x-{uuid.uuid4().hex[:6]}"
    with transaction(session_factory(engine)) as session:
        auth.add_user(session=session, username=name, password=PASSWORD, role="expert")
        return auth.create_token(session=session, username=name)


@pytest.fixture(scope="module")
def targets(engine, zone) -> dict:
    with transaction(session_factory(engine)) as session:
        z = session.scalars(select(Zone).where(Zone.code == zone)).one()
        inst = session.scalars(select(Institution).where(Institution.zone_id == z.id, Institution.kind == "institution")
                               .order_by(Institution.id)).all()
        point = from_db(inst[0].location)
        building = session.scalars(select(Building).join(ZoneVersion).where(ZoneVersion.zone_id == z.id)
                                   .order_by(Building.id)).first()
        return {"institution": inst[0].id, "institution2": inst[1].id, "lon": point.x, "lat": point.y,
                "building": building.id, "building_name": building.name, "name": inst[0].name}


def post(client, code, headers, photo: bytes | None = None, **fields):
    data = {"client_id": uuid.uuid4().hex, "target_kind": "institution", "status": "present",
            "observed_at": NOW.isoformat()} | {k: str(v) for k, v in fields.items()}
    files = {"photo": ("IMG_0001.jpg", photo, "image/jpeg")} if photo is not None else None
    return client.post(f"/api/zones/{code}/visit/findings", data=data, files=files, headers=headers)


def findings_with(engine, client_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM site_visit_finding WHERE client_id = :c"), {"c": client_id}).scalar()


# ---- the domain's readings ----

def test_exif_degrees_and_time_are_read_and_bad_values_are_none():
    assert rules.gps_degrees((32, 0, 36), "N") == pytest.approx(32.01)
    assert rules.gps_degrees(((118, 1), (45, 1), (0, 1)), "W") == pytest.approx(-118.75)
    assert rules.gps_degrees(((1, 0), 0, 0), "N") is None  # a zero denominator
    assert rules.gps_degrees((200, 0, 0), "E") is None
    assert rules.exif_position({1: "N", 2: (32, 0, 0)}) is None  # no longitude
    assert rules.exif_time("2026:11:20 10:15:30") == dt.datetime(2026, 11, 20, 10, 15, 30)
    assert rules.exif_time("0000:00:00 00:00:00") is None


def test_a_finding_is_checked_at_its_bounds():
    ok = dict(client_id="a" * 8, target_kind="institution", target_id="3", status="在位", observed_use="",
              note="x" * rules.MAX_NOTE_CHARS, observed_at=NOW.isoformat(), now=NOW)
    assert rules.check_finding(**ok).status == "present"
    for change, code in ((dict(client_id="a" * 7), "bad_client_id"), (dict(client_id="a" * 65), "bad_client_id"),
                         (dict(note="x" * (rules.MAX_NOTE_CHARS + 1)), "text_too_long"),
                         (dict(status="maybe"), "bad_status"), (dict(target_kind="tree"), "bad_target_kind"),
                         (dict(target_id="x"), "bad_target"),
                         (dict(observed_at=(NOW + dt.timedelta(hours=1)).isoformat()), "observed_in_future"),
                         (dict(observed_at="2026-11-20T10:00:00"), "bad_observed_at"),
                         (dict(target_kind="building", status=""), "missing_use")):
        with pytest.raises(InputError) as err:
            rules.check_finding(**(ok | change))
        assert err.value.code == code, change
    use = rules.check_finding(**(ok | dict(target_kind="building", status="", observed_use="办" * rules.MAX_USE_CHARS)))
    assert use.status == "" and len(use.observed_use) == rules.MAX_USE_CHARS


# ---- photos ----

def test_a_photo_keeps_its_exif_position_and_time_and_is_stored_without_exif():
    got = site_visits.read_photo(jpeg(118.7701234, 32.0204321, size=(4000, 3000)))
    lon, lat = got["position"]
    assert lon == pytest.approx(118.7701234, abs=1e-7) and lat == pytest.approx(32.0204321, abs=1e-7)
    assert got["taken_at"] == dt.datetime(2026, 11, 20, 10, 15, 30)
    stored = Image.open(io.BytesIO(got["photo"]))
    assert stored.format == "JPEG" and max(stored.size) == site_visits.STORED_PHOTO_PX
    assert dict(stored.getexif()) == {} and "exif" not in stored.info


def test_a_photo_without_gps_has_no_position_and_junk_is_refused():
    assert site_visits.read_photo(jpeg(taken=None))["position"] is None
    with pytest.raises(InputError) as err:
        site_visits.read_photo(b"GIF89a not really")
    assert err.value.code == "bad_photo"
    with pytest.raises(InputError) as err:
        site_visits.read_photo(b"\xff" * (site_visits.MAX_PHOTO_BYTES + 1))
    assert err.value.code == "photo_too_large"


# ---- over HTTP ----

def test_a_finding_with_a_photo_stores_its_gps_distance_and_an_exif_free_copy(client, tokens, engine, zone, targets):
    lat = targets["lat"] + 0.001  # about 111 m north of the registered point
    r = post(client, zone, bearer(tokens, "expert"), photo=jpeg(targets["lon"], lat), target_id=targets["institution"],
             note="门牌与登记一致")
    assert r.status_code == 201, r.text
    body = r.json()
    expected = Geod(ellps="WGS84").inv(targets["lon"], targets["lat"], targets["lon"], lat)[2]
    assert body["photo_distance_m"] == pytest.approx(expected, abs=0.2) and 100 < expected < 120
    assert body["photo_taken_at"] == "2026-11-20T10:15:30" and body["status_label"] == "在位"
    assert body["target_name"] == targets["name"] and body["recorded_by"] == "expert-wang" and body["created"]
    picture = client.get(body["photo_url"], headers=bearer(tokens, "province"))
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    assert dict(Image.open(io.BytesIO(picture.content)).getexif()) == {}
    with engine.connect() as conn:
        row = conn.execute(text("SELECT photo_lon, photo_lat, photo_sha256 FROM site_visit_finding WHERE id = :i"),
                           {"i": body["id"]}).one()
    assert row.photo_lat == pytest.approx(lat, abs=1e-7) and len(row.photo_sha256) == 64


def test_the_same_client_id_is_stored_once_and_audited_once(client, tokens, engine, zone, targets):
    cid = str(uuid.uuid4())
    first = post(client, zone, bearer(tokens, "expert"), client_id=cid, target_id=targets["institution2"],
                 status="absent")
    again = post(client, zone, bearer(tokens, "expert"), client_id=cid, target_id=targets["institution2"],
                 status="absent")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["created"] is False and again.json()["id"] == first.json()["id"]
    assert findings_with(engine, cid) == 1
    with engine.connect() as conn:
        audited = conn.execute(text("SELECT actor, action, object FROM audit_log WHERE after->>'client_id' = :c"),
                               {"c": cid}).all()
    visit = first.json()["visit_id"]
    assert [tuple(a) for a in audited] == [("expert-wang", "site_visit_finding", f"zone/{zone}/visit/{visit}")]


def test_a_client_id_of_another_zone_is_a_conflict(client, tokens, engine, zone, targets, tmp_path):
    cid = str(uuid.uuid4())
    assert post(client, zone, bearer(tokens, "expert"), client_id=cid, target_id=targets["institution"]).status_code == 201
    other = zone_in(engine, tmp_path, "under_review", {}, prefix="VISIT2")
    with transaction(session_factory(engine)) as session:
        access.add_member(session=session, code=other, username="expert-wang", relation_="expert")
    r = post(client, other, bearer(tokens, "expert"), client_id=cid, target_id=targets["institution"])
    assert r.status_code == 409 and r.json()["code"] == "client_id_taken"
    assert findings_with(engine, cid) == 1


def test_a_building_finding_records_its_use(client, tokens, zone, targets):
    r = post(client, zone, bearer(tokens, "expert"), target_kind="building", target_id=targets["building"], status="",
             observed_use="知识产权服务机构办公")
    assert r.status_code == 201 and r.json()["target_name"] == targets["building_name"]
    assert r.json()["observed_use"] == "知识产权服务机构办公" and r.json()["photo"] is False
    empty = post(client, zone, bearer(tokens, "expert"), target_kind="building", target_id=targets["building"],
                 status="")
    assert empty.status_code == 422 and empty.json()["code"] == "missing_use" and "实际用途" in empty.json()["message"]


@pytest.mark.parametrize("fields,code", [
    ({"note": "长" * (rules.MAX_NOTE_CHARS + 1)}, "text_too_long"),
    ({"status": "也许"}, "bad_status"),
    ({"client_id": "short"}, "bad_client_id"),
    ({"observed_at": "2099-01-01T00:00:00+08:00"}, "observed_in_future"),
    ({"target_id": 999999999}, "unknown_target"),
])
def test_bad_findings_are_422_and_store_nothing(client, tokens, engine, zone, targets, fields, code):
    cid = fields.pop("client_id", uuid.uuid4().hex)
    r = post(client, zone, bearer(tokens, "expert"), client_id=cid, **({"target_id": targets["institution"]} | fields))
    assert r.status_code == 422 and r.json()["code"] == code, r.text
    assert findings_with(engine, cid) == 0


def test_a_note_exactly_at_the_limit_is_stored(client, tokens, zone, targets):
    r = post(client, zone, bearer(tokens, "expert"), target_id=targets["institution"], note="注" * rules.MAX_NOTE_CHARS,
             status="未核实")
    assert r.status_code == 201 and len(r.json()["note"]) == rules.MAX_NOTE_CHARS and r.json()["status"] == "unverified"


def test_a_photo_that_is_not_an_image_or_too_large_is_422(client, tokens, engine, zone, targets):
    for photo, code in ((b"not an image at all", "bad_photo"), (b"\0" * (site_visits.MAX_PHOTO_BYTES + 1), "photo_too_large")):
        cid = uuid.uuid4().hex
        r = post(client, zone, bearer(tokens, "expert"), photo=photo, client_id=cid, target_id=targets["institution"])
        assert r.status_code == 422 and r.json()["code"] == code, r.text[:200]
        assert findings_with(engine, cid) == 0


def test_only_the_assigned_expert_records(client, tokens, other_expert, engine, zone, targets, settings):
    from tests.conftest import app_client

    cid = uuid.uuid4().hex
    with app_client(settings) as c:
        stranger = post(c, zone, {"Authorization": f"Bearer {other_expert}"}, client_id=cid,
                        target_id=targets["institution"])
        assert stranger.status_code == 403 and stranger.json()["code"] == "not_assigned"
        page = c.get(f"/zones/{zone}/visit", headers={"Authorization": f"Bearer {other_expert}"})
        assert page.status_code == 403 and 'class="save"' not in page.text
        for role in ("province", "city", "applicant"):
            r = post(c, zone, bearer(tokens, role), client_id=cid, target_id=targets["institution"])
            assert r.status_code == 403 and r.json()["code"] == "role_forbidden", role
    assert findings_with(engine, cid) == 0


def test_findings_are_refused_once_the_review_is_closed(client, tokens, engine, tmp_path, targets):
    code = zone_in(engine, tmp_path, "construction", {"approved_on": "2025-10-11", "construction_ends": "2027-10-11"},
                   prefix="VISITC")
    with transaction(session_factory(engine)) as session:
        access.add_member(session=session, code=code, username="expert-wang", relation_="expert")
        zone = session.scalars(select(Zone).where(Zone.code == code)).one()
        inst = session.scalars(select(Institution.id).where(Institution.zone_id == zone.id)).first()
    r = post(client, code, bearer(tokens, "expert"), target_id=inst)
    assert r.status_code == 409 and r.json()["code"] == "review_closed" and "建设期" in r.json()["message"]
    page = client.get(f"/zones/{code}/visit", headers=bearer(tokens, "expert"))
    assert page.status_code == 200 and 'id="visit-closed"' in page.text and 'class="save"' not in page.text


def test_the_record_is_read_by_the_province_and_the_city_and_shown_on_the_zone_page(client, tokens, engine, zone,
                                                                                     targets):
    cid = uuid.uuid4().hex
    assert post(client, zone, bearer(tokens, "expert"), client_id=cid, target_id=targets["institution"]).status_code == 201
    for role in ("province", "city", "expert"):
        r = client.get(f"/api/zones/{zone}/visits", headers=bearer(tokens, role))
        assert r.status_code == 200, role
        ids = [f["client_id"] for v in r.json()["data"] for f in v["findings"]]
        assert cid in ids and r.json()["data"][0]["expert"] == "expert-wang"
    assert client.get(f"/api/zones/{zone}/visits", headers=bearer(tokens, "applicant")).status_code == 403
    page = client.get(f"/zones/{zone}", headers=bearer(tokens, "city"))
    assert 'id="site-visits"' in page.text and "expert-wang" in page.text and "在位" in page.text
    own = client.get(f"/zones/{zone}", headers=bearer(tokens, "applicant"))
    assert own.status_code in (200, 404) and 'id="site-visits"' not in own.text
    visit_page = client.get(f"/zones/{zone}/visit", headers=bearer(tokens, "province"))
    assert visit_page.status_code == 200 and f'data-client-id="{cid}"' in visit_page.text
    assert 'id="visit-readonly"' in visit_page.text and 'class="save"' not in visit_page.text


def test_findings_of_one_day_make_one_visit_and_a_later_day_another(client, tokens, zone, targets):
    today = post(client, zone, bearer(tokens, "expert"), target_id=targets["institution"]).json()
    same = post(client, zone, bearer(tokens, "expert"), target_id=targets["institution2"]).json()
    earlier = (NOW - dt.timedelta(days=2)).isoformat()  # sent late: kept on the day it was observed
    late = post(client, zone, bearer(tokens, "expert"), target_id=targets["institution2"], observed_at=earlier).json()
    assert today["visit_id"] == same["visit_id"] != late["visit_id"]
    visits = client.get(f"/api/zones/{zone}/visits", headers=bearer(tokens, "province")).json()["data"]
    days = [v["visited_on"] for v in visits]
    assert days == sorted(days, reverse=True) and len(days) == len(set(days))


def test_the_visit_page_and_its_worker_are_served_under_the_policy(client, tokens, zone):
    page = client.get(f"/zones/{zone}/visit", headers=bearer(tokens, "expert"))
    assert page.status_code == 200 and 'class="save"' in page.text and "/static/visit.js" in page.text
    assert "worker-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text  # no inline script: CSP
    sw = client.get("/visit-sw.js")
    assert sw.status_code == 200 and sw.headers["content-type"].startswith("text/javascript")
    assert "connect-src 'self'" in sw.headers["content-security-policy"]
    m = client.get(f"/zones/{zone}/visit/map", headers=bearer(tokens, "expert"))
    assert m.status_code == 200 and "content-disposition" not in m.headers and "leaflet" in m.text.lower()


def test_audit_labels_read_the_finding_in_chinese(engine, zone):
    from zonegeo.domain import audit_labels

    assert audit_labels.known("site_visit_finding")
    assert audit_labels.sentence("site_visit_finding", f"zone/{zone}/visit/3") == "登记实地考察记录3的一项发现"
    with engine.connect() as conn:
        actions = set(conn.execute(select(AuditEntry.action).distinct()).scalars())
    assert all(audit_labels.known(a) for a in actions if a.startswith("site_visit"))


def test_the_same_finding_sent_twice_at_once_is_stored_once(engine, zone, targets):
    """Two requests with one client id in flight together: the second waits on the first's unique index entry and
    then answers with the stored finding (ON CONFLICT), never a second row nor an error."""
    import threading

    from zonegeo.services.auth import get_user

    cid = uuid.uuid4().hex
    fields = dict(code=zone, client_id=cid, target_kind="institution", target_id=targets["institution"],
                  status="present", observed_at=NOW.isoformat())
    first_session = session_factory(engine)()
    first, _ = site_visits.record_finding(session=first_session, user=get_user(first_session, "expert-wang"), **fields)
    second: dict = {}

    def other() -> None:
        with transaction(session_factory(engine)) as session:
            second["row"], second["created"] = site_visits.record_finding(
                session=session, user=get_user(session, "expert-wang"), **fields)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(timeout=1.5)
    assert thread.is_alive()  # waiting on the first transaction's uncommitted rows
    first_session.commit()
    first_session.close()
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert second["created"] is False and second["row"]["id"] == first["id"]
    assert findings_with(engine, cid) == 1


def test_a_post_with_no_fields_is_a_chinese_422(client, tokens, zone):
    r = client.post(f"/api/zones/{zone}/visit/findings", data={}, headers=bearer(tokens, "expert"))
    assert r.status_code == 422 and r.json()["code"] == "bad_client_id" and "记录编号" in r.json()["message"]


def test_the_finding_is_in_the_zones_audit_trail_in_chinese(client, tokens, zone, targets):
    r = post(client, zone, bearer(tokens, "expert"), target_id=targets["institution"], status="不在位")
    assert r.status_code == 201
    page = client.get(f"/zones/{zone}/audit", headers=bearer(tokens, "province"))
    assert page.status_code == 200
    assert f"登记实地考察记录{r.json()['visit_id']}的一项发现" in page.text and "expert-wang" in page.text


def test_a_visit_holds_at_most_its_bound_of_findings(client, tokens, engine, tmp_path, monkeypatch):
    code = zone_in(engine, tmp_path, "under_review", {}, prefix="VISITN")
    with transaction(session_factory(engine)) as session:
        access.add_member(session=session, code=code, username="expert-wang", relation_="expert")
        zone_id = session.scalar(select(Zone.id).where(Zone.code == code))
        inst = session.scalar(select(Institution.id).where(Institution.zone_id == zone_id))
    monkeypatch.setattr(site_visits, "MAX_FINDINGS_PER_VISIT", 2)
    assert [post(client, code, bearer(tokens, "expert"), target_id=inst).status_code for _ in range(2)] == [201, 201]
    third = post(client, code, bearer(tokens, "expert"), target_id=inst)
    assert third.status_code == 422 and third.json()["code"] == "too_many_findings" and "上限2条" in third.json()["message"]
