"""Institutions an upload cannot place: kept unlocated, geocoded by address through a stand-in for the 天地图
geocoder (a local threaded HTTP server, never the internet), confirmed or placed on the map, and submitted only
when every row is located and confirmed."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from shapely.geometry import box
from sqlalchemy import select

from tests.conftest import app_client
from tests.test_register_drafts import applicant, stored, zone_code  # noqa: F401
from zonegeo.config import Settings
from zonegeo.db.models import AuditEntry, Zone, ZoneVersion
from zonegeo.db.session import session_factory, transaction
from zonegeo.services import geocoder as geocoding
from zonegeo.services.uploads import UploadedFile, upload_version

NEAR = (118.7352, 32.0058)  # inside the demo zone's 四至
HEADER = "名称,统一社会信用代码,地址,楼栋\n"


class StandIn(BaseHTTPRequestHandler):
    """Answers like the 天地图 geocoder, by what the address says."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        StandIn.seen.append(query)
        word = json.loads(query.get("ds", "{}")).get("keyWord", "")
        if "很慢" in word:
            time.sleep(3)
        if "服务器错误" in word:
            self.send_response(500)
            self.end_headers()
            return
        if "坏应答" in word:
            body = b"<html>not json</html>"
        elif "状态错误" in word:
            body = json.dumps({"status": "101", "msg": "无结果"}).encode()
        elif "很远" in word:
            body = json.dumps({"status": "0", "location": {"lon": 118.0, "lat": 32.0, "level": "门址"}}).encode()
        else:
            body = json.dumps({"status": "0", "location": {"lon": NEAR[0], "lat": NEAR[1], "level": "门址"},
                               "msg": "ok"}, ensure_ascii=False).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout): as intended
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stand_in():
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    StandIn.seen = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/geocoder"
    finally:
        server.shutdown()
        server.server_close()


def coder(url: str, **kw) -> geocoding.Geocoder:
    return geocoding.Geocoder(url=url, key="test-key", **({"timeout_s": 1.0, "budget_s": 5.0} | kw))


# ---- the geocoder alone ----------------------------------------------------------------------------------------

def test_the_geocoder_is_configured_by_a_key_or_an_explicit_url():
    assert geocoding.from_settings(Settings()) is None
    tianditu = geocoding.from_settings(Settings(tianditu_key="k1"))
    assert tianditu is not None and (tianditu.url, tianditu.key) == (geocoding.TIANDITU_GEOCODER, "k1")
    own = geocoding.from_settings(Settings(geocoder_url="http://127.0.0.1:9/geo", geocoder_max_rows=3))
    assert own is not None and (own.url, own.key, own.max_rows) == ("http://127.0.0.1:9/geo", "", 3)


def test_the_request_is_tiandi_tus(stand_in):
    found = geocoding.geocode(coder(stand_in), "南京市建邺区示例路100号")
    assert (found.lon, found.lat, found.level) == (*NEAR, "门址")
    (query,) = StandIn.seen
    assert json.loads(query["ds"]) == {"keyWord": "南京市建邺区示例路100号"} and query["tk"] == "test-key"


def test_every_failure_leaves_the_row_unlocated_with_its_reason(stand_in):
    boundary = box(118.7329, 32.005, 118.7375, 32.0078)
    rows = [{"name": n, "address": a, "lon": None, "lat": None, "located_by": ""} for n, a in [
        ("好", "示例路100号"), ("空", ""), ("状态", "状态错误路"), ("坏", "坏应答路"), ("远", "很远路"),
        ("错", "服务器错误路")]]
    out = geocoding.geocode_rows(coder(stand_in), rows, boundary=boundary)
    assert out[0]["located_by"] == "geocoder" and out[0]["needs_confirmation"] is True
    assert (out[0]["lon"], out[0]["lat"]) == NEAR and out[0]["geocode"]["distance_m"] == 0
    reasons = [r["geocode"]["reason"] for r in out[1:]]
    assert all(r["lon"] is None and r["located_by"] == "" for r in out[1:])
    assert "没有填写地址" in reasons[0]
    assert "状态101" in reasons[1] and "无结果" in reasons[1]
    assert "不是JSON" in reasons[2]
    assert "公里" in reasons[3] and "未采用" in reasons[3]
    assert "HTTP 500" in reasons[4]
    assert rows[0]["lon"] is None  # the input rows are not changed


