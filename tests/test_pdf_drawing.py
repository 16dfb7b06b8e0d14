"""The PDF building blocks without a database: which font is used (and the Chinese errors when none can be), the
map's bounds on a zone with very many buildings, and a boundary with a hole drawn vertex for vertex."""

from __future__ import annotations

import datetime as dt
import io
import re
import time

import pypdf
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from zonegeo.domain.measure import metric_crs_for, to_metric
from zonegeo.domain.model import Building, Institution, InstitutionKind, ZonePlan
from zonegeo.errors import ConfigError
from zonegeo.pdf import fonts
from zonegeo.pdf.document import Document
from zonegeo.pdf.map_drawing import MAX_BUILDINGS, draw_map

LON, LAT = 118.73, 32.00  # 南京河西


def doc() -> Document:
    return Document(font=fonts.resolve(""), title="测试文件", zone_name="测试集聚区", zone_code="T-1",
                    dated=dt.date(2026, 11, 26))


def text_of(content: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(content)).pages)


# ---- fonts ---------------------------------------------------------------------------------------------------

def test_the_system_font_is_found_when_none_is_configured():
    font = fonts.resolve("")
    assert font.path in fonts.SYSTEM_FONTS and font.path.is_file()


def test_a_configured_font_that_does_not_exist_is_named(tmp_path):
    missing = tmp_path / "字体.ttc"
    with pytest.raises(ConfigError) as caught:
        fonts.resolve(str(missing))
    assert caught.value.code == "pdf_font_missing" and str(missing) in caught.value.message
    assert "fonts-wqy-microhei" in caught.value.message


def test_no_system_font_at_all(tmp_path):
    with pytest.raises(ConfigError) as caught:
        fonts.resolve("", fallbacks=(tmp_path / "a.ttc", tmp_path / "b.ttf"))
    assert caught.value.code == "pdf_font_missing" and "未找到" in caught.value.message
    assert caught.value.detail["tried"] == [str(tmp_path / "a.ttc"), str(tmp_path / "b.ttf")]


