"""Tables (CSV in UTF-8, GBK or UTF-16 — Excel's “Unicode 文本” —, XLSX through GDAL, old .xls through
xlrd): institution rows with lon/lat, and boundary point
tables (界址点坐标表: 点号, X = northing, Y = easting, optional ring and parcel columns).

Tables are read column-wise: pandas' C parser splits a CSV into columns (the csv module reads it row by row only
when the fast reader could not give the very same cells, or to name the row of a problem), and the cells of a
column are checked and stripped as arrays. Every bound (rows, cell length) is checked before the work it bounds."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyogrio

from zonegeo.errors import InputError
from zonegeo.ingest.columns import BOUNDARY_POINT_COLUMNS, INSTITUTION_COLUMNS, match_columns
from zonegeo.ingest.findings import Findings
from zonegeo.ingest.sniff import decode_text
from zonegeo.ingest.sources import ROLE_ALIASES, Source, choose_layers, gdal_reason


@dataclass
class Table:
    """The data rows of a table, column by column: ``columns`` maps each canonical field found in the header to
    its cells' text (stripped), one per data row; ``row_numbers`` are the rows' lines (CSV) or sheet rows (XLSX)."""

    columns: dict[str, np.ndarray]  # canonical field -> cell text of each data row (object array of str)
    row_numbers: list[int]  # line (CSV) or sheet row (XLSX) of each row
    encoding: str
    header: list[str]
    preamble: list[str] = field(default_factory=list)  # the title and metadata rows above the header, as text
    header_row: int = 1

    def __len__(self) -> int:
        return len(self.row_numbers)

    def column(self, name: str) -> np.ndarray:
        """The cells of a canonical field; empty text for every row when the table has no such column."""
        cells = self.columns.get(name)
        return cells if cells is not None else np.full(len(self), "", dtype=object)

    @property
    def rows(self) -> list[dict[str, str]]:
        """The rows as dicts (canonical field -> cell text), for small tables read row by row."""
        names = list(self.columns)
        return [dict(zip(names, cells, strict=True)) for cells in zip(*self.columns.values(), strict=True)] \
            if names else [{} for _ in range(len(self))]


HEADER_SEARCH_ROWS = 30  # title and metadata rows (界址点成果表, 宗地号, 坐标系 …) allowed above the header row


@dataclass
class _Grid:
    """Every row of a table: the top rows exactly as read (a CSV row may be shorter than others), and every
    row's cells column by column, short rows padded with empty text."""

    head: list[list[str]]
    columns: list[np.ndarray]
    count: int


def _grid_of_rows(rows: list[list[str]]) -> _Grid:
    """The grid of rows read one by one (the csv module's, xlrd's)."""
    width = max((len(r) for r in rows), default=0)
    columns = [np.empty(len(rows), dtype=object) for _ in range(width)]
    for k, col in enumerate(columns):
        col[:] = [r[k] if k < len(r) else "" for r in rows]
    return _Grid(rows[:HEADER_SEARCH_ROWS], columns, len(rows))


def _raw_grid(source: Source, role: str) -> tuple[_Grid, str]:
    """Every row of the table (the header is found later), and the encoding or format it was read in."""
    if source.format == "xlsx":
        return _xlsx_grid(source, role), "XLSX"
    if source.format == "xls":
        return _grid_of_rows(_xls_rows(source, role)), "XLS"
    raw = source.path.read_bytes()
    text, encoding = decode_text(raw, source.encoding)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",\t;，")
    except csv.Error:
        dialect = csv.excel
    grid = _csv_grid(source, text, dialect, raw if encoding.startswith("UTF-8") else None)
    return (grid if grid is not None else _grid_of_rows(_csv_rows(source, text, dialect))), encoding


