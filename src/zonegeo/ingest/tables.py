"""Tables (CSV in UTF-8 or GBK, XLSX through GDAL): institution rows with lon/lat, and boundary point
tables (界址点坐标表: 点号, X = northing, Y = easting, optional ring and parcel columns)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import pyogrio

from zonegeo.errors import InputError
from zonegeo.ingest.columns import BOUNDARY_POINT_COLUMNS, INSTITUTION_COLUMNS, match_columns
from zonegeo.ingest.findings import Findings
from zonegeo.ingest.sniff import decode_text
from zonegeo.ingest.sources import Source, choose_layers, gdal_reason


@dataclass
class Table:
    rows: list[dict[str, str]]  # canonical field -> cell text
    row_numbers: list[int]  # line (CSV) or sheet row (XLSX) of each row; the header is row 1
    encoding: str
    header: list[str]


def _raw_rows(source: Source, role: str) -> tuple[list[str], list[list[str]], str]:
    if source.format == "xlsx":
        sheets = choose_layers(source, role, None)
        try:
            df = pyogrio.read_dataframe(source.path, layer=sheets[0] if sheets else None, read_geometry=False,
                                        HEADERS="FORCE", FIELD_TYPES="STRING")
        except Exception as exc:  # GDAL's errors, translated at the edge
            raise InputError("unreadable_file", f"{source.name}：Excel文件无法解析（{gdal_reason(exc, source)}）",
                             {"file": source.name}) from exc
        _check_row_count(source, len(df))
        cells = df.astype(object).where(df.notna(), "").astype(str).values.tolist()
        header = [str(c) for c in df.columns]
        for row_no, row in enumerate([header, *cells], start=1):
            _check_cells(source, row, row_no)
        return header, cells, "XLSX"
    text, encoding = decode_text(source.path.read_bytes())
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;，")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows: list[list[str]] = []
    try:
        for row in reader:
            _check_cells(source, row, reader.line_num)
            rows.append(row)
            _check_row_count(source, len(rows) - 1)
    except csv.Error as exc:  # a cell past csv's own limit (128 KB), a NUL byte, a broken quote
        raise InputError("bad_table_row", f"{source.name}：第{reader.line_num}行无法解析（单元格过长或引号不配对）",
                         {"file": source.name, "row": reader.line_num}) from exc
    return (rows[0] if rows else []), rows[1:], encoding


def _check_row_count(source: Source, rows: int) -> None:
    limit = source.limits.max_rows
    if rows > limit:
        raise InputError("too_many_rows", f"{source.name}：表格超过{limit}行数据，超过上限；请分批提交或联系管理员",
                         {"file": source.name, "limit": limit})


def _check_cells(source: Source, row: list, row_no: int) -> None:
    limit = source.limits.max_cell_chars
    for col, cell in enumerate(row, start=1):
        if len(str(cell)) > limit:
            raise InputError("cell_too_long", f"{source.name}：第{row_no}行第{col}列的内容有{len(str(cell))}个字符，"
                             f"超过上限{limit}个", {"file": source.name, "row": row_no, "column": col, "limit": limit})


def read_table(source: Source, *, role: str, spec: dict[str, tuple[str, ...]] = INSTITUTION_COLUMNS,
               required: tuple[tuple[str, ...], ...] = (("name",), ("lon",), ("lat",))) -> Table:
    """Rows as canonical fields. ``required`` lists alternatives: (("x", "lon"),) needs x or lon."""
    header, cells, encoding = _raw_rows(source, role)
    found = Findings(file=source.name, layer=role)
    columns = match_columns(header, spec)
    missing = [alts for alts in required if not any(a in columns for a in alts)]
    if missing:
        names = "、".join("或".join("/".join(spec[a][:2]) for a in alts) for alts in missing)
        found.add("missing_columns", f"缺少必需的列：{names}", row=1, header=header)
        found.raise_if_any()
    index = {f: header.index(col) for f, col in columns.items()}
    rows, numbers = [], []
    for row_no, row in enumerate(cells, start=2):
        if not any(str(c).strip() for c in row):
            continue
        rows.append({f: (str(row[i]).strip() if i < len(row) else "") for f, i in index.items()})
        numbers.append(row_no)
    if not rows:
        found.add("empty_layer", "表中没有数据行", row=2)
    found.raise_if_any()
    return Table(rows, numbers, encoding, header)


def read_point_table(source: Source, *, role: str) -> Table:
    return read_table(source, role=role, spec=BOUNDARY_POINT_COLUMNS, required=(("x", "lon"), ("y", "lat")))


def parse_float(text: Any) -> float | None:
    try:
        value = float(str(text).strip().replace(",", ""))
    except (TypeError, ValueError):
        return None
    # 1e9 is beyond any coordinate in any CRS the registry reads; larger numbers only overflow later sums
    return value if value == value and abs(value) < 1e9 else None
