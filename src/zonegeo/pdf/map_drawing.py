"""The zone map as vector drawing on a PDF page: boundary, core, buildings and institutions projected in the zone's
Gauss-Kruger zone (the metric CRS every length is measured in), with a scale bar, a north arrow and a legend.
Bounded: at most MAX_BUILDINGS buildings (the largest) and MAX_VERTICES vertices are drawn, and the page says so."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import shapely
from fpdf import FPDF
from fpdf.drawing import DeviceRGB
from fpdf.enums import PathPaintRule
from shapely.geometry.base import BaseGeometry

from zonegeo.domain.crs import STORAGE_EPSG, transformer
from zonegeo.domain.measure import metric_crs_for
from zonegeo.domain.model import InstitutionKind, ZonePlan

MAX_BUILDINGS = 2_000  # drawn; the largest footprints first
MAX_VERTICES = 60_000  # of the buildings drawn, after simplification
MAX_BOUNDARY_VERTICES = 20_000  # beyond this the boundary and core are simplified too (and the page says so)
MAX_POINTS = 2_000
INVISIBLE_MM = 0.15  # detail below this on paper is simplified away from buildings
MARGIN = 0.06  # of the extent, around the zone

# Colours (0–1). The boundary's stroke is unique in the page so that a reader (and the tests) can find its path.
BOUNDARY = DeviceRGB(0.85, 0.1, 0.1)
CORE_FILL, CORE_STROKE = DeviceRGB(1.0, 0.87, 0.6), DeviceRGB(0.9, 0.5, 0.0)
BUILDING_FILL, BUILDING_STROKE = DeviceRGB(0.78, 0.78, 0.8), DeviceRGB(0.4, 0.4, 0.45)
INSTITUTION = (31, 90, 200)
PLATFORM = (20, 140, 60)


@dataclass(frozen=True)
class DrawnMap:
    """What was drawn, for the page's notes and for checks."""

    epsg: int
    extent_m: tuple[float, float, float, float]  # projected bounds of boundary and core (minx, miny, maxx, maxy)
    mm_per_m: float
    boundary_vertices: int  # drawn (equal to the stored count unless ``boundary_simplified``)
    boundary_simplified: bool
    buildings_total: int
    buildings_drawn: int
    simplify_m: float
    institutions_drawn: int
    institutions_off_map: int
    scale_bar_m: float

    def notes(self) -> list[str]:
        out = [f"坐标系：CGCS2000 高斯-克吕格投影（EPSG:{self.epsg}），比例约 1:{round(1000 / self.mm_per_m):,}；"
               "指北针指向坐标北（与真北相差不足2度）。"]
        if self.buildings_drawn < self.buildings_total:
            out.append(f"建筑共{self.buildings_total:,}栋，图中只绘制占地面积最大的{self.buildings_drawn:,}栋，其余未绘制。")
        if self.buildings_drawn:
            out.append(f"建筑轮廓按{self.simplify_m:.2f}米容差简化（小于图上{INVISIBLE_MM}毫米的细节）。")
        if self.boundary_simplified:
            out.append("四至范围和核心区顶点过多，图中为简化后的轮廓；面积和核验按原始数据计算。")
        if self.institutions_off_map:
            out.append(f"另有{self.institutions_off_map}家机构位于图幅范围外，未绘制。")
        return out


@dataclass(frozen=True)
class _Frame:
    x0: float  # paper position (mm) of the extent's west and north edges
    y0: float
    minx: float
    maxy: float
    k: float  # mm per metre

    def paper(self, xy: np.ndarray) -> np.ndarray:
        return np.column_stack([self.x0 + (xy[:, 0] - self.minx) * self.k, self.y0 + (self.maxy - xy[:, 1]) * self.k])


def _project(geoms: np.ndarray, epsg: int) -> np.ndarray:
    t = transformer(STORAGE_EPSG, epsg)
    return np.asarray(shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))))


def rings(geom: BaseGeometry | None) -> Iterator[np.ndarray]:
    """The rings of a (multi)polygon as coordinate arrays without the repeated closing point."""
    if geom is None or geom.is_empty:
        return
    for poly in getattr(geom, "geoms", [geom]):
        for ring in (poly.exterior, *poly.interiors):
            yield np.asarray(ring.coords)[:-1]


