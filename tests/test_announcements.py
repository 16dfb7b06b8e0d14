"""公告 on the public site (issue 14): each kind of decision announced from its lifecycle event, a revoked zone kept
visible as revoked, the public pages never stale after an approval, `zonegeo publish` saying how old its data is,
and the public maps' base map (天地图 by default with a key, its 审图号, the data source line)."""

from __future__ import annotations

import datetime as dt
import json

import folium
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import DEMO, app_client, bearer, import_demo_copy
from zonegeo.api.app import create_app
from zonegeo.db.models import LifecycleEvent, Zone
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain import decisions
from zonegeo.maps import basemaps


def _act(c, code: str, action: str, on: str, **data):
    r = c.post(f"/api/zones/{code}/lifecycle/{action}", json={"on": on, "data": data})
    assert r.status_code == 200, r.text
    return r.json()


def test_each_decision_is_announced_and_a_revoked_zone_stays_visible_as_revoked(settings, engine, tokens, tmp_path):
    code = import_demo_copy(engine, tmp_path, "ANN", published=True)  # approved 2025-06-30, in construction
    with transaction(session_factory(engine)) as s:
        zone = s.scalar(select(Zone).where(Zone.code == code))
        assert zone is not None
        zone.dates = {**zone.dates, "construction_ends": "2026-01-05"}
        # the 批复 as the decide form stores it, with its 文号 (the full approval walk is tests/test_lifecycle_api.py)
        s.add(LifecycleEvent(zone_id=zone.id, action="approve", from_state="noticed", to_state="construction",
                             on_date=dt.date(2025, 6, 30), actor="province-bureau", role="province",
                             data={"document_number": "苏知发〔2025〕18号"}))
    assert "document_number" in decisions.DATA_KEYS  # the approve form's optional 文号 reaches the event's data
    with app_client(settings) as anon:
        before = anon.get("/announcements")
        assert before.status_code == 200 and "苏知发〔2025〕18号" in before.text and code in before.text
    with app_client(settings, headers=bearer(tokens, "province")) as province:
        _act(province, code, "accept", "2026-01-10", result="合格")
        _act(province, code, "evaluate", "2026-06-01", grade="优秀")
        _act(province, code, "revoke", "2026-07-01", reason=4)
    with app_client(settings) as anon:
        page = anon.get("/announcements").text
        mine = page[page.index('<ul class="ann"'):]
        assert "同意建设" in mine and "苏知发〔2025〕18号" in mine
        assert "验收合格，进入运行期" in mine and "绩效评价结果：优秀" in mine
        assert "理由：不配合知识产权主管部门依法管理（第三章第4项）" in mine and "（已取消称号）" in mine
        # newest first: the revocation, then the evaluation, the acceptance and the approval
        order = [mine.index(s) for s in ("称号。理由", "绩效评价结果：优秀", "验收合格", "苏知发〔2025〕18号")]
        assert order == sorted(order)
        # the revoked zone's page is its announcement, not a silent 404; it left the zone list and the map
        moved = anon.get(f"/zones/{code}", follow_redirects=False)
        assert moved.status_code == 303 and moved.headers["location"] == f"/announcements/{code}"
        revoked = anon.get(f"/announcements/{code}")
        assert revoked.status_code == 200 and 'id="revoked-banner"' in revoked.text and "已被取消称号" in revoked.text
        assert "第三章第4项" in revoked.text
        assert code not in anon.get("/").text
        assert anon.get(f"/zones/{code}/map").status_code == 404
        # a zone that is not public has no announcements page
        assert anon.get("/announcements/NJ-DEMO-01").status_code == 404
    with app_client(settings, headers=bearer(tokens, "province")) as province:  # logged in: the zone page as before
        assert province.get(f"/zones/{code}", follow_redirects=False).status_code == 200


def _shifted_boundary() -> bytes:
    data = json.loads((DEMO / "boundary.geojson").read_text(encoding="utf-8"))

    def shift(coords):
        return [shift(c) for c in coords] if isinstance(coords[0], list) else [coords[0] + 0.0004, coords[1]]

    for feature in data["features"]:
        feature["geometry"]["coordinates"] = shift(feature["geometry"]["coordinates"])
    return json.dumps(data).encode()


def test_the_public_pages_show_an_approval_on_the_next_request(settings, engine, tokens, tmp_path):
    """With the production cache (state trusted for a minute here, far longer than the default second), the write
    through the app makes the next anonymous read ask again: the public zone page and map show the new version."""
    code = import_demo_copy(engine, tmp_path, "FRESH", published=True)
    app = create_app(settings.model_copy(update={"public_cache_ttl_s": 60.0}))
    province = bearer(tokens, "province")
    with TestClient(app) as c:
        first = c.get(f"/zones/{code}")
        assert first.status_code == 200 and "版本1" in c.get(f"/zones/{code}/map").text
        etag = first.headers["etag"]
        assert c.get(f"/zones/{code}", headers={"If-None-Match": etag}).status_code == 304  # served from memory
        up = c.post(f"/api/zones/{code}/uploads", headers=province, data={"roles": ["boundary"]},
                    files=[("files", ("boundary.geojson", _shifted_boundary()))])
        assert up.status_code == 201, up.text
        number = up.json()["version"]
        assert c.post(f"/api/zones/{code}/versions/{number}/submit", headers=province, json={}).status_code == 200
        assert c.post(f"/api/zones/{code}/versions/{number}/approve", headers=province, json={}).status_code == 200
        again = c.get(f"/zones/{code}", headers={"If-None-Match": etag})
        assert again.status_code == 200 and again.headers["etag"] != etag
        assert f"空间布局版本{number}" in c.get(f"/zones/{code}/map").text
        rows = c.get("/api/zones").json()["data"]
        assert [z["version"] for z in rows if z["code"] == code] == [number]


