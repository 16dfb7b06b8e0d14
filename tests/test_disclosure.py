"""One disclosure policy: the same zone seen by the public through the API, the zone page, the maps and the
static site shows the same public facts — no natural person's credit code, no invalid-code flag, no reviewer
warning, no draft — while a logged-in reviewer sees them."""

from __future__ import annotations

import json
import uuid

import pytest

from tests import formats
from tests.conftest import demo_copy
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain.credit_code import check_char, is_natural_person_code, is_valid
from zonegeo.services import disclosure

INVALID = "913201050506759460"  # the demo's mistyped code
PERSON = "92320105MA1XXXXX0" + check_char("92320105MA1XXXXX0")  # 个体工商户: a natural person
PERSON_OUTSIDE = "92320105MA2XXXXX0" + check_char("92320105MA2XXXXX0")


@pytest.fixture
def public_zone(engine, client, rules, tmp_path) -> str:
    """A published demo zone with two natural persons (one inside, one outside the boundary), an invalid code,
    and a draft version 2 uploaded after its approved version 1."""
    from zonegeo.domain.workdays import WorkCalendar
    from zonegeo.services.publishing import set_published
    from zonegeo.services.zones import import_zone

    assert is_valid(PERSON) and is_natural_person_code(PERSON) and is_valid(PERSON_OUTSIDE)
    folder, code = demo_copy(tmp_path, "DISC")
    with (folder / "institutions.csv").open("a", encoding="utf-8") as f:
        f.write(f"张三知识产权咨询服务部（个体）,{PERSON},服务机构,咨询,运用,118.7340100,32.0058000,示例路1号,A座,4\n")
        f.write(f"李四商标代理服务部（个体）,{PERSON_OUTSIDE},服务机构,代理,创造,118.7390000,32.0062000,示例路2号,,\n")
    with transaction(session_factory(engine)) as session:
        import_zone(session=session, folder=folder, rules=rules, calendar=WorkCalendar())
        set_published(session=session, code=code, published=True)
    path = formats.write_geojson(tmp_path / "draft.geojson")
    r = client.post(f"/api/zones/{code}/uploads", files=[("files", (path.name, path.read_bytes()))],
                    data={"roles": ["boundary"]})
    assert r.status_code == 201 and r.json()["version"] == 2 and r.json()["state"] == "draft"
    return code


def _public_views(anon, engine, rules, tmp_path, code: str) -> dict[str, str]:
    """Every public view of the zone, as text."""
    from zonegeo.services.publishing import publish

    views = {}
    for name, url in {"api zone": f"/api/zones/{code}", "api report": f"/api/zones/{code}/report",
                      "page": f"/zones/{code}", "map": f"/zones/{code}/map",
                      "offline map": f"/zones/{code}/map/offline"}.items():
        r = anon.get(url)
        assert r.status_code == 200, (name, r.status_code, r.text[:200])
        views[name] = r.text
    listed = [z for z in anon.get("/api/zones").json()["data"] if z["code"] == code]
    views["api list"] = json.dumps(listed, ensure_ascii=False)
    site = tmp_path / "site"
    with transaction(session_factory(engine)) as session:
        publish(session=session, rules=rules, out_dir=site, tiles="")
    views["static map"] = (site / "zones" / f"{code}.html").read_text(encoding="utf-8")
    views["static geojson"] = json.dumps(
        [f for f in json.loads((site / "zones.geojson").read_text(encoding="utf-8"))["features"]
         if f["properties"]["code"] == code], ensure_ascii=False)
    return views


