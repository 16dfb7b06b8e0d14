"""Institutions and platforms from a table (CSV/XLSX/XLS rows with lon/lat, or with a 楼栋 of the layout) or a
point layer.

A table is read column by column: coordinates are converted as arrays, and a kind, a chain cell or a services cell
is read once per distinct text (a list of 100 000 institutions has a handful of kinds); only the rows with a
problem or a warning are visited one by one, to name them."""

from __future__ import annotations

import gc
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import shapely

from zonegeo.domain import register
from zonegeo.domain.crs import JIANGSU_BOUNDS, inside_jiangsu
from zonegeo.domain.model import Building, ChainLink, Institution, InstitutionKind
from zonegeo.ingest import crs_resolve
from zonegeo.ingest.columns import INSTITUTION_COLUMNS, match_columns, read_chain, read_kind, split_values
from zonegeo.ingest.findings import Findings
from zonegeo.ingest.sources import Source
from zonegeo.ingest.tables import parse_floats, read_table
from zonegeo.ingest.vector import read_vector

T = TypeVar("T")


def _by_text(cells: Sequence[str], read: Callable[[str], T]) -> tuple[list[T], dict[str, T]]:
    """``read`` of every cell, called once per distinct text; and the reading of each distinct text."""
    readings = {text: read(text) for text in dict.fromkeys(cells)}
    return list(map(readings.__getitem__, cells)), readings


def _marked(cells: Sequence[str], readings: dict[str, Any], mark: Callable[[Any], bool]) -> np.ndarray:
    """Which cells' reading is marked, decided once per distinct text."""
    marks = {text: mark(reading) for text, reading in readings.items()}
    return np.fromiter(map(marks.__getitem__, cells), dtype=bool, count=len(cells))


def _kind(text: str) -> tuple[InstitutionKind, str, str]:
    """(kind, the text to warn about, the label kept): an unknown kind read as an institution keeps no label."""
    kind, label = read_kind(text)
    return kind, label, "" if kind is InstitutionKind.INSTITUTION else label


def _services(text: str) -> tuple[str, ...]:
    return tuple(split_values(text))


@dataclass
class _Rows:
    """The canonical fields of rows (file rows or features), each kind, chain and services cell read once per
    distinct text."""

    numbers: list[int]
    names: list[str]
    codes: list[str]
    addresses: list[str]
    buildings: list[str]
    floors: list[str]
    kinds: list[tuple[InstitutionKind, str, str]]
    chains: list[tuple[tuple[ChainLink, ...], tuple[str, ...]]]
    services: list[tuple[str, ...]]
    noted: np.ndarray  # rows with a kind or a chain link outside the lists (warned about)

    @classmethod
    def of(cls, columns: dict[str, np.ndarray], numbers: list[int]) -> _Rows:
        n = len(numbers)

        def cells(name: str) -> list[str]:
            col = columns.get(name)
            return [""] * n if col is None else col.tolist()

        kind_cells, chain_cells = cells("kind"), cells("chain")
        kinds, kind_readings = _by_text(kind_cells, _kind)
        chains, chain_readings = _by_text(chain_cells, read_chain)
        noted = (_marked(kind_cells, kind_readings, lambda reading: bool(reading[1]))
                 | _marked(chain_cells, chain_readings, lambda reading: bool(reading[1])))
        return cls(numbers, cells("name"), cells("credit_code"), cells("address"), cells("building"),
                   cells("floor"), kinds, chains, _by_text(cells("services"), _services)[0], noted)

    def warnings(self, rows: Sequence[int], file: str, what: str = "行") -> list[dict[str, Any]]:
        """The regulation's lists of platforms and chain links end with “等”: a value outside them is kept (and
        warned about with its row), never a reason to refuse the file."""
        out: list[dict[str, Any]] = []
        kinds, chains = self.kinds, self.chains
        picked = np.asarray(rows, dtype=np.intp)
        for k in picked[self.noted[picked]].tolist():
            kind, kind_label, _ = kinds[k]
            chain_other = chains[k][1]
            number = self.numbers[k]
            where = f"第{number}{what}（{self.names[k]}）"
            if kind_label:
                as_what = "其他知识产权公共服务平台" if kind is InstitutionKind.OTHER_PLATFORM else "知识产权服务机构"
                out.append({"code": "unknown_kind", "message": f"{file}：{where}的类型“{kind_label}”不在列举的类型中，"
                            f"按{as_what}保留，请审核", "detail": {"file": file, "row": number,
                                                              "value": kind_label, "kind": kind.value}})
            if chain_other:
                out.append({"code": "unknown_chain", "message": f"{file}：{where}的链条环节“{'、'.join(chain_other)}”"
                            "不在创造、运用、保护、人才之中，已保留并列出，但不替代这四个环节",
                            "detail": {"file": file, "row": number, "value": list(chain_other)}})
        return out

    def institutions(self, rows: Sequence[int], lons: np.ndarray, lats: np.ndarray,
                     located_by: Sequence[str]) -> list[Institution]:
        """The institutions of ``rows`` (indexes), at ``lons``/``lats`` (one per row of ``rows``)."""
        def take(values: list[T]) -> list[T]:
            return values if len(rows) == len(values) else [values[k] for k in rows]

        with _no_collection():
            return [Institution(name=name, credit_code=code, lon=lon, lat=lat, kind=kind[0], kind_label=kind[2],
                                services=services, chain=chain[0], chain_other=chain[1], address=address,
                                building=building, floor=floor, located_by=by)
                    for name, code, lon, lat, kind, services, chain, address, building, floor, by in zip(
                        take(self.names), take(self.codes), np.asarray(lons, dtype=float).tolist(),
                        np.asarray(lats, dtype=float).tolist(), take(self.kinds), take(self.services),
                        take(self.chains), take(self.addresses), take(self.buildings), take(self.floors), located_by,
                        strict=True)]


