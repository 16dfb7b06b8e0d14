"""The one way the project writes .xlsx files: ``workbook(sheets) -> bytes`` on openpyxl. Each sheet has Chinese
headers in bold on a frozen row, column widths (given, or measured from the content with CJK characters counted
double) and optional caption lines above the header; a workbook may end with a 说明 sheet of plain lines.

Cells are written as values, never as formulas: a text starting with ``=`` (an institution name typed that way, say)
stays text, so an export cannot run anything in the reader's spreadsheet program."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from zonegeo.errors import InputError

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Cell = str | int | float | bool | decimal.Decimal | dt.date | dt.datetime | None

MAX_ROWS = 1_048_575  # Excel's row limit minus the header
MAX_CELL_CHARS = 32_767  # Excel's limit for the text of one cell
MIN_WIDTH, MAX_WIDTH = 6.0, 80.0  # measured column widths are kept inside these (characters)
_FONT = "宋体"
_HEADER_FONT = Font(name=_FONT, bold=True, size=11)
_CAPTION_FONT = Font(name=_FONT, bold=True, size=14)
_BODY_FONT = Font(name=_FONT, size=11)
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters XML 1.0 cannot hold
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Sheet:
    """One worksheet: ``title`` (its tab, at most 31 characters), the header row, the data rows.

    ``widths``: column widths in characters, measured from the content when not given. ``caption``: lines above the
    header (a title in large bold first, then e.g. a 坐标系 line) with ``merged`` ranges such as ``"A1:C1"``.
    ``freeze``: the header (and caption) stay in view while scrolling."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]] = ()
    widths: Sequence[float] | None = None
    caption: Sequence[Sequence[Cell]] = ()
    merged: Sequence[str] = field(default=())
    freeze: bool = True


def display_width(value: Cell) -> float:
    """How many character columns ``value`` takes in a spreadsheet: East Asian wide characters count double."""
    text = _text(value)
    longest = max((sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
                   for line in text.splitlines() or [""]), default=0)
    return float(longest)


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def measured_widths(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> list[float]:
    """Column widths from the longest header or value of each column (plus 2 for padding), within bounds."""
    columns = max([len(headers), *(len(r) for r in rows)], default=0)
    widest = [display_width(h) for h in headers] + [0.0] * (columns - len(headers))
    for row in rows:
        for i, value in enumerate(row):
            widest[i] = max(widest[i], display_width(value))
    return [min(MAX_WIDTH, max(MIN_WIDTH, w + 2)) for w in widest]


def _check(sheets: Sequence[Sheet]) -> None:
    seen: set[str] = set()
    for sheet in sheets:
        if not sheet.title or len(sheet.title) > 31 or _BAD_TITLE.search(sheet.title):
            raise InputError("xlsx_bad_sheet_title", f"工作表名称“{sheet.title}”不可用：须为1到31个字符且不含[]:*?/\\",
                             {"title": sheet.title})
        if sheet.title in seen:
            raise InputError("xlsx_duplicate_sheet", f"工作表名称“{sheet.title}”重复", {"title": sheet.title})
        seen.add(sheet.title)
        if len(sheet.rows) > MAX_ROWS:
            raise InputError("xlsx_too_many_rows", f"工作表“{sheet.title}”有{len(sheet.rows)}行，超过Excel上限{MAX_ROWS}行",
                             {"title": sheet.title, "rows": len(sheet.rows), "limit": MAX_ROWS})


def _put(ws: Worksheet, row: int, column: int, value: Cell, font: Font) -> None:
    cell: XlCell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = _ILLEGAL.sub("", value)[:MAX_CELL_CHARS]
        cell.data_type = "s"  # text, even when it starts with "=": never a formula
    elif isinstance(value, dt.datetime):
        cell.value = value.replace(tzinfo=None)  # Excel has no time zones: callers pass the local (Beijing) time
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
    elif isinstance(value, decimal.Decimal):
        cell.value = float(value)
    else:
        cell.value = value
    cell.font = font


def _write(ws: Worksheet, sheet: Sheet) -> None:
    r = 1
    for i, line in enumerate(sheet.caption):
        for c, value in enumerate(line, start=1):
            if value is not None and value != "":
                _put(ws, r, c, value, _CAPTION_FONT if i == 0 else _BODY_FONT)
        r += 1
    for c, header in enumerate(sheet.headers, start=1):
        _put(ws, r, c, header, _HEADER_FONT)
    header_row = r
    for row in sheet.rows:
        r += 1
        for c, value in enumerate(row, start=1):
            if value is not None:
                _put(ws, r, c, value, _BODY_FONT)
    for ref in sheet.merged:
        ws.merge_cells(ref)
    widths = list(sheet.widths) if sheet.widths is not None else measured_widths(sheet.headers, sheet.rows)
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    if sheet.freeze and sheet.headers:
        ws.freeze_panes = f"A{header_row + 1}"


def notes_sheet(lines: Sequence[str], title: str = "说明") -> Sheet:
    """A sheet of plain lines under a large bold title (``title``), one column wide enough to read."""
    return Sheet(title, headers=(), caption=[[title], *([line] for line in lines)], widths=[110], freeze=False)


def workbook(sheets: Sequence[Sheet], *, notes: Sequence[str] = (), notes_title: str = "说明") -> bytes:
    """The bytes of an .xlsx file holding ``sheets`` in order and, when ``notes`` are given, a last sheet named
    ``notes_title`` with those lines."""
    all_sheets = [*sheets, *([notes_sheet(notes, notes_title)] if notes else [])]
    if not all_sheets:
        raise InputError("xlsx_no_sheets", "工作簿至少需要一个工作表", {})
    _check(all_sheets)
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for sheet in all_sheets:
        _write(wb.create_sheet(sheet.title), sheet)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
