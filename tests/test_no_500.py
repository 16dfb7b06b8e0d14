"""Each cause of a 500 found by the hardening review (issue 11) answers a 4xx in Chinese naming the field."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.conftest import import_demo_copy


@pytest.fixture
def zone_code(engine, tmp_path):
    return import_demo_copy(engine, tmp_path, "N5")


def upload(client, code, name, data, role="boundary", **form):
    return client.post(f"/api/zones/{code}/uploads", files=[("files", (name, data))], data={"roles": [role], **form})


def assert_4xx(r, *, field=None, code=None):
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    body = r.json()
    assert body["message"] and any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body
    if code:
        assert body["code"] == code, body
    if field:
        assert field in r.text, body


def test_nul_in_a_query_string(client):
    assert_4xx(client.get("/api/audit", params={"object": "zone/\x00x"}), field="object", code="nul_character")


def test_nul_in_a_path(client):
    assert_4xx(client.get("/api/zones/NJ%00X"), code="nul_character")


def test_nul_in_a_json_string(client):
    r = client.post("/api/zones", json={"code": "NUL-1", "name": "a\x00b", "city": "南京市", "builder": "x"})
    assert_4xx(r, field="name", code="nul_character")



@pytest.fixture
def province_web(web_as):
    return web_as("province-bureau")


@pytest.mark.parametrize("form", ["apply", "change_report", "review", "attachment_kind"])
def test_nul_in_a_multipart_form_field(province_web, client, zone_code, form):
    """Multipart bodies carry files (any byte), so the input guard leaves them to the form fields' own type."""
    c = province_web
    empty = {"file": ("note.txt", b"x")}
    posts = {
        "apply": ("/apply", {"csrf": c.csrf, "code": "NUL-2", "name": "a\x00b", "city": "南京市", "builder": "x",
                             "east": "东至a", "south": "南至b", "west": "西至c", "north": "北至d"}),
        "change_report": (f"/zones/{zone_code}/changes/1/report", {"csrf": c.csrf, "note": "a\x00b"}),
        "review": (f"/zones/{zone_code}/review", {"csrf": c.csrf, "item": "x", "result": "meets", "note": "\x00"}),
        "attachment_kind": (f"/api/zones/{zone_code}/attachments", {"kind": "申报表\x00"}),
    }
    url, data = posts[form]
    r = (client if form == "attachment_kind" else c).post(url, data=data, files=empty)
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert "空字符" in r.text


@pytest.mark.parametrize("limit", [-1, 0, 10**12])
def test_audit_limit_out_of_range(client, limit):
    assert_4xx(client.get("/api/audit", params={"limit": limit}), field="limit")


def test_zone_code_the_database_would_refuse(client):
    r = client.post("/api/zones", json={"code": "-bad code!", "name": "测试", "city": "南京市", "builder": "x"})
    assert_4xx(r, field="code")


@pytest.mark.parametrize("year", [10000, -1, 0])
def test_annual_report_year_out_of_range(client, demo_zone, year):
    assert_4xx(client.post(f"/api/zones/{demo_zone}/annual-reports", json={"year": year}), field="year")


@pytest.mark.parametrize("on", ["9999-12-31", "0001-01-01"])
def test_dates_at_the_calendar_edges(client, zone_code, on):
    r = client.post(f"/api/zones/{zone_code}/changes", json={"kind": "operator", "occurred_on": on, "description": "x"})
    assert_4xx(r, field="occurred_on")
    r = client.post(f"/api/zones/{zone_code}/lifecycle/evaluate", json={"on": on, "data": {"grade": "优秀"}})
    assert_4xx(r, field="on")


@pytest.mark.parametrize("reason", [99, -1, [1], {"x": 1}, 1e308, "1\x00"])
def test_unknown_revocation_reason(client, zone_code, reason):
    r = client.post(f"/api/zones/{zone_code}/lifecycle/revoke", json={"on": "2024-06-03", "data": {"reason": reason}})
    assert_4xx(r, field="reason")