@contextmanager
def _no_collection() -> Iterator[None]:
    """No cyclic garbage collection while many objects are made at once (they hold no cycles); the collector
    would otherwise walk the growing heap again and again."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def from_table(source: Source, crs: str | None, *, buildings: tuple[Building, ...] = (),
               boundary: Any = None, keep_unlocated: bool = False) -> tuple[list[Institution], dict[str, Any],
                                                                            list[dict]]:
    """Institutions from a table. 经度/纬度 are optional: a 入驻机构名录 usually gives 楼栋/楼层/房间 instead, and a
    row whose 楼栋 names a building of the layout is placed at that building (located_by "building").

    A row with neither is refused, unless ``keep_unlocated`` (uploads): then it is left out of the institutions
    returned and listed in the record's ``unlocated`` (each a register row with lon/lat None and its file row
    number in ``row``), to be placed by address (the geocoder) or on the map before the register is submitted."""
    required = (("name",),) if keep_unlocated else (("name",), ("lon", "building"), ("lat", "building"))
    table = read_table(source, role="institutions", required=required)
    found = Findings(file=source.name, layer="institutions")
    fields = set(table.columns)
    if ("lon" in fields) != ("lat" in fields):  # one of the pair: a column lost, not a list without coordinates
        has, lacks = ("经度", "纬度/lat") if "lon" in fields else ("纬度", "经度/lon")
        found.add("missing_columns", f"缺少必需的列：{lacks}（文件“{source.name}”有{has}列而没有{lacks.split('/')[0]}列；"
                  "经纬度须成对填写，或两列都不要而按楼栋、地址定位）", row=1)
        found.raise_if_any()
    numbers = table.row_numbers
    names, lon_text, lat_text = table.column("name"), table.column("lon"), table.column("lat")
    building_text = table.column("building")
    xs, ys = parse_floats(lon_text), parse_floats(lat_text)
    kept = ~np.isnan(xs) & ~np.isnan(ys)
    by_building = _building_points(buildings, boundary)
    placed: list[tuple[int, Any]] = []  # (row index, the building's point)
    unlocated: list[int] = []
    for k in np.flatnonzero(~kept).tolist():  # the rows without a pair of numbers, one by one
        number, name, building = numbers[k], names[k], building_text[k]
        written = f"{lon_text[k]}{lat_text[k]}".strip()
        point = by_building.get(building_key(building))
        if point is not None and not written:
            placed.append((k, point))
            continue
        if written:
            found.add("bad_coordinate", f"第{number}行（{name}）的经纬度“{lon_text[k]}, {lat_text[k]}”无法识别", row=number)
        elif keep_unlocated:
            unlocated.append(k)
        else:
            found.add("institution_not_located", _not_located(number, name, building, buildings), row=number,
                      building=building)
    for k in np.flatnonzero(names == "").tolist():
        found.add("missing_name", f"第{numbers[k]}没有机构名称", row=numbers[k])
    found.raise_if_any()
    rows = _Rows.of(table.columns, numbers)
    kept_rows = np.flatnonzero(kept)
    lons, lats, warnings = np.full(len(table), np.nan), np.full(len(table), np.nan), []
    label = "按楼栋定位" if placed else "未定位"
    if len(kept_rows):
        xs_kept, ys_kept = xs[kept_rows], ys[kept_rows]
        choice = (crs_resolve.parse_crs(crs, file=source.name, role="institutions") if crs else
                  _infer_rows(xs_kept, ys_kept, source.name))
        lons[kept_rows], lats[kept_rows] = crs_resolve.to_storage(xs_kept, ys_kept, choice)
        _check_rows(source.name, [rows.names[k] for k in kept_rows.tolist()], [numbers[k] for k in kept_rows.tolist()],
                    lons[kept_rows], lats[kept_rows], choice.label)
        label, warnings = choice.label, list(choice.warnings)
    placed_rows = [k for k, _ in placed]
    located_by = np.full(len(table), "coordinates", dtype=object)
    if placed:
        lons[placed_rows] = [p.x for _, p in placed]
        lats[placed_rows] = [p.y for _, p in placed]
        located_by[placed_rows] = "building"
    located_rows = np.flatnonzero(kept | np.isin(np.arange(len(table)), placed_rows)).tolist()
    built = rows.institutions(located_rows, lons[located_rows], lats[located_rows], located_by[located_rows].tolist())
    with _no_collection():
        located = [{"row": numbers[k], "name": i.name, "located_by": i.located_by, "building": i.building}
                   for k, i in zip(located_rows, built, strict=True)]
    if placed:
        named = "、".join(f"第{numbers[k]}行（{names[k]}，{building_text[k]}）" for k, _ in placed[:5])
        more_text = f"等{len(placed)}家" if len(placed) > 5 else ""
        warnings.append({"code": "located_by_building", "message": f"{source.name}：{named}{more_text}没有经纬度，"
                         "按楼栋定位（置于所填楼栋的建筑内）", "detail": {"file": source.name,
                                                          "rows": [numbers[k] for k in placed_rows]}})
    record: dict[str, Any] = {"crs": label, "features": len(built), "encoding": table.encoding, "located": located}
    more = rows.warnings(kept_rows.tolist(), source.name) + rows.warnings(placed_rows, source.name)
    if unlocated:
        nan = np.full(len(unlocated), np.nan)
        kept_u = rows.institutions(unlocated, nan, nan, ["coordinates"] * len(unlocated))
        record["unlocated"] = [register.to_row(i) | {"lon": None, "lat": None, "located_by": "", "row": numbers[k]}
                               for k, i in zip(unlocated, kept_u, strict=True)]
        warnings.append(unlocated_warning(source.name, [(numbers[k], names[k]) for k in unlocated]))
        more += rows.warnings(unlocated, source.name)
    return built, record, [*warnings, *more]


def unlocated_warning(file: str, rows: list[tuple[int, str]]) -> dict[str, Any]:
    """The warning naming the rows kept without a point (file row number, name)."""
    names = "、".join(f"第{n}行（{name}）" for n, name in rows[:5]) + (f"等{len(rows)}家" if len(rows) > 5 else "")
    return {"code": "institutions_unlocated",
            "message": f"{file}：{names}没有经纬度，也没有布局中的楼栋，尚未定位（{len(rows)}家机构尚未定位，未计入核验）；"
                       "请在机构名录草稿页面确认按地址定位的结果或在地图上点击放置，全部定位后才能提交",
            "detail": {"file": file, "rows": [n for n, _ in rows], "count": len(rows)}}


def building_key(text: object) -> str:
    """A 楼栋 as compared with building names: width, case and blanks ignored, “#” read as 号 (1#楼 = 1号楼)."""
    key = unicodedata.normalize("NFKC", str(text or "")).lower()
    return "".join(key.split()).replace("#", "号")


