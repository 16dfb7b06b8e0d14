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
from zonegeo.ingest.sources import Source, choose_layers


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
            raise InputError("unreadable_file", f"{source.name}：Excel文件无法解析（{exc}）",
                             {"file": source.name}) from exc
        cells = df.astype(object).where(df.notna(), "").astype(str).values.tolist()
        return [str(c) for c in df.columns], cells, "XLSX"
    text, encoding = decode_text(source.path.read_bytes())
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;，")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, [])
    return header, list(reader), encoding


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
    return value if value == value and abs(value) != float("inf") else None