def _zip(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_with_a_bad_crc(client, zone_code):
    from tests import formats  # noqa: F401  (the shapefile writer lives there)

    data = bytearray(_zip([("a.shp", b"\x00\x00\x27\x0a" + b"x" * 200), ("a.dbf", b"y" * 50)]))
    i = data.index(b"x" * 200)
    data[i + 10] ^= 0xFF  # stored entry: the bytes change, the CRC in the header does not
    assert_4xx(upload(client, zone_code, "bad.zip", bytes(data)), field="bad.zip")


def test_zip_with_a_file_and_a_folder_of_one_name(client, zone_code):
    data = _zip([("a", b"x"), ("a/b.shp", b"\x00\x00\x27\x0a")])
    assert_4xx(upload(client, zone_code, "clash.zip", data), field="clash.zip")


def test_a_200_kb_csv_cell(client, zone_code):
    body = "名称,经度,纬度\n" + "甲" * 200_000 + ",118.78,32.04\n"
    assert_4xx(upload(client, zone_code, "机构.csv", body.encode(), "institutions"), field="第2行")


def test_redline_parcel_without_points(client, zone_code):
    text = "[属性描述]\n坐标系=2000国家大地坐标系\n几度分带=3\n带号=40\n[地块坐标]\n4,1.0,1,甲,面,,工业用地,,@\n"
    assert_4xx(upload(client, zone_code, "红线.txt", text.encode()), field="红线.txt")


def test_redline_zone_59(client, zone_code):
    text = ("[属性描述]\n坐标系=2000国家大地坐标系\n几度分带=3\n带号=59\n[地块坐标]\n4,1.0,1,甲,面,,工业用地,,@\n"
            "J1,1,3550000,40500000\nJ2,1,3550100,40500000\nJ3,1,3550100,40500100\nJ1,1,3550000,40500000\n")
    assert_4xx(upload(client, zone_code, "红线.txt", text.encode()), field="带号")


def test_coordinates_of_1e308(client, zone_code):
    body = "名称,经度,纬度\n甲,1e308,1e308\n乙,1e308,1e308\n"
    assert_4xx(upload(client, zone_code, "机构.csv", body.encode(), "institutions"), field="第2行")
    doc = ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":'
           '{"type":"Polygon","coordinates":[[[1e308,1e308],[-1e308,1e308],[1e308,-1e308],[1e308,1e308]]]}}]}')
    assert_4xx(upload(client, zone_code, "四至.geojson", doc.encode()), field="四至.geojson")


def test_floors_of_1e308(client, zone_code):
    doc = ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"名称":"甲","层数":1e308},'
           '"geometry":{"type":"Polygon","coordinates":[[[118.78,32.04],[118.7801,32.04],[118.7801,32.0401],'
           '[118.78,32.04]]]}}]}')
    assert_4xx(upload(client, zone_code, "建筑.geojson", doc.encode(), "buildings"), field="层数")


def test_a_saturated_pool_answers_503_with_retry_after_not_500(settings, demo_zone):
    """Every connection held (pool 1, no overflow): a request waits db_pool_timeout_s, then 503 database_busy."""
    import time

    from fastapi.testclient import TestClient

    from zonegeo.api.app import create_app

    tight = settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout_s": 0.5})
    with TestClient(create_app(tight)) as c:
        with c.app.state.uow.engine.connect():  # the only connection, held
            started = time.monotonic()
            r = c.get("/api/zones")
            waited = time.monotonic() - started
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "database_busy" and r.headers["Retry-After"]
        assert 0.4 < waited < 5
        assert c.get("/api/zones").status_code == 200  # released: served again


def test_requests_past_the_pool_wait_in_line_then_get_503():
    """Admission control (ASGI level): one slot; the first request works, the second waits its turn, a third
    that cannot be served within the wait gets 503 server_busy with Retry-After; a full line refuses at once."""
    import anyio

    from zonegeo.api.admission import AdmissionMiddleware

    order: list[str] = []

    async def slow_app(scope, receive, send):
        order.append(scope["path"])
        await anyio.sleep(0.3)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def call(app, path, results):
        sent = []

        async def send(message):
            sent.append(message)

        async def receive():
            return {"type": "http.request", "body": b""}

        await app({"type": "http", "path": path, "method": "GET", "headers": []}, receive, send)
        results[path] = (sent[0]["status"], dict(sent[0]["headers"]))

    async def scenario(app, paths, gap=0.02):
        results: dict = {}
        async with anyio.create_task_group() as tg:
            for path in paths:
                tg.start_soon(call, app, path, results)
                await anyio.sleep(gap)
        return results

    app = AdmissionMiddleware(slow_app, max_active=1, max_wait_s=0.45, max_waiting=10)
    results = anyio.run(scenario, app, ["/a", "/b", "/c"])
    assert results["/a"][0] == 200 and results["/b"][0] == 200  # /b waited ~0.3 s, within 0.45 s
    assert results["/c"][0] == 503 and results["/c"][1][b"retry-after"] == b"2"  # would have waited ~0.6 s
    assert order == ["/a", "/b"]  # first come, first served
    full = AdmissionMiddleware(slow_app, max_active=1, max_wait_s=5, max_waiting=0)
    results = anyio.run(scenario, full, ["/x", "/y"])
    assert results["/x"][0] == 200 and results["/y"][0] == 503  # max_waiting=0: a free slot, else at once 503
    static = anyio.run(scenario, full, ["/assets/leaflet.js"])
    assert static["/assets/leaflet.js"][0] == 200  # static files are never held in line