def _fill_path(pdf: FPDF, frame: _Frame, geoms: list[BaseGeometry], *, fill: DeviceRGB | None, stroke: DeviceRGB,
               width_mm: float, dash: float = 0.0) -> int:
    """All polygons of one layer as one path (holes by the even-odd rule); returns the vertices drawn."""
    count = 0
    with pdf.new_path() as path:
        path.style.stroke_color = stroke
        path.style.stroke_width = width_mm
        if dash:
            path.style.stroke_dash_pattern = (dash, dash)
        if fill is not None:
            path.style.fill_color = fill
            path.style.paint_rule = PathPaintRule.STROKE_FILL_EVENODD
        else:
            path.style.paint_rule = PathPaintRule.STROKE
        for geom in geoms:
            for ring in rings(geom):
                if len(ring) < 3:
                    continue
                pts = frame.paper(ring)
                path.move_to(float(pts[0, 0]), float(pts[0, 1]))
                for px, py in pts[1:].tolist():
                    path.line_to(px, py)
                path.close()
                count += len(pts)
    return count


def _nice_length(max_m: float) -> float:
    """A round length (1, 2, 5 × 10ⁿ metres) not longer than ``max_m``."""
    power = 10 ** math.floor(math.log10(max_m))
    return max(s * power for s in (1, 2, 5) if s * power <= max_m)


def _length_label(m: float) -> str:
    return f"{m / 1000:g} 千米" if m >= 1000 else f"{m:g} 米"


def _scale_bar(pdf: FPDF, x: float, y: float, metres: float, k: float) -> None:
    length = metres * k
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    for i in range(4):
        pdf.set_fill_color(*((0, 0, 0) if i % 2 == 0 else (255, 255, 255)))
        pdf.rect(x + i * length / 4, y, length / 4, 1.6, style="DF")
    pdf.set_font_size(7.5)
    pdf.text(x - 0.8, y + 4.6, "0")
    label = _length_label(metres)
    pdf.text(x + length - pdf.get_string_width(label) / 2, y + 4.6, label)


def _north_arrow(pdf: FPDF, x: float, y: float) -> None:
    """An arrow pointing up the page (grid north) with 北 above it; (x, y) is the arrow's tip."""
    pdf.set_fill_color(0, 0, 0)
    pdf.polygon([(x, y), (x + 2.6, y + 8), (x, y + 6.2)], style="F")
    pdf.set_fill_color(255, 255, 255)
    pdf.polygon([(x, y), (x - 2.6, y + 8), (x, y + 6.2)], style="DF")
    pdf.set_font_size(9)
    pdf.text(x - pdf.get_string_width("北") / 2, y - 1.2, "北")


def _legend(pdf: FPDF, x: float, y: float) -> None:
    entries = [("四至范围", "boundary"), ("核心区", "core"), ("建筑", "building"), ("服务机构", "institution"),
               ("公共服务平台", "platform")]
    pdf.set_font_size(8.5)
    for label, kind in entries:
        if kind == "boundary":
            pdf.set_draw_color(217, 26, 26)
            pdf.set_line_width(0.5)
            pdf.rect(x, y - 2.4, 5, 3)
        elif kind == "core":
            pdf.set_draw_color(230, 128, 0)
            pdf.set_fill_color(255, 222, 153)
            pdf.rect(x, y - 2.4, 5, 3, style="DF")
        elif kind == "building":
            pdf.set_draw_color(102, 102, 115)
            pdf.set_fill_color(199, 199, 204)
            pdf.rect(x, y - 2.4, 5, 3, style="DF")
        elif kind == "institution":
            pdf.set_fill_color(*INSTITUTION)
            pdf.circle(x + 2.5, y - 0.9, 1.0, style="F")
        else:
            pdf.set_fill_color(*PLATFORM)
            pdf.rect(x + 1.5, y - 1.9, 2, 2, style="F")
        pdf.set_line_width(0.2)
        pdf.set_draw_color(0, 0, 0)
        pdf.text(x + 6.5, y, label)
        x += 8 + pdf.get_string_width(label) + 4