def _building_points(buildings: tuple[Building, ...], boundary: Any) -> dict[str, Any]:
    """Each building's representative point, taken in its part inside the boundary when it has one, so an
    institution placed by 楼栋 is inside the zone exactly when its building is."""
    points: dict[str, Any] = {}
    for b in buildings:
        shape = b.footprint
        if boundary is not None and shape.intersects(boundary):
            inside = shape.intersection(boundary)
            if inside.area > 0:
                shape = inside
        points.setdefault(building_key(b.name), shape.representative_point())
    return points


def _not_located(number: int, name: str, building: str, buildings: tuple[Building, ...]) -> str:
    where = f"第{number}行（{name}）"
    building = building.strip()
    known = "、".join(b.name for b in buildings[:8]) + ("等" if len(buildings) > 8 else "")
    if not buildings:
        return (f"{where}没有经度/纬度，无法定位；请填写经度/纬度，或同时上传含该楼栋的建筑图层后按楼栋定位"
                + (f"（所填楼栋“{building}”）" if building else ""))
    if building:
        return (f"{where}没有经度/纬度，所填楼栋“{building}”不是布局中的建筑（布局中的建筑：{known}）；"
                "请填写经度/纬度或布局中的楼栋名称")
    return f"{where}没有经度/纬度，也没有楼栋；请填写经度/纬度，或填写布局中的楼栋名称（{known}）"