def test_a_file_that_is_not_a_font(tmp_path):
    text = tmp_path / "font.txt"
    text.write_text("不是字体", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        fonts.resolve(str(text))
    assert caught.value.code == "pdf_font_unusable"
    garbage = tmp_path / "font.ttf"
    garbage.write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(ConfigError) as caught:
        Document(font=fonts.resolve(str(garbage)), title="t", zone_name="z", zone_code="c", dated=dt.date.today())
    assert caught.value.code == "pdf_font_unusable" and "无法用于生成中文PDF" in caught.value.message


def test_a_font_without_chinese_characters_is_refused():
    latin = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    try:
        font = fonts.resolve(latin)
    except ConfigError:
        pytest.skip("DejaVu Sans is not installed")
    with pytest.raises(ConfigError) as caught:
        Document(font=font, title="t", zone_name="z", zone_code="c", dated=dt.date.today())
    assert caught.value.code == "pdf_font_unusable" and "没有汉字" in caught.value.message


# ---- the map ---------------------------------------------------------------------------------------------------

def square(lon: float, lat: float, size_deg: float) -> MultiPolygon:
    return MultiPolygon([box(lon, lat, lon + size_deg, lat + size_deg)])


def test_a_zone_with_very_many_buildings_renders_in_bounded_time_and_size():
    n = 20_000
    side = 150
    step = 0.012 / side
    buildings = tuple(Building(name=f"B{i}", footprint=square(LON + (i % side) * step, LAT + (i // side) * step,
                                                               step * (0.5 if i != 7_777 else 0.9)),
                               floors=5, floors_used=5) for i in range(n))
    plan = ZonePlan(boundary=square(LON - 0.001, LAT - 0.001, 0.015), buildings=buildings)
    started = time.perf_counter()
    d = doc()
    drawn = draw_map(d, plan, x=d.l_margin, y=d.get_y(), w=d.epw, h=170)
    for note in drawn.notes():
        d.para(note)
    content = d.render()
    elapsed = time.perf_counter() - started
    assert drawn.buildings_total == n and drawn.buildings_drawn == MAX_BUILDINGS
    assert elapsed < 20, elapsed
    assert len(content) < 2_000_000, len(content)
    body = re.sub(r"\s+", "", text_of(content))
    assert f"建筑共{n:,}栋，图中只绘制占地面积最大的{MAX_BUILDINGS:,}栋，其余未绘制" in body


def test_a_boundary_with_a_hole_is_drawn_vertex_for_vertex():
    outer = [(LON + dx, LAT + dy) for dx, dy in ((0, 0), (0.01, 0), (0.012, 0.004), (0.01, 0.008), (0, 0.008))]
    hole = [(LON + 0.003, LAT + 0.003), (LON + 0.005, LAT + 0.003), (LON + 0.004, LAT + 0.005)]
    boundary = MultiPolygon([Polygon(outer, [hole]), Polygon(square(LON + 0.02, LAT, 0.002).geoms[0].exterior)])
    inst = (Institution("甲机构", "", LON + 0.001, LAT + 0.001),
            Institution("乙平台", "", LON + 0.002, LAT + 0.002, kind=InstitutionKind.PROTECTION_CENTER),
            Institution("远处机构", "", LON + 0.5, LAT + 0.5))
    d = doc()
    drawn = draw_map(d, ZonePlan(boundary=boundary, institutions=inst), x=d.l_margin, y=d.get_y(), w=d.epw, h=120)
    assert drawn.boundary_vertices == 5 + 3 + 4 and not drawn.boundary_simplified
    assert (drawn.institutions_drawn, drawn.institutions_off_map) == (2, 1)
    content = d.render()
    page = pypdf.PdfReader(io.BytesIO(content)).pages[0].get_contents().get_data().decode("latin-1")
    path = re.search(r"0\.85 0\.1 0\.1 RG (.*?) S Q", page, re.S).group(1)
    assert path.count(" m") == 3 and len(re.findall(r" l\b", path)) == 12 - 3 and path.count(" h") == 3
    xs = [float(x) for x, _ in re.findall(r"(-?[\d.]+) (-?[\d.]+) [ml]\b", path)]
    minx, _, maxx, _ = to_metric(boundary, metric_crs_for(boundary)).bounds
    assert (max(xs) - min(xs)) / (maxx - minx) == pytest.approx(drawn.mm_per_m, rel=1e-6)
    assert shapely.get_num_coordinates(boundary) == 6 + 4 + 5  # the stored rings repeat their first point
    assert "另有1家机构位于图幅范围外" in " ".join(drawn.notes())


def test_no_line_of_a_paragraph_starts_with_closing_punctuation():
    from fpdf.enums import MethodReturnValue, WrapMode

    d = doc()
    d.set_font(size=10.5)
    full = len(d.multi_cell(d.epw, 5, "汉" * 300, wrapmode=WrapMode.CHAR, dry_run=True,
                            output=MethodReturnValue.LINES)[0])
    d.para("汉" * full + "，特此回执。" + "汉" * (full - 6) + "。尾")
    lines = [line.strip() for line in text_of(d.render()).splitlines()]
    start = next(k for k, line in enumerate(lines) if line.startswith("汉汉"))
    assert lines[start] == "汉" * full + "，"  # the comma hangs at the end of the full line
    assert lines[start + 1] == "特此回执。" + "汉" * (full - 6) + "。" and lines[start + 2] == "尾"


def test_a_boundary_with_too_many_vertices_is_simplified_and_says_so():
    from zonegeo.pdf.map_drawing import MAX_BOUNDARY_VERTICES

    circle = shapely.Point(LON, LAT).buffer(0.01, quad_segs=MAX_BOUNDARY_VERTICES // 4 + 10)
    d = doc()
    drawn = draw_map(d, ZonePlan(boundary=MultiPolygon([circle])), x=d.l_margin, y=d.get_y(), w=d.epw, h=150)
    assert shapely.get_num_coordinates(circle) > MAX_BOUNDARY_VERTICES
    assert drawn.boundary_simplified and 3 < drawn.boundary_vertices < MAX_BOUNDARY_VERTICES
    assert any("四至范围和核心区顶点过多" in note for note in drawn.notes())
