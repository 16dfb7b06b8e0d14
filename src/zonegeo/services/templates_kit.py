"""Templates the project gives applicants: 界址点坐标表.xlsx and 机构名录.xlsx laid out as the readers in ``ingest/``
accept them, and 示例集聚区.zip (the demo zone folder). Made here, in memory, with no spreadsheet library: an
.xlsx is a zip of a few XML parts (ECMA-376), and the small subset written below — inline strings, numbers,
bold header cells, merged title cells, column widths, a frozen header, several sheets — opens in Excel, WPS and LibreOffice and
is read back by GDAL's XLSX driver (tests/test_apply.py fills and uploads the template)."""

from __future__ import annotations

import functools
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from zonegeo.config import PROJECT_ROOT
from zonegeo.errors import NotFoundError

DEMO_DIR = PROJECT_ROOT / "data" / "demo"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_TYPE = "application/zip"

Cell = str | int | float | None
PLAIN, BOLD, TITLE = 0, 1, 2  # cell styles (see _STYLES)


@dataclass
class Sheet:
    name: str
    rows: list[list[Cell]]
    styles: dict[int, int] = field(default_factory=dict)  # row index (0-based) -> style of its cells
    merged: list[str] = field(default_factory=list)  # "A1:C1"
    widths: list[float] = field(default_factory=list)  # column widths in characters
    freeze_rows: int = 0  # rows kept in view when scrolling (a frozen header)


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def _cell(ref: str, value: Cell, style: int) -> str:
    s = f' s="{style}"' if style else ""
    if isinstance(value, bool) or value is None or value == "":
        return ""
    if isinstance(value, int | float):
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>'
    text = escape(str(value))
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{text}</t></is></c>'


_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (f'{_XML}<styleSheet {_NS}>'
           '<fonts count="3"><font><sz val="11"/><name val="宋体"/></font>'
           '<font><b/><sz val="11"/><name val="宋体"/></font><font><b/><sz val="14"/><name val="宋体"/></font></fonts>'
           '<fills count="2"><fill><patternFill patternType="none"/></fill>'
           '<fill><patternFill patternType="gray125"/></fill></fills>'
           '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
           '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
           '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
           '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
           '</styleSheet>')


def _sheet_xml(sheet: Sheet) -> str:
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                   for i, w in enumerate(sheet.widths, start=1))
    rows = []
    for r, row in enumerate(sheet.rows, start=1):
        style = sheet.styles.get(r - 1, PLAIN)
        cells = "".join(_cell(f"{_column(c)}{r}", v, style) for c, v in enumerate(row))
        rows.append(f'<row r="{r}">{cells}</row>')
    merged = (f'<mergeCells count="{len(sheet.merged)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in sheet.merged)
              + "</mergeCells>") if sheet.merged else ""
    frozen = (f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="{sheet.freeze_rows}" '
              f'topLeftCell="A{sheet.freeze_rows + 1}" activePane="bottomLeft" state="frozen"/></sheetView>'
              '</sheetViews>') if sheet.freeze_rows else ""
    return (f'{_XML}<worksheet {_NS}>{frozen}' + (f"<cols>{cols}</cols>" if cols else "")
            + f'<sheetData>{"".join(rows)}</sheetData>{merged}</worksheet>')


def xlsx(sheets: list[Sheet]) -> bytes:
    """A workbook of ``sheets`` as the bytes of an .xlsx file."""
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.'
                        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                        for i in range(1, len(sheets) + 1))
    parts = {
        "[Content_Types].xml": f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.'
        f'openxmlformats-officedocument.spreadsheetml.styles+xml"/>{overrides}</Types>',
        "_rels/.rels": f'{_XML}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'{_XML}<workbook {_NS} xmlns:r="{_REL}"><sheets>'
        + "".join(f'<sheet name="{escape(s.name)}" sheetId="{i}" r:id="rId{i}"/>'
                  for i, s in enumerate(sheets, start=1)) + "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": f'{_XML}<Relationships xmlns="{_PKG_REL}">'
        + "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                  for i in range(1, len(sheets) + 1))
        + f'<Relationship Id="rId{len(sheets) + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml": _STYLES,
    }
    for i, sheet in enumerate(sheets, start=1):
        parts[f"xl/worksheets/sheet{i}.xml"] = _sheet_xml(sheet)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text.encode("utf-8"),
                        compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


# ---- the templates -----------------------------------------------------------------------------------------------