def test_every_public_view_shows_the_same_public_facts(anon, client, engine, rules, tmp_path, public_zone):
    code = public_zone
    views = _public_views(anon, engine, rules, tmp_path, code)
    for name, text in views.items():
        assert PERSON not in text and PERSON_OUTSIDE not in text, name  # natural persons
        assert INVALID not in text and "信用代码无效：" not in text, name  # invalid codes and their flags
        assert "草稿" not in text and "空间布局版本2" not in text, name  # the draft
    # The approved layout is the one every view shows.
    assert json.loads(views["api zone"])["version"] == 1
    assert [v["number"] for v in json.loads(views["api zone"])["versions"]] == [1]
    assert json.loads(views["api list"])[0]["version"] == 1
    assert json.loads(views["api report"])["zone"]["version"] == 1
    assert "空间布局版本：1" in views["page"]
    for name in ("map", "offline map", "static map"):
        assert "空间布局版本1" in views[name], name
    assert json.loads(views["static geojson"])[0]["properties"]["version"] == 1
    # Reviewer warnings: neither in the public report nor on the public page (both showed different sets before).
    report = json.loads(views["api report"])
    assert report["warnings"] == [] and "提示：" not in views["page"]
    # The verdict is public everywhere it is shown: the report, the page and the maps.
    assert report["conclusion"] in views["page"]
    for name in ("map", "static map"):
        assert ("量化条件全部符合" in views[name]) or ("量化条件未全部符合" in views[name]), name


def test_a_reviewer_sees_what_the_public_does_not(client, public_zone):
    """The views above can fail: the same zone, logged in, does show the natural persons and the flags."""
    code = public_zone
    report = client.get(f"/api/zones/{code}/report").text
    assert PERSON_OUTSIDE in report and INVALID in report
    page = client.get(f"/zones/{code}").text
    assert INVALID in page and "提示：" in page
    map_page = client.get(f"/zones/{code}/map").text
    assert PERSON in map_page and "信用代码无效" in map_page
    versions = client.get(f"/api/zones/{code}").json()["versions"]
    assert [v["state"] for v in versions] == ["approved", "draft"]


def test_the_public_list_never_shows_a_draft_layout(anon, client, engine, tmp_path):
    """A published zone with only a draft: listed for the public without a layout (it showed the draft's number,
    state and land area before)."""
    from zonegeo.services.publishing import set_published

    code = f"DISCDRAFT-{uuid.uuid4().hex[:6]}"
    assert client.post("/api/zones", json={"code": code, "name": "仅草稿（测试）", "city": "南京市",
                                           "builder": "测试"}).status_code == 201
    path = formats.write_geojson(tmp_path / "b.geojson")
    assert client.post(f"/api/zones/{code}/uploads", files=[("files", (path.name, path.read_bytes()))],
                       data={"roles": ["boundary"]}).status_code == 201
    with transaction(session_factory(engine)) as session:
        set_published(session=session, code=code, published=True)
    (row,) = [z for z in anon.get("/api/zones").json()["data"] if z["code"] == code]
    assert (row["version"], row["version_state"], row["land_m2"]) == (None, None, None)
    assert anon.get(f"/api/zones/{code}").json()["versions"] == []
    (mine,) = [z for z in client.get("/api/zones").json()["data"] if z["code"] == code]
    assert mine["version"] == 1 and mine["version_state"] == "draft"  # the bureau sees the draft


def test_policy_redacts_every_credit_code_of_a_natural_person_wherever_it_is():
    report = {"institutions": {"outside": [{"name": "a", "credit_code": PERSON, "distance_m": 3.0}],
                               "invalid_credit_codes": [{"name": "b", "credit_code": INVALID, "reason": "x"}]},
              "rules": [{"id": "institutions", "evidence": {"excluded": {"x": ["b"]}}},
                        {"id": "core_area", "evidence": {"core_basis": "land"}}],
              "warnings": [{"code": "crs_assumed", "message": "m", "detail": {"credit_code": PERSON}}],
              "zone": {"version": 1}}
    public = disclosure.report(disclosure.PUBLIC, report)
    assert PERSON not in json.dumps(public) and INVALID not in json.dumps(public)
    assert public["institutions"]["outside"][0]["distance_m"] == 3.0
    assert public["rules"][1]["evidence"] == {"core_basis": "land"}  # evidence naming no institution stays
    assert disclosure.report(disclosure.REVIEWER, report) == report
    assert report["institutions"]["outside"][0]["credit_code"] == PERSON  # the input is not changed