def test_the_geocoder_is_bounded_in_rows_time_per_request_and_time_in_all(stand_in):
    rows = [{"name": f"机构{k}", "address": a, "lon": None, "lat": None} for k, a in
            enumerate(["很慢路1号", "很慢路2号", "示例路100号"])]
    started = time.monotonic()
    out = geocoding.geocode_rows(coder(stand_in, timeout_s=0.5, budget_s=0.8), rows)
    elapsed = time.monotonic() - started
    assert elapsed < 1.6, elapsed  # never stuck: two slow answers cut at the per-request and the total budget
    assert out[0]["geocode"]["reason"] == "地址解析服务超时"
    assert out[1]["geocode"]["reason"] in ("地址解析服务超时", "地址解析的总时限已到，未解析，请在地图上放置")
    assert "总时限已到" in out[2]["geocode"]["reason"] and out[2]["lon"] is None
    out = geocoding.geocode_rows(coder(stand_in, max_rows=1), [dict(r, address="示例路100号") for r in rows])
    assert [r.get("located_by") for r in out] == ["geocoder", None, None]
    assert all("最多按地址定位1家" in r["geocode"]["reason"] for r in out[1:])


def test_an_unreachable_geocoder_is_a_reason_not_an_error():
    out = geocoding.geocode_rows(coder("http://127.0.0.1:9/none", timeout_s=0.5), [{"name": "甲", "address": "某路"}])
    assert out[0]["geocode"]["reason"] in ("无法连接地址解析服务", "地址解析服务超时")


# ---- through an upload, the API and the submission ------------------------------------------------------------

def roster(rows: list[tuple[str, str, str]]) -> bytes:
    return (HEADER + "".join(f"{n},,{a},{b}\n" for n, a, b in rows)).encode()


def committed_upload(engine, rules, tmp_path, code, data: bytes, geocoder=None, extra=()):
    path = tmp_path / "名录.csv"
    path.write_bytes(data)
    files = [UploadedFile(path, "名录.csv", "institutions"), *extra]
    with transaction(session_factory(engine)) as session:
        return upload_version(session=session, code=code, rules=rules, uploaded_by="demo-applicant", files=files,
                              geocoder=geocoder)