def _xlsx_grid(source: Source, role: str) -> _Grid:
    sheets = choose_layers(source, role, None)
    try:
        df = pyogrio.read_dataframe(source.path, layer=sheets[0] if sheets else None, read_geometry=False,
                                    HEADERS="DISABLE", FIELD_TYPES="STRING")
    except Exception as exc:  # GDAL's errors, translated at the edge
        raise InputError("unreadable_file", f"{source.name}：Excel文件无法解析（{gdal_reason(exc, source)}）",
                         {"file": source.name}) from exc
    _check_row_count(source, len(df) - 1)
    columns = []
    for name in df.columns:
        values = df[name]
        columns.append(values.astype(object).where(values.notna(), "").astype(str).to_numpy(dtype=object))
    _check_columns(source, columns, len(df))
    head = [[str(col[r]) for col in columns] for r in range(min(len(df), HEADER_SEARCH_ROWS))]
    return _Grid(head, columns, len(df))


def _check_columns(source: Source, columns: list[np.ndarray], count: int) -> None:
    """The cell-length bound over whole sheet columns; the first cell past it (row by row, then column) is named
    by its sheet row, as a row-by-row check would name it."""
    limit = source.limits.max_cell_chars
    lengths = [np.fromiter(map(len, col), dtype=np.int64, count=count) for col in columns]
    over = [np.flatnonzero(n > limit) for n in lengths]
    rows = [int(o[0]) for o in over if len(o)]
    if not rows:
        return
    row = min(rows)
    col = next(k for k, n in enumerate(lengths) if n[row] > limit)
    _check_cells(source, [c[row] for c in columns[: col + 1]], row + 1)


def _csv_rows(source: Source, text: str, dialect: Any) -> list[list[str]]:
    """The csv module's rows, each checked as it is read; the reference the column-wise reader must equal."""
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
    return rows


# The separators pandas' C parser reads exactly as the csv module does; any other (a full-width ，separator) and any
# other quote or escape character is read by the csv module.
_FAST_DELIMITERS = (",", "\t", ";")


def _top_rows(text: str, dialect: Any) -> list[list[str]]:
    """The first HEADER_SEARCH_ROWS + 1 rows as the csv module reads them, from only as much text as they take."""
    size = 1 << 16
    while True:
        part = text[:size]
        rows = list(itertools.islice(csv.reader(io.StringIO(part), dialect), HEADER_SEARCH_ROWS + 2))
        if len(rows) > HEADER_SEARCH_ROWS + 1 or len(part) == len(text):  # the last row read may be cut short
            return rows[: HEADER_SEARCH_ROWS + 1]
        size *= 4


def _csv_grid(source: Source, text: str, dialect: Any, utf8: bytes | None) -> _Grid | None:
    """The CSV's cells column by column with pandas' C parser, or None where that reader might not give exactly
    the csv module's rows: an unusual dialect, a NUL byte, a bare carriage return (csv refuses it), a row wider
    than the top rows, an unterminated quote, too many rows or a cell past a bound (the csv module then names the
    row). The top rows are read by both readers and must agree. ``utf8``: the file's bytes when ``text`` was read
    from UTF-8 (pandas then reads them without a second encoding)."""
    if (dialect.delimiter not in _FAST_DELIMITERS or dialect.quotechar != '"' or dialect.escapechar is not None
            or "\x00" in text or text.count("\r") != text.count("\r\n")):
        return None
    # The sniffer says doublequote=False when its sample has no "" in a quoted cell; the two readings differ only
    # where a quote follows a closing quote, that is where "" is written.
    if not dialect.doublequote and '""' in text:
        return None
    try:
        head = _top_rows(text, dialect)
    except csv.Error:
        return None
    width = max((len(r) for r in head), default=0)
    if width == 0:
        return None
    max_rows = source.limits.max_rows
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a ParserWarning means the rows were not read as they are
            df = pd.read_csv(io.StringIO(text) if utf8 is None else io.BytesIO(utf8),
                             encoding="utf-8-sig" if utf8 is not None and utf8.startswith(codecs.BOM_UTF8) else "utf-8",
                             sep=dialect.delimiter, header=None, names=range(width),
                             index_col=False, dtype=object, na_filter=False, skip_blank_lines=False,
                             skipinitialspace=bool(dialect.skipinitialspace), quotechar='"', doublequote=True,
                             nrows=max_rows + 2, engine="c")
    except (ValueError, pd.errors.ParserError, Warning, csv.Error):
        return None
    if len(df) - 1 > max_rows or len(df) < len(head):
        return None
    columns = [df[c].to_numpy(dtype=object) for c in df.columns]
    if any(columns[k][r] != (row[k] if k < len(row) else "") for r, row in enumerate(head) for k in range(width)):
        return None
    limit = min(source.limits.max_cell_chars, csv.field_size_limit())
    if any(max(map(len, col), default=0) > limit for col in columns):
        return None
    return _Grid(head[:HEADER_SEARCH_ROWS], columns, len(df))


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


