"""The applicant's upload desk in Chromium (network cut, 1366×768 and 390×844): files as applicants make them
(a GeoJSON copied from Amap in GCJ-02, loose Shapefile parts), the page asking for the source of lon/lat
coordinates with the outline on a small map, a located finding on a map, the GCJ-02 hint, the progress bar
and no double submit, and the draft's preview with the comparison to the approved version."""

from __future__ import annotations

import csv
import json
import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import text

from tests.axe import describe, violations
from tests.conftest import ARTIFACTS, DEMO, import_demo_copy
from tests.test_browser import Offline, browser, login, server  # noqa: F401  (fixtures)
from zonegeo.domain import chinacoords

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SIZES = {"desktop": {"viewport": {"width": 1366, "height": 768}},
         "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2}}


def to_gcj02(geom):
    return shapely.transform(geom, lambda c: np.column_stack(chinacoords.wgs84_to_gcj02(c[:, 0], c[:, 1])))


def amap_geojson(src, dst):
    """A layer as copied from Amap: the same places in GCJ-02 lon/lat, no "crs" member."""
    data = json.loads(src.read_text(encoding="utf-8"))
    for f in data["features"]:
        f["geometry"] = shapely.geometry.mapping(to_gcj02(shape(f["geometry"])))
    dst.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return dst


def amap_institutions(dst):
    with (DEMO / "institutions.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        lon, lat = chinacoords.wgs84_to_gcj02(float(r["经度"]), float(r["纬度"]))
        r["经度"], r["纬度"] = f"{float(lon):.7f}", f"{float(lat):.7f}"
    with dst.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return dst


def versions(engine, code):
    with engine.connect() as conn:
        return conn.execute(text("SELECT v.number, ST_AsText(v.boundary) AS boundary, v.source_files FROM zone_version v "
                                 "JOIN zone z ON z.id = v.zone_id WHERE z.code = :c ORDER BY v.number"),
                            {"c": code}).all()


def open_upload(browser, server, code, size, **extra):  # noqa: F811
    tab = Offline(browser, **SIZES[size], **extra)
    login(tab.page, server)
    tab.page.goto(f"{server}/zones/{code}/upload", wait_until="load")
    return tab


def no_horizontal_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_amap_boundary_is_not_stored_until_its_source_is_chosen(browser, server, engine, tmp_path, size):  # noqa: F811
    code = import_demo_copy(engine, tmp_path, "AMAP")
    before = versions(engine, code)
    amap = amap_geojson(DEMO / "boundary.geojson", tmp_path / "四至（高德地图）.geojson")
    tab = open_upload(browser, server, code, size)
    page = tab.page
    page.set_input_files("#file-boundary", str(amap))
    page.select_option("#enc-boundary", "UTF-8")
    page.click("#submit")
    page.wait_for_selector("#findings[data-code=crs_source_needed]")
    page.wait_for_selector("#outline-map[data-ready=true]")
    assert versions(engine, code) == before  # nothing stored under an assumed source
    assert "四至（高德地图）.geojson" in page.locator("#findings").inner_text()
    # the outline drawn as read (no tiles), beside the zone's present 四至 so that the offset is seen
    assert page.locator("#outline-map path.leaflet-interactive").count() == 2
    assert page.locator("#outline-map path[stroke-dasharray]").count() == 1
    assert page.locator("#row-boundary.asked").count() == 1
    assert page.input_value("#enc-boundary") == "UTF-8"  # every choice kept
    assert page.locator(".choose-crs[data-role=boundary]").count() == 3
    assert not (v := violations(page)), describe(v)
    no_horizontal_scroll(page)
    page.screenshot(path=str(ARTIFACTS / f"upload-crs-question-{size}.png"), full_page=True)
    # the applicant says where the coordinates came from; the file stays chosen (sent again by the page)
    page.click(".choose-crs[data-role=boundary][data-value=gcj02]")
    assert page.input_value("#crs-boundary") == "gcj02"
    assert page.locator("#list-boundary li").count() == 1
    page.click("#submit")
    page.wait_for_selector("#result")
    after = versions(engine, code)
    assert len(after) == len(before) + 1
    stored = shapely.from_wkt(after[-1].boundary)
    demo = gpd.read_file(DEMO / "boundary.geojson").geometry.union_all()
    # back where it belongs: GCJ-02 → WGS84 within centimetres (the offset was several hundred metres)
    assert shapely.hausdorff_distance(stored, demo) * 111_000 < 0.05
    assert shapely.hausdorff_distance(amap_geojson_geom(amap), demo) * 111_000 > 100
    assert "gcj02" in page.locator("#inputs tr[data-role=boundary]").inner_text()
    assert not tab.errors or all("422" in e for e in tab.errors), tab.errors
    tab.close()


def amap_geojson_geom(path):
    return gpd.read_file(path).geometry.union_all()


def test_without_javascript_the_choice_is_made_in_the_row_and_loose_parts_are_sent(browser, server, engine,  # noqa: F811
                                                                                    tmp_path):
    code = import_demo_copy(engine, tmp_path, "NOJS")
    folder = tmp_path / "楼栋"
    folder.mkdir()
    gpd.read_file(DEMO / "buildings.geojson").to_file(folder / "楼栋.shp", encoding="GBK")
    (folder / "楼栋.cpg").unlink(missing_ok=True)
    tab = open_upload(browser, server, code, "desktop", java_script_enabled=False)
    page = tab.page
    page.set_input_files("#file-buildings", sorted(str(p) for p in folder.iterdir()))
    page.click("#submit")
    page.wait_for_selector("#findings[data-code=crs_source_needed]")  # .prj says WGS84: lon/lat, so it asks
    assert "楼栋.shp" in page.locator("#findings").inner_text()
    page.set_input_files("#file-buildings", sorted(str(p) for p in folder.iterdir()))  # a plain form forgets files
    page.select_option("#crs-buildings", "EPSG:4490")
    page.click("#submit")
    page.wait_for_selector("#result")
    row = page.locator("#inputs tr[data-role=buildings]").inner_text()
    assert "楼栋.shp" in row and "GBK" in row  # read as one Shapefile, the detected encoding shown
    # a part missing: named in Chinese, nothing stored
    count = len(versions(engine, code))
    page.set_input_files("#file-buildings", sorted(str(p) for p in folder.iterdir() if p.suffix != ".dbf"))
    page.select_option("#crs-buildings", "EPSG:4490")
    page.click("#submit")
    page.wait_for_selector("#findings")
    assert "缺少属性表（.dbf）" in page.locator("#findings").inner_text()
    assert len(versions(engine, code)) == count
    tab.close()


def test_dropped_parts_are_grouped_and_the_form_is_sent_once_with_progress(browser, server, engine, tmp_path):  # noqa: F811
    code = import_demo_copy(engine, tmp_path, "DROP")
    folder = tmp_path / "shp"
    folder.mkdir()
    gpd.read_file(DEMO / "buildings.geojson").to_file(folder / "buildings.shp")
    tab = open_upload(browser, server, code, "phone")
    page = tab.page
    # drop the parts on the row, as dragged from a file manager
    payload = [{"name": p.name, "data": list(p.read_bytes())} for p in sorted(folder.iterdir())]
    page.evaluate("""([parts]) => {
        const dt = new DataTransfer();
        for (const p of parts) dt.items.add(new File([new Uint8Array(p.data)], p.name));
        const row = document.getElementById('row-buildings');
        row.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
        row.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""", [payload])
    assert page.locator("#list-buildings li").count() == len(payload)
    page.click("#row-buildings button.clear-files")  # a wrong drop is cleared, then dropped again
    assert page.locator("#list-buildings li").count() == 0
    assert page.evaluate("document.getElementById('file-buildings').files.length") == 0
    page.evaluate("""([parts]) => {
        const dt = new DataTransfer();
        for (const p of parts) dt.items.add(new File([new Uint8Array(p.data)], p.name));
        document.getElementById('row-buildings').dispatchEvent(
            new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""", [payload])
    assert page.locator("#list-buildings li").count() == len(payload)
    page.select_option("#crs-buildings", "EPSG:4490")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.click("#submit")
    assert page.is_disabled("#submit")
    assert page.is_visible("#upload-progress")
    page.click("#submit", force=True)  # a second click while in flight: nothing more is sent
    checking = page.locator("#upload-progress-label").filter(has_text="正在核验…")
    checking.wait_for()  # the bytes are sent; the server checks (it takes a second or so: a child process reads)
    assert page.is_disabled("#submit")
    page.wait_for_selector("#result")
    assert len(posts) == 1, posts
    assert page.url.endswith("?draft=2")
    assert "buildings.shp" in page.locator("#inputs tr[data-role=buildings]").inner_text()
    assert len(versions(engine, code)) == 2
    tab.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_self_intersecting_boundary_shows_the_vertex_on_a_map(browser, server, engine, tmp_path, size):  # noqa: F811
    code = import_demo_copy(engine, tmp_path, "BOW")
    bad = tmp_path / "界址点成果表.csv"  # a bow tie: the 2nd and 3rd points swapped, crossing at the centre
    bad.write_text("点号,X,Y\nJ1,3545000,375000\nJ2,3545100,375100\nJ3,3545100,375000\nJ4,3545000,375100\n",
                   encoding="utf-8")
    tab = open_upload(browser, server, code, size)
    page = tab.page
    page.set_input_files("#file-boundary", str(bad))
    page.select_option("#crs-boundary", "EPSG:4549")
    page.click("#submit")
    page.wait_for_selector(".finding-map[data-ready=true]")
    card = page.locator("#findings").inner_text()
    assert "界址点成果表.csv" in card and "四至范围" in card  # the file and the role named
    point = json.loads(page.get_attribute(".finding-map", "data-point"))
    assert 118 < point[0] < 122 and 30 < point[1] < 35  # a lon/lat position, drawn as a marker
    assert page.locator(".finding-map path.leaflet-interactive").count() >= 2  # the vertex and the zone outline
    assert page.input_value("#crs-boundary") == "EPSG:4549"
    assert not (v := violations(page)), describe(v)
    no_horizontal_scroll(page)
    page.screenshot(path=str(ARTIFACTS / f"upload-located-finding-{size}.png"), full_page=True)
    tab.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_amap_institutions_and_buildings_read_as_wgs84_get_the_gcj02_hint(browser, server, engine, tmp_path,  # noqa: F811
                                                                          size):
    code = import_demo_copy(engine, tmp_path, "HINT")
    buildings = amap_geojson(DEMO / "buildings.geojson", tmp_path / "建筑（高德）.geojson")
    institutions = amap_institutions(tmp_path / "机构名录（高德）.csv")
    tab = open_upload(browser, server, code, size)
    page = tab.page
    page.set_input_files("#file-buildings", str(buildings))
    page.set_input_files("#file-institutions", str(institutions))
    page.select_option("#crs-buildings", "EPSG:4490")  # the applicant wrongly says WGS84
    page.select_option("#crs-institutions", "EPSG:4490")
    page.click("#submit")
    page.wait_for_selector("#offset-hint")
    assert page.locator("#offset-hint p").inner_text() == (
        "全部机构和建筑都在四至范围外；若坐标取自高德/腾讯地图（GCJ-02），换算后有26个落在范围内。")
    assert not (v := violations(page)), describe(v)
    page.screenshot(path=str(ARTIFACTS / f"upload-gcj02-hint-{size}.png"), full_page=True)
    page.click("#use-gcj02")
    page.wait_for_url("**/upload?*crs_*")
    assert page.input_value("#crs-buildings") == "gcj02" and page.input_value("#crs-institutions") == "gcj02"
    assert page.input_value("#crs-boundary") == ""
    tab.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_draft_preview_compares_with_the_approved_version(browser, server, engine, client, tmp_path, size):  # noqa: F811
    code = import_demo_copy(engine, tmp_path, "PREV")
    core = json.loads((DEMO / "core.geojson").read_text(encoding="utf-8"))
    for f in core["features"]:
        f["geometry"] = shapely.geometry.mapping(shapely.affinity.scale(shape(f["geometry"]), 1.2, 1.2))
    grown = tmp_path / "核心区（扩大）.geojson"
    grown.write_text(json.dumps(core, ensure_ascii=False), encoding="utf-8")
    tab = open_upload(browser, server, code, size)
    page = tab.page
    page.set_input_files("#file-core", str(grown))
    page.select_option("#crs-core", "EPSG:4490")
    page.click("#submit")
    page.wait_for_selector("#diff-metrics")
    expected = client.get(f"/api/zones/{code}/versions/1/diff/2").json()
    core_row = page.locator("#diff-metrics tr[data-layer=core] td").all_inner_texts()
    before, after = (float(t.replace(",", "")) for t in core_row[:2])
    assert math.isclose(before, expected["core"]["area_before_m2"], abs_tol=0.06)
    assert math.isclose(after, expected["core"]["area_after_m2"], abs_tol=0.06)
    assert after > before * 1.4  # 1.2² of the area
    assert page.get_attribute("#diff-map", "src") == f"/zones/{code}/versions/1/diff/2/map"
    page.frame_locator("#diff-map").locator(".leaflet-overlay-pane path").first.wait_for()  # drawn, offline
    page.frame_locator("#draft-map").locator(".leaflet-overlay-pane path").first.wait_for()
    assert page.locator("#next-step a").get_attribute("href") == f"/zones/{code}"
    page.wait_for_load_state("load")
    assert not (v := violations(page)), describe(v)
    page.screenshot(path=str(ARTIFACTS / f"upload-preview-diff-{size}.png"), full_page=True)
    tab.close()