def test_an_upload_geocodes_then_the_applicant_confirms_places_and_submits(applicant, engine, rules,  # noqa: F811
                                                                          tmp_path, zone_code, stand_in):  # noqa: F811
    data = roster([("甲所", "南京市建邺区示例路100号", "A座 知识产权大厦"), ("乙所", "南京市建邺区示例路100号", ""),
                   ("丙所", "状态错误路", "Z座")])
    result = committed_upload(engine, rules, tmp_path, zone_code, data, coder(stand_in))
    assert result.register_draft == 1
    assert result.report.institutions["total"] == 2  # 甲 by its 楼栋, 乙 by the geocoder; 丙 not counted
    url = f"/api/zones/{zone_code}/register-drafts/1"
    rows = applicant.get(url).json()["rows"]
    assert [(r["name"], r["located_by"], r["located"], r["needs_confirmation"]) for r in rows] == [
        ("甲所", "building", True, False), ("乙所", "geocoder", True, True), ("丙所", "", False, False)]
    assert [r["source_row"] for r in rows] == [2, 3, 4]
    assert rows[1]["located_label"] == "按地址定位（天地图），待确认" and rows[2]["located_label"] == "尚未定位"
    assert "状态101" in rows[2]["geocode"]["reason"]
    warnings = {w["code"]: w["message"] for w in applicant.get(url).json()["warnings"]}
    assert "1家机构尚未定位，未计入" in warnings["institutions_unlocated"]
    assert "丙所" in warnings["institutions_unlocated"] and "乙所" in warnings["institutions_unconfirmed"]
    # submission needs every row located and confirmed
    r = applicant.post(url + "/submit", json={})
    assert r.status_code == 409 and r.json()["code"] == "register_rows_unresolved", r.text
    assert "1家机构尚未定位（第3家（丙所））" in r.json()["message"] and "尚未确认（第2家（乙所））" in r.json()["message"]
    assert r.json()["detail"]["unlocated"] == [3] and r.json()["detail"]["unconfirmed"] == [2]
    detail = applicant.get(url).json()
    assert (detail["unlocated"], detail["unconfirmed"], detail["unlocated_note"]) == ([3], [2], "1家机构尚未定位，未计入")
    # confirm the geocoder's point; confirming again, or a row the geocoder did not place, is a conflict
    r = applicant.post(url + "/rows/2/confirm")
    assert r.status_code == 200 and r.json()["located_by"] == "geocoder" and not r.json()["needs_confirmation"]
    assert applicant.post(url + "/rows/2/confirm").json()["code"] == "register_row_not_to_confirm"
    assert applicant.post(url + "/rows/3/confirm").json()["code"] == "register_row_not_to_confirm"
    # place by the map: bad points and rows are refused, nothing stored
    assert applicant.post(url + "/rows/3/place", json={"lon": 0, "lat": 0}).json()["code"] == "point_outside_jiangsu"
    assert applicant.post(url + "/rows/9/place", json={"lon": NEAR[0], "lat": NEAR[1]}).status_code == 404
    assert applicant.post(url + "/rows/0/place", json={"lon": NEAR[0], "lat": NEAR[1]}).status_code == 404
    assert applicant.post(url + "/rows/3/place", json={"lon": "东经", "lat": 32}).status_code == 422
    r = applicant.post(url + "/rows/3/place", json={"lon": 118.7345, "lat": 32.0062})
    assert r.status_code == 200, r.text
    assert (r.json()["located_label"], r.json()["unlocated"], r.json()["unconfirmed"]) == ("在地图上放置", [], [])
    detail = applicant.get(url).json()
    assert detail["report"]["institutions"]["total"] == 3
    assert not {w["code"] for w in detail["warnings"]} & {"institutions_unlocated", "institutions_unconfirmed"}
    assert [e["located_label"] for e in detail["report"]["institutions"]["located"]] == [
        "按楼栋定位", "按地址定位（天地图）", "在地图上放置"]
    assert applicant.post(url + "/submit", json={}).status_code == 200
    # once submitted, no more placing
    r = applicant.post(url + "/rows/3/place", json={"lon": NEAR[0], "lat": NEAR[1]})
    assert r.status_code == 409 and r.json()["code"] == "register_not_editable"
    with engine.connect() as conn:
        actions = list(conn.scalars(select(AuditEntry.action).where(
            AuditEntry.object.like(f"zone/{zone_code}/register/1/row/%")).order_by(AuditEntry.id)))
    assert actions == ["register_row_confirm", "register_row_place"]


def test_other_users_cannot_place(client, anon, applicant, engine, rules, tmp_path, zone_code):  # noqa: F811
    committed_upload(engine, rules, tmp_path, zone_code, roster([("丙所", "某路", "")]))
    url = f"/api/zones/{zone_code}/register-drafts/1/rows/1/place"
    assert anon.post(url, json={"lon": NEAR[0], "lat": NEAR[1]}).status_code in (401, 403)
    assert applicant.get(f"/api/zones/{zone_code}/register-drafts/1").json()["rows"][0]["located"] is False


