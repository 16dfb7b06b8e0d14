"""Tables of institutions (CSV, UTF-8 or GBK) with lon/lat columns."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zonegeo.ingest.columns import INSTITUTION_COLUMNS, match_columns
from zonegeo.ingest.findings import Findings
from zonegeo.ingest.sniff import decode_text


@dataclass
class Table:
    rows: list[dict[str, str]]  # canonical field -> cell text
    row_numbers: list[int]  # line number of each row in the file (the header is line 1)
    encoding: str


def read_table(path: Path, *, role: str, spec: dict[str, tuple[str, ...]] = INSTITUTION_COLUMNS,
               required: tuple[str, ...] = ("name", "lon", "lat")) -> Table:
    text, encoding = decode_text(path.read_bytes())
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;，")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    found = Findings(file=path.name, layer=role)
    header = next(reader, [])
    columns = match_columns(header, spec)
    missing = [f for f in required if f not in columns]
    if missing:
        names = "、".join("/".join(spec[f][:2]) for f in missing)
        found.add("missing_columns", f"缺少必需的列：{names}", row=1, header=header, missing=missing)
        found.raise_if_any()
    index = {f: header.index(col) for f, col in columns.items()}
    rows, numbers = [], []
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        rows.append({f: (cells[i].strip() if i < len(cells) else "") for f, i in index.items()})
        numbers.append(line_no)
    if not rows:
        found.add("empty_layer", "表中没有数据行", row=2)
    found.raise_if_any()
    return Table(rows, numbers, encoding)


def parse_float(text: Any) -> float | None:
    try:
        value = float(str(text).strip())
    except (TypeError, ValueError):
        return None
    return value if value == value and abs(value) != float("inf") else None
