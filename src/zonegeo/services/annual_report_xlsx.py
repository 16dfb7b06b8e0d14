"""The annual report's own Excel template: written prefilled with the city's zones (``services.xlsx``), and read back
with openpyxl into sections and per-zone figures, every bad cell named by sheet, row and column."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from zonegeo.domain import annual_report as ar
from zonegeo.errors import InputError
from zonegeo.services.xlsx import Sheet, workbook

REPORT_SHEET, INDICATOR_SHEET = "报告", "指标"
CODE, NAME = "集聚区编号", "集聚区名称"
REFERENCE = ("登记在册机构（家）", "创造", "运用", "保护", "人才")  # the register's, for reference: not read back
MAX_BYTES = 2 * 1024 * 1024
MAX_UNPACKED = 50 * 1024 * 1024  # an .xlsx is a zip: refuse a bomb before openpyxl unpacks it
MAX_ROWS = 500  # zones of one city: tens at most
MAX_COLUMNS = 40


def template(view: dict[str, Any]) -> bytes:
    """The template for the city's report on a year (``annual_reports.view``): 报告 (the three sections), 指标 (one
    row per zone, prefilled with the stored figures or the register's entered/left counts), 说明."""
    report = view["report"]
    city, year = view["city"], view["year"]
    sections = Sheet(REPORT_SHEET, headers=("项目", "内容"),
                     rows=[("设区市", city), ("年度", year), *((label, report.get(key) or "")
                                                              for key, label in ar.SECTIONS.items())],
                     widths=(14, 100))
    rows = []
    for z in view["zones"]:
        reg = z["from_register"]
        rows.append((z["code"], z["name"], *(z["values"].get(i.key) for i in ar.INDICATORS), reg["active"],
                     *(reg["chain"][link] for link in ar.CHAIN_LINKS)))
    figures = Sheet(INDICATOR_SHEET, headers=(CODE, NAME, *(i.label for i in ar.INDICATORS), *REFERENCE), rows=rows)
    due = view["timeliness"]
    notes = [
        f"{city}{year}年度集聚区总结报告（《江苏省知识产权服务业集聚发展区管理办法》第三章：设区市知识产权局每年一季度末前"
        "将上年度集聚区发展情况、存在问题及意见建议形成总结报告报省知识产权局）。",
        f"报送截止日期：{due['due']}（3月31日遇休息日顺延至下一个工作日）。",
        "“报告”工作表：在“内容”列填写发展情况、存在问题、意见建议，每项不超过"
        f"{ar.SECTION_MAX}个字符；“设区市”“年度”两行请勿修改。",
        "“指标”工作表：每个集聚区一行，请勿修改“集聚区编号”列，也不要增删集聚区。",
        "年内入驻机构、年内退出机构：已按机构名录的入驻、退出日期预填，可按实际情况修改（不含公共服务平台）。",
        "从业人员（人）、平台办理案件（件）、入驻和退出机构（家）填非负整数；服务收入、政策资金以万元为单位，"
        "填非负数，最多两位小数。没有的请填0，不要留空。",
        "“登记在册机构（家）”及创造、运用、保护、人才各列为机构名录在年末的登记数据，仅供核对，上传时不读取。",
        f"上传：在本系统“年度总结报告”页面选择本文件上传（.xlsx，不超过{MAX_BYTES // 1048576} MB），上传后保存为草稿，"
        "核对后再点“报送”。有误的单元格会按工作表、行、列逐一列出。",
    ]
    return workbook([sections, figures], notes=notes)


def _unpacked_size(content: bytes) -> int:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            return sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputError("xlsx_unreadable", "上传的文件不是有效的Excel文件（.xlsx），请使用本系统下载的模板",
                         {"field": "file"}) from None


def _header(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).replace(" ", "").strip()