def test_a_tied_register_with_unlocated_rows_stops_its_versions_submission(applicant, engine, rules,  # noqa: F811
                                                                         tmp_path, zone_code):  # noqa: F811
    from tests.conftest import DEMO

    boundary = tmp_path / "b" / "boundary.geojson"
    boundary.parent.mkdir()
    boundary.write_bytes((DEMO / "boundary.geojson").read_bytes())
    data = roster([("甲所", "", "A座 知识产权大厦"), ("丙所", "某路", "")])
    result = committed_upload(engine, rules, tmp_path, zone_code, data,
                              extra=[UploadedFile(boundary, "boundary.geojson", "boundary", crs="EPSG:4490")])
    assert (result.version, result.register_draft) == (2, 1)
    assert result.report.institutions["total"] == 1  # the layout draft's report counts the located row only
    assert any(w.code == "institutions_unlocated" for w in result.report.warnings)
    r = applicant.post(f"/api/zones/{zone_code}/versions/2/submit", json={})
    assert r.status_code == 409 and r.json()["code"] == "register_rows_unresolved", r.text
    assert "空间布局版本2不能提交" in r.json()["message"] and "丙所" in r.json()["message"]
    with engine.connect() as conn:
        state = conn.scalar(select(ZoneVersion.state).join(Zone, Zone.id == ZoneVersion.zone_id)
                            .where(Zone.code == zone_code, ZoneVersion.number == 2))
    assert state == "draft"
    assert stored(engine, zone_code)[2] == [(1, "draft", 2)]  # nothing half-submitted
    r = applicant.post(f"/api/zones/{zone_code}/register-drafts/1/rows/2/place", json={"lon": NEAR[0], "lat": NEAR[1]})
    assert r.status_code == 200, r.text
    r = applicant.post(f"/api/zones/{zone_code}/versions/2/submit", json={})
    assert r.status_code == 200, r.text
    assert stored(engine, zone_code)[2] == [(1, "submitted", 2)]


def test_the_page_form_needs_its_csrf_token_and_the_page_offers_the_forms(
        client, anon, applicant, engine, rules, tmp_path, zone_code):  # noqa: F811
    committed_upload(engine, rules, tmp_path, zone_code, roster([("丙所", "某路", "")]))
    page = f"/zones/{zone_code}/register-drafts/1"
    r = applicant.post(page + "/rows/1/place", data={"lon": str(NEAR[0]), "lat": str(NEAR[1])},
                       follow_redirects=False)
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    assert applicant.get(f"/api/zones/{zone_code}/register-drafts/1").json()["rows"][0]["located"] is False
    html = applicant.get(page).text
    assert 'id="placing"' in html and 'id="place-form-1"' in html and 'id="lon-1"' in html
    assert '<label for="lon-1">经度</label>' in html and 'src="/static/place.js"' in html
    assert anon.get(page).status_code in (401, 403, 404)


def test_the_upload_routes_use_the_configured_geocoder(settings, tokens, zone_code, stand_in):  # noqa: F811
    """Through the app: the settings' geocoder is the one uploads call (API and page share the service)."""
    from fastapi.testclient import TestClient

    from tests.conftest import bearer
    from zonegeo.api.app import create_app

    configured = settings.model_copy(update={"geocoder_url": stand_in, "tianditu_key": "test-key"})
    with TestClient(create_app(configured), headers=bearer(tokens, "applicant")) as c:
        r = c.post(f"/api/zones/{zone_code}/uploads", data={"roles": ["institutions"]},
                   files=[("files", ("名录.csv", roster([("乙所", "南京市建邺区示例路100号", "")])))])
    assert r.status_code == 201, r.text
    assert [q["tk"] for q in StandIn.seen] == ["test-key"]
    with app_client(settings, headers=bearer(tokens, "applicant")) as c:
        rows = c.get(f"/api/zones/{zone_code}/register-drafts/{r.json()['register_draft']}").json()["rows"]
    assert [(row["located_by"], row["needs_confirmation"]) for row in rows] == [("geocoder", True)]