# 界址点坐标表: the header the point-table reader matches (ingest/columns.py BOUNDARY_POINT_COLUMNS, units in brackets
# dropped), under a title and a 坐标系 line as surveyors write them; ingest/redline.py reads that line's datum and
# central meridian as the declared CRS (CGCS2000 3-degree zone, central meridian 120° covers 118.5°E–121.5°E).
POINT_HEADER = ["点号", "X坐标(m)", "Y坐标(m)"]
POINT_TITLE_ROWS = 2  # the header is on row 3, the points from row 4
POINT_NOTES = [
    ["填写说明"],
    ["1. 在“四至”工作表第4行起逐行填写界址点：点号、X坐标（纵坐标，北向，米）、Y坐标（横坐标，东向，米）。"],
    ["2. 按界址点顺序（顺时针或逆时针）填写，首尾点可以相同，也可以不重复首点。"],
    ["3. 第2行写明平面坐标所用的大地基准和投影带：如“2000国家大地坐标系 3度带 中央经线：120°”。"
     "江苏省在东经118.5°以西的地区（徐州、宿迁、连云港西部等）用中央经线117°，以东用120°。"],
    ["4. Y坐标带有带号前缀（如40开头的8位数）时也可直接填写，系统会识别。"],
    ["5. 有多个地块或内环（“洞”）时，可增加“地块”和“圈号”两列。"],
    ["6. 不要改动标题行和表头，不要合并数据单元格。"],
]

# 机构名录: the columns ingest/institutions.py reads (ingest/columns.py INSTITUTION_COLUMNS). 经度/纬度 are optional
# when 楼栋 names a building of the layout.
INSTITUTION_HEADER = ["名称", "统一社会信用代码", "类型", "服务类型", "链条环节", "地址", "楼栋", "楼层", "房间", "经度", "纬度"]
INSTITUTION_EXAMPLES: list[list[Cell]] = [
    ["南京星河专利代理事务所（示例）", "9132010500297727X6", "服务机构", "代理", "创造",
     "南京市建邺区示例路100号", "A座 知识产权大厦", "3", "301", None, None],
    ["金陵知识产权代理有限公司（示例）", "913201053109802782", "服务机构", "代理、咨询", "创造、运用",
     "南京市建邺区示例路101号", "A座 知识产权大厦", "5", "502", 118.7339814, 32.0058128],
    ["南京市知识产权保护中心河西工作站（示例）", "", "知识产权保护中心", "维权援助", "保护",
     "南京市建邺区示例路108号", "F座 法律服务楼", "1", "", None, None],
]
INSTITUTION_NOTES = [
    ["填写说明"],
    ["1. “机构”工作表每行一家入驻机构或公共服务平台；第2–4行为示例，提交前请删除或替换。"],
    ["2. 名称必填；统一社会信用代码填18位代码，系统会校验。"],
    ["3. 类型：服务机构、知识产权保护中心、快速维权中心、知识产权业务窗口、其他公共服务平台。"],
    ["4. 链条环节：创造、运用、保护、人才，可填多个，用顿号分隔。"],
    ["5. 楼栋与建筑图层中的建筑名称完全一致时（如“A座 知识产权大厦”），可不填经纬度，系统按楼栋定位；"
     "填写经纬度时请用WGS84/CGCS2000坐标，不要从高德、腾讯、百度地图直接复制（有数百米偏移）。"],
]


def _notes(rows: list[list[str]]) -> Sheet:
    return Sheet("填写说明", [list[Cell](r) for r in rows], styles={0: TITLE}, widths=[110])


@functools.cache
def boundary_points_xlsx() -> bytes:
    title: list[Cell] = ["界址点坐标表", "", ""]
    crs: list[Cell] = ["坐标系：2000国家大地坐标系", "3度带", "中央经线：120°"]
    sheet = Sheet("四至", [title, crs, list(POINT_HEADER)], styles={0: TITLE, 2: BOLD}, merged=["A1:C1"],
                  widths=[14, 18, 18])
    return xlsx([sheet, _notes(POINT_NOTES)])


@functools.cache
def institutions_xlsx() -> bytes:
    sheet = Sheet("机构", [list(INSTITUTION_HEADER), *[list(r) for r in INSTITUTION_EXAMPLES]], styles={0: BOLD},
                  widths=[36, 22, 16, 14, 12, 28, 18, 8, 8, 13, 12])
    return xlsx([sheet, _notes(INSTITUTION_NOTES)])


def _demo_zip(folder: Path) -> bytes:
    if not (folder / "zone.toml").is_file():
        raise NotFoundError("demo_missing", "示例集聚区数据不可用（安装中缺少data/demo）", {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            zf.write(path, f"示例集聚区/{path.relative_to(folder).as_posix()}")
    return out.getvalue()


@functools.cache
def demo_zone_zip() -> bytes:
    """The demo zone's folder (data/demo: zone.toml, the layers, the institution list, its README) in one zip
    whose names carry the UTF-8 flag."""
    return _demo_zip(DEMO_DIR)


TEMPLATES = {  # path segment -> (file name offered, media type, maker)
    "boundary-points.xlsx": ("界址点坐标表.xlsx", XLSX_TYPE, boundary_points_xlsx),
    "institutions.xlsx": ("机构名录.xlsx", XLSX_TYPE, institutions_xlsx),
    "demo-zone.zip": ("示例集聚区.zip", ZIP_TYPE, demo_zone_zip),
}


def template(slug: str) -> tuple[str, str, bytes]:
    """(file name, media type, bytes) of one template."""
    if slug not in TEMPLATES:
        raise NotFoundError("template_not_found", f"没有模板“{slug}”", {"template": slug, "allowed": list(TEMPLATES)})
    name, media, make = TEMPLATES[slug]
    return name, media, make()