def _cell_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def read(content: bytes, *, filename: str = "") -> tuple[dict[str, Any], dict[str, dict[str, Any]],
                                                          dict[str, dict[str, str]], list[ar.Problem]]:
    """(sections, figures by zone code, where each value came from, problems found while reading) from the bytes of
    a filled template. A file that is not a workbook of this template is refused at once, naming what is missing."""
    if not content:
        raise InputError("empty_file", "上传的文件为空", {"field": "file", "file": filename})
    if len(content) > MAX_BYTES:
        raise InputError("file_too_large", f"{filename or '文件'}超过上限{MAX_BYTES // 1048576} MB",
                         {"field": "file", "limit": MAX_BYTES})
    if _unpacked_size(content) > MAX_UNPACKED:
        raise InputError("xlsx_too_large", f"{filename or '文件'}解压后超过{MAX_UNPACKED // 1048576} MB，不是本系统的模板",
                         {"field": "file", "limit": MAX_UNPACKED})
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise InputError("xlsx_unreadable", "上传的文件不是有效的Excel文件（.xlsx），请使用本系统下载的模板",
                         {"field": "file"}) from None
    try:
        missing = [name for name in (REPORT_SHEET, INDICATOR_SHEET) if name not in book.sheetnames]
        if missing:
            raise InputError("xlsx_sheet_missing", f"缺少工作表“{'”“'.join(missing)}”，请使用本系统下载的模板"
                             f"（文件中的工作表：{'、'.join(book.sheetnames)}）", {"missing": missing})
        sections = _sections(book[REPORT_SHEET])
        figures, where, problems = _figures(book[INDICATOR_SHEET])
    finally:
        book.close()
    return sections, figures, where, problems


def _sections(ws: Any) -> dict[str, Any]:
    by_label = {label: key for key, label in ar.SECTIONS.items()} | {"设区市": "city", "年度": "year"}
    out: dict[str, Any] = {}
    for row in ws.iter_rows(min_row=2, max_row=20, max_col=2, values_only=True):
        label = _header(row[0] if row else None)
        if label in by_label:
            out[by_label[label]] = _cell_text(row[1] if len(row) > 1 else None)
    return out


def _figures(ws: Any) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, str]], list[ar.Problem]]:
    rows = ws.iter_rows(max_col=MAX_COLUMNS, values_only=True)
    headers = [_header(h) for h in next(rows, ())]
    columns = {h: i for i, h in enumerate(headers) if h}
    wanted = [CODE, *(_header(i.label) for i in ar.INDICATORS)]
    absent = [h for h in wanted if h not in columns]
    if absent:
        raise InputError("xlsx_column_missing", f"工作表“{INDICATOR_SHEET}”第1行缺少列“{'”“'.join(absent)}”"
                         f"（找到的列：{'、'.join(h for h in headers if h) or '无'}）", {"missing": absent})
    figures: dict[str, dict[str, Any]] = {}
    where: dict[str, dict[str, str]] = {}
    problems: list[ar.Problem] = []
    for r, row in enumerate(rows, start=2):
        if r > MAX_ROWS + 1:
            raise InputError("xlsx_too_many_rows", f"工作表“{INDICATOR_SHEET}”超过{MAX_ROWS}行，不是本系统的模板",
                             {"limit": MAX_ROWS})
        cells = list(row) + [None] * (len(headers) - len(row))
        code = _cell_text(cells[columns[CODE]])
        values = {i.key: cells[columns[_header(i.label)]] for i in ar.INDICATORS}
        place = f"工作表“{INDICATOR_SHEET}”第{r}行"
        if not code:
            if any(_cell_text(v) for v in values.values()):
                problems.append(ar.Problem("", "", "zone", CODE, "", "缺少集聚区编号", place))
            continue
        if code in figures:
            problems.append(ar.Problem(code, "", "zone", CODE, code, f"集聚区“{code}”重复出现（另见{where[code]['zone']}）",
                                       place))
            continue
        figures[code] = values
        where[code] = {"zone": place, **dict.fromkeys(values, place)}
    return figures, where, problems