def test_publish_says_how_old_its_data_is(cli, database_url, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "STATIC", published=True)
    with transaction(session_factory(engine)) as s:
        zone = s.scalar(select(Zone).where(Zone.code == code))
        assert zone is not None
        s.add(LifecycleEvent(zone_id=zone.id, action="approve", from_state="noticed", to_state="construction",
                             on_date=dt.date(2025, 6, 30), actor="province-bureau", role="province",
                             data={"document_number": "苏知发〔2025〕99号"}))
    out = tmp_path / "site"
    r = cli("publish", "-o", str(out), env={"ZONEGEO_DATABASE_URL": database_url})
    assert r.returncode == 0, r.stderr
    assert "数据截至" in r.stdout and "审计日志第" in r.stdout and "生成于" in r.stdout
    assert "zonegeo publish" in r.stdout  # it says that later events need another run
    assert "数据截至" in (out / "index.html").read_text(encoding="utf-8")
    static = (out / "announcements.html").read_text(encoding="utf-8")
    assert "数据截至" in static and '<html lang="zh-CN">' in static and "苏知发〔2025〕99号" in static
    assert 'href="announcements.html"' in (out / "index.html").read_text(encoding="utf-8")


def test_tianditu_is_the_default_base_map_with_a_key_and_its_review_number(tmp_path):
    keyed = folium.Map(tiles=None)
    basemaps.add_base_layers(keyed, default="OpenStreetMap", tianditu_key="test-key")
    page = keyed.get_root().render()
    assert "tianditu.gov.cn/vec_w" in page and basemaps.TIANDITU_REVIEW_NUMBER == "GS(2024)0568号"
    assert json.dumps(f"审图号：{basemaps.TIANDITU_REVIEW_NUMBER}")[1:-1] in page
    shown = {layer.layer_name: layer.show for layer in keyed._children.values() if hasattr(layer, "show")}
    assert shown["天地图 矢量"] is True and shown[basemaps.OSM] is False and shown["天地图 影像"] is False
    assert json.dumps(basemaps.DATA_SOURCE)[1:-1] in page and json.dumps(basemaps.NO_TIANDITU)[1:-1] not in page

    plain = folium.Map(tiles=None)
    basemaps.add_base_layers(plain, default="OpenStreetMap")
    page = plain.get_root().render()
    shown = {layer.layer_name: layer.show for layer in plain._children.values() if hasattr(layer, "show")}
    assert shown[basemaps.OSM] is True and "tianditu" not in page
    assert json.dumps(f"{basemaps.DATA_SOURCE}；{basemaps.NO_TIANDITU}")[1:-1] in page

    bare = folium.Map(tiles=None)
    assert basemaps.add_base_layers(bare, default="") == []
    assert json.dumps(basemaps.NO_BASE)[1:-1] in bare.get_root().render()


def test_the_approve_form_records_its_document_number_for_the_announcement(settings, engine, tokens, rules, tmp_path,
                                                                          web_as):
    from tests.test_notices import _notice

    code = import_demo_copy(engine, tmp_path, "WH", published=True)
    _notice(engine, code, dt.date.today() - dt.timedelta(days=30), published=True)  # over, nothing objected
    with transaction(session_factory(engine)) as s:
        zone = s.scalar(select(Zone).where(Zone.code == code))
        assert zone is not None
        for action, before, after in (("recommend", "submitted", "recommended"),
                                      ("expert_opinion", "under_review", "under_review")):
            s.add(LifecycleEvent(zone_id=zone.id, action=action, from_state=before, to_state=after,
                                 on_date=dt.date.today() - dt.timedelta(days=40), actor="t", role="province",
                                 data={"opinion": "同意", "recommend": True}))
    with app_client(settings, headers=bearer(tokens, "province")) as api:
        for item in rules.manual_review:
            r = api.post(f"/api/zones/{code}/reviews", json={"item": item.id, "result": "符合", "note": "材料齐全"})
            assert r.status_code == 201, r.text
    province = web_as("province-bureau")
    assert 'name="document_number"' in province.get(f"/zones/{code}/decide").text
    done = province.post(f"/zones/{code}/decide/approve", data={
        "csrf": province.csrf, "on": dt.date.today().isoformat(), "confirm": "yes",
        "document_number": "  苏知发〔2026〕7号 "}, follow_redirects=False)
    assert done.status_code == 303
    assert "已办理：批复同意建设" in province.get(f"/zones/{code}/decide").text
    with transaction(session_factory(engine)) as s:
        event = s.scalar(select(LifecycleEvent).join(Zone, Zone.id == LifecycleEvent.zone_id)
                         .where(Zone.code == code, LifecycleEvent.action == "approve"))
        assert event is not None and event.data["document_number"] == "苏知发〔2026〕7号"
    with app_client(settings) as anon:
        page = anon.get(f"/announcements/{code}").text
        assert "苏知发〔2026〕7号" in page and "同意建设" in page and "建设期至" in page