def _inside_jiangsu(lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """:func:`inside_jiangsu` of every point."""
    west, south, east, north = JIANGSU_BOUNDS
    return np.asarray((lons >= west) & (lons <= east) & (lats >= south) & (lats <= north), dtype=bool)


def _infer_rows(xs: np.ndarray, ys: np.ndarray, file: str) -> crs_resolve.CrsChoice:
    """Infer from the rows that look right, so that one bad row is named rather than the whole table refused."""
    good = _inside_jiangsu(xs, ys)
    if good.any():
        return crs_resolve.infer(xs[good], ys[good], file=file, role="institutions")
    return crs_resolve.infer(xs, ys, file=file, role="institutions")


def from_vector(source: Source, crs: str | None, layer: str | None) -> tuple[list[Institution], dict, list[dict]]:
    vector = read_vector(source, role="institutions", crs=crs, layer=layer)
    found = Findings(file=source.name, layer="institutions")
    columns = match_columns(vector.table.columns, INSTITUTION_COLUMNS)
    rows, lons, lats, numbers = [], [], [], []
    records = vector.table.to_dict("records")
    for i, (geom, raw) in enumerate(zip(vector.geometries, records, strict=True), start=1):
        row = {f: ("" if raw.get(col) is None or raw.get(col) != raw.get(col) else str(raw.get(col)).strip())
               for f, col in columns.items()}
        if geom is None or geom.geom_type != "Point":
            found.add("wrong_geometry_type", f"第{i}个要素（{row.get('name', '')}）应为点", feature=i)
            continue
        rows.append(row)
        numbers.append(i)
        lons.append(geom.x)
        lats.append(geom.y)
    if "name" not in columns:
        found.add("missing_columns", "机构图层缺少“名称/name”属性", feature=1)
    else:
        for number, row in zip(numbers, rows, strict=True):
            if not row.get("name", ""):
                found.add("missing_name", f"第{number}没有机构名称", row=number)
    found.raise_if_any()
    record = {"crs": vector.crs, "features": len(rows), "encoding": vector.encoding}
    cells = {f: np.array([row[f] for row in rows] + [""], dtype=object)[:-1] for f in columns}
    read = _Rows.of(cells, numbers)
    every = list(range(len(rows)))
    built = read.institutions(every, np.array(lons), np.array(lats), ["coordinates"] * len(rows))
    return built, record, [*vector.warnings, *read.warnings(every, source.name, what="个要素")]


def _check_rows(file: str, names: list[str], numbers: list[int], lons: np.ndarray, lats: np.ndarray,
                crs: str) -> None:
    """Whole-table checks first (swapped columns, wrong CRS), then the rows that stray outside Jiangsu."""
    inside = _inside_jiangsu(lons, lats)
    if inside.all():
        return
    if not inside.any():
        crs_resolve.check_in_jiangsu(lons, lats, file=file, role="institutions", crs=crs)
    found = Findings(file=file, layer="institutions")
    for k in np.flatnonzero(~inside).tolist():
        x, y = lons[k], lats[k]
        hint = "（经纬度似乎颠倒）" if inside_jiangsu(y, x) else ""
        found.add("coordinates_swapped" if hint else "outside_jiangsu",
                  f"第{numbers[k]}行（{names[k]}）的坐标（{x:.6f}, {y:.6f}）不在江苏省范围内{hint}",
                  row=numbers[k], coordinate=[round(float(x), 6), round(float(y), 6)])
    found.raise_if_any()


__all__ = ["from_table", "from_vector", "shapely"]