def _building_layer(plan: ZonePlan, epsg: int, k: float) -> tuple[list[BaseGeometry], float]:
    """The buildings to draw (largest first, within the vertex budget), projected and simplified."""
    if not plan.buildings:
        return [], 0.0
    lonlat = np.array([b.footprint for b in plan.buildings], dtype=object)
    order = np.argsort(-shapely.area(lonlat), kind="stable")[:MAX_BUILDINGS]
    tolerance = INVISIBLE_MM / k
    projected = shapely.simplify(_project(lonlat[order], epsg), tolerance, preserve_topology=True)
    counts = shapely.get_num_coordinates(projected)
    keep = int(np.searchsorted(np.cumsum(counts), MAX_VERTICES, side="right"))
    return [g for g in projected[:keep] if not g.is_empty], tolerance


def draw_map(pdf: FPDF, plan: ZonePlan, *, x: float, y: float, w: float, h: float) -> DrawnMap:
    """Draw ``plan`` in the box (x, y, w, h) mm, with a legend and notes below it (12 mm)."""
    epsg = metric_crs_for(plan.boundary)
    boundary, core = _project(np.array([plan.boundary, plan.core], dtype=object), epsg)
    simplified = sum(len(r) for g in (boundary, core) for r in rings(g)) > MAX_BOUNDARY_VERTICES
    bounds = shapely.total_bounds(np.array([g for g in (boundary, core) if g is not None], dtype=object))
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    dx, dy = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
    k = min(w / (dx * (1 + 2 * MARGIN)), h / (dy * (1 + 2 * MARGIN)))
    frame = _Frame(x0=x + (w - dx * k) / 2, y0=y + (h - dy * k) / 2, minx=minx, maxy=maxy, k=k)
    if simplified:
        boundary = shapely.simplify(boundary, INVISIBLE_MM / k, preserve_topology=True)
        core = shapely.simplify(core, INVISIBLE_MM / k, preserve_topology=True) if core is not None else None
    buildings, tolerance = _building_layer(plan, epsg, k)

    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.3)
    pdf.rect(x, y, w, h)
    points = (_project(shapely.points([(i.lon, i.lat) for i in plan.institutions]), epsg) if plan.institutions
              else np.empty(0, dtype=object))
    drawn = off = 0
    with pdf.rect_clip(x, y, w, h):
        if core is not None:  # under the buildings, which stand in it
            _fill_path(pdf, frame, [core], fill=CORE_FILL, stroke=CORE_STROKE, width_mm=0.3, dash=1.2)
        _fill_path(pdf, frame, buildings, fill=BUILDING_FILL, stroke=BUILDING_STROKE, width_mm=0.1)
        vertices = _fill_path(pdf, frame, [boundary], fill=None, stroke=BOUNDARY, width_mm=0.5)
        for inst, point in zip(plan.institutions, points, strict=True):
            px, py = frame.paper(np.array([[point.x, point.y]]))[0]
            if not (x <= px <= x + w and y <= py <= y + h):
                off += 1
                continue
            if drawn >= MAX_POINTS:
                continue
            drawn += 1
            if inst.kind is InstitutionKind.INSTITUTION:
                pdf.set_fill_color(*INSTITUTION)
                pdf.circle(float(px), float(py), 0.9, style="F")
            else:
                pdf.set_fill_color(*PLATFORM)
                pdf.rect(float(px) - 1.1, float(py) - 1.1, 2.2, 2.2, style="F")
    bar_m = _nice_length(w * 0.3 / k)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_draw_color(0, 0, 0)
    _north_arrow(pdf, x + w - 8, y + 7)
    _scale_bar(pdf, x + 5, y + h - 8, bar_m, k)
    _legend(pdf, x, y + h + 5)
    pdf.set_xy(pdf.l_margin, y + h + 8)
    return DrawnMap(epsg=epsg, extent_m=(minx, miny, maxx, maxy), mm_per_m=k, boundary_vertices=vertices,
                    boundary_simplified=simplified, buildings_total=len(plan.buildings),
                    buildings_drawn=len(buildings), simplify_m=tolerance, institutions_drawn=drawn,
                    institutions_off_map=off, scale_bar_m=bar_m)