def _stripped(cells: np.ndarray) -> np.ndarray:
    """Cells' text without surrounding blanks."""
    out = np.empty(len(cells), dtype=object)
    out[:] = [c.strip() for c in cells.tolist()]
    return out


def read_table(source: Source, *, role: str, spec: dict[str, tuple[str, ...]] = INSTITUTION_COLUMNS,
               required: tuple[tuple[str, ...], ...] = (("name",), ("lon",), ("lat",))) -> Table:
    """Rows as canonical fields. ``required`` lists alternatives: (("x", "lon"),) needs x or lon. The header
    row is the first of the top rows that names every required column; rows above it (a title, 宗地号,
    坐标系 …) are kept as the preamble."""
    grid, encoding = _raw_grid(source, role)
    raw = grid.head
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
    start = header_at + 1
    cells = {f: _stripped(grid.columns[i][start:]) for f, i in index.items()}
    filled = np.zeros(max(grid.count - start, 0), dtype=bool)
    for col in cells.values():
        filled |= col != ""
    others = [k for k in range(len(grid.columns)) if k not in index.values()]
    for k in np.flatnonzero(~filled).tolist():  # rows blank in the read columns: blank in every other one too?
        filled[k] = any(str(grid.columns[c][start + k]).strip() for c in others)
    keep = np.flatnonzero(filled)
    numbers = (keep + start + 1).tolist()
    if not len(keep):
        found.add("empty_layer", "表中没有数据行", row=header_at + 2)
    found.raise_if_any()
    whole = len(keep) == len(filled)
    preamble = [" ".join(str(c).strip() for c in row if str(c).strip()) for row in raw[:header_at]]
    return Table({f: col if whole else col[keep] for f, col in cells.items()}, numbers, encoding, header,
                 [p for p in preamble if p], header_at + 1)


def read_point_table(source: Source, *, role: str) -> Table:
    return read_table(source, role=role, spec=BOUNDARY_POINT_COLUMNS, required=(("x", "lon"), ("y", "lat")))


def parse_float(text: Any) -> float | None:
    try:
        value = float(str(text).strip().replace(",", ""))
    except (TypeError, ValueError):
        return None
    # 1e9 is beyond any coordinate in any CRS the registry reads; larger numbers only overflow later sums
    return value if value == value and abs(value) < 1e9 else None


def parse_floats(cells: np.ndarray) -> np.ndarray:
    """:func:`parse_float` of every cell, NaN where it gives None: the numbers written plainly are converted
    together (``float`` of each, as numpy does it), the others one distinct text at a time."""
    values = np.full(len(cells), np.nan)
    written = np.flatnonzero(cells != "")
    if not len(written):
        return values
    try:
        values[written] = np.asarray(cells[written], dtype=float)
    except (TypeError, ValueError):
        by_text = {text: parse_float(text) for text in dict.fromkeys(cells[written].tolist())}
        values[written] = [np.nan if v is None else v for v in map(by_text.__getitem__, cells[written].tolist())]
        return values
    values[~(np.abs(values) < 1e9)] = np.nan  # NaN, infinite or beyond any coordinate: not a number here
    return values
