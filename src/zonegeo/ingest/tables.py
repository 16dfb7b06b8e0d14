"""Tables (CSV in UTF-8, GBK or UTF-16 — Excel's “Unicode 文本” —, XLSX through GDAL, old .xls through
xlrd): institution rows with lon/lat, and boundary point
tables (界址点坐标表: 点号, X = northing, Y = easting, optional ring and parcel columns)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import pyogrio

from zonegeo.errors import InputError
from zonegeo.ingest.columns import BOUNDARY_POINT_COLUMNS, INSTITUTION_COLUMNS, match_columns
from zonegeo.ingest.findings import Findings
from zonegeo.ingest.sniff import decode_text
from zonegeo.ingest.sources import ROLE_ALIASES, Source, choose_layers, gdal_reason


@dataclass
class Table:
    rows: list[dict[str, str]]  # canonical field -> cell text
    row_numbers: list[int]  # line (CSV) or sheet row (XLSX) of each row
    encoding: str
    header: list[str]
    preamble: list[str] = field(default_factory=list)  # the title and metadata rows above the header, as text
    header_row: int = 1


HEADER_SEARCH_ROWS = 30  # title and metadata rows (界址点成果表, 宗地号, 坐标系 …) allowed above the header row


def _raw_rows(source: Source, role: str) -> tuple[list[list[str]], str]:
    """Every row of the table (the header is found later), and the encoding or format it was read in."""
    if source.format == "xlsx":
        sheets = choose_layers(source, role, None)
        try:
            df = pyogrio.read_dataframe(source.path, layer=sheets[0] if sheets else None, read_geometry=False,
                                        HEADERS="DISABLE", FIELD_TYPES="STRING")
        except Exception as exc:  # GDAL's errors, translated at the edge
            raise InputError("unreadable_file", f"{source.name}：Excel文件无法解析（{gdal_reason(exc, source)}）",
                             {"file": source.name}) from exc
        _check_row_count(source, len(df) - 1)
        cells = df.astype(object).where(df.notna(), "").astype(str).values.tolist()
        for row_no, row in enumerate(cells, start=1):
            _check_cells(source, row, row_no)
        return cells, "XLSX"
    if source.format == "xls":
        return _xls_rows(source, role), "XLS"
    text, encoding = decode_text(source.path.read_bytes(), source.encoding)
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
    return rows, encoding


def _xls_rows(source: Source, role: str) -> list[list[str]]:
    """An old Excel workbook (.xls, BIFF8 as WPS and Excel 97–2003 write it) read with xlrd: the sheet named
    like the role, else the first sheet with cells."""
    import xlrd  # only for .xls

    try:
        book = xlrd.open_workbook(str(source.path), on_demand=True)
    except Exception as exc:  # xlrd's errors (not a workbook, a .doc, a damaged file), translated at the edge
        raise InputError("unsupported_format", f"{source.name}：不是可读取的Excel工作簿（.xls），"
                         "如为Word等其他旧版Office文档请改为表格", {"file": source.name}) from exc
    try:
        names = book.sheet_names()
        wanted = [n for n in names if n.strip().lower() in ROLE_ALIASES.get(role, ())]
        sheets = [book.sheet_by_name(wanted[0])] if wanted else [book.sheet_by_index(i) for i in range(len(names))]
        sheet = next((sh for sh in sheets if sh.nrows), sheets[0])
        _check_row_count(source, sheet.nrows - 1)
        rows = []
        for r in range(sheet.nrows):
            row = [_xls_cell(sheet.cell(r, c)) for c in range(sheet.ncols)]
            _check_cells(source, row, r + 1)
            rows.append(row)
        return rows
    finally:
        book.release_resources()


def _xls_cell(cell: Any) -> str:
    value = cell.value
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


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
    """Rows as canonical fields. ``required`` lists alternatives: (("x", "lon"),) needs x or lon. The header
    row is the first of the top rows that names every required column; rows above it (a title, 宗地号,
    坐标系 …) are kept as the preamble."""
    raw, encoding = _raw_rows(source, role)
    found = Findings(file=source.name, layer=role)
    top = [match_columns(row, spec) for row in raw[:HEADER_SEARCH_ROWS]]
    complete = [k for k, matched in enumerate(top) if all(any(a in matched for a in alts) for alts in required)]
    if complete:
        header_at = complete[0]
    else:  # the row most like a header, to name the columns that were found
        header_at = max(range(len(top)), key=lambda k: (len(top[k]), sum(bool(str(c).strip()) for c in raw[k]), -k),
                        default=0)
    columns = top[header_at] if top else {}
    header = [str(c) for c in raw[header_at]] if raw else []
    missing = [alts for alts in required if not any(a in columns for a in alts)]
    if missing:
        names = "、".join("或".join("/".join(spec[a][:2]) for a in alts) for alts in missing)
        seen = "、".join(h.strip() for h in header if h.strip()) or "（无）"
        found.add("missing_columns", f"缺少必需的列：{names}（文件“{source.name}”第{header_at + 1}行找到的列：{seen}）",
                  row=header_at + 1, header=header)
        found.raise_if_any()
    index = {f: header.index(col) for f, col in columns.items()}
    rows, numbers = [], []
    for row_no, row in enumerate(raw[header_at + 1 :], start=header_at + 2):
        if not any(str(c).strip() for c in row):
            continue
        rows.append({f: (str(row[i]).strip() if i < len(row) else "") for f, i in index.items()})
        numbers.append(row_no)
    if not rows:
        found.add("empty_layer", "表中没有数据行", row=header_at + 2)
    found.raise_if_any()
    preamble = [" ".join(str(c).strip() for c in row if str(c).strip()) for row in raw[:header_at]]
    return Table(rows, numbers, encoding, header, [p for p in preamble if p], header_at + 1)


def read_point_table(source: Source, *, role: str) -> Table:
    return read_table(source, role=role, spec=BOUNDARY_POINT_COLUMNS, required=(("x", "lon"), ("y", "lat")))


def parse_float(text: Any) -> float | None:
    try:
        value = float(str(text).strip().replace(",", ""))
    except (TypeError, ValueError):
        return None
    # 1e9 is beyond any coordinate in any CRS the registry reads; larger numbers only overflow later sums
    return value if value == value and abs(value) < 1e9 else None
