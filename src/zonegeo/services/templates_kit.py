"""Templates the project gives applicants: 界址点坐标表.xlsx and 机构名录.xlsx laid out as the readers in ``ingest/``
accept them (written by services/xlsx.py; read back by GDAL's XLSX driver in tests/test_apply.py, which fills and
uploads the template), and 示例集聚区.zip (the demo zone folder)."""

from __future__ import annotations

import functools
import io
import zipfile
from pathlib import Path

from zonegeo.config import PROJECT_ROOT
from zonegeo.errors import NotFoundError
from zonegeo.services.xlsx import XLSX_TYPE, Cell, Sheet, workbook

DEMO_DIR = PROJECT_ROOT / "data" / "demo"
ZIP_TYPE = "application/zip"


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


@functools.cache
def boundary_points_xlsx() -> bytes:
    caption: list[list[Cell]] = [["界址点坐标表"], ["坐标系：2000国家大地坐标系", "3度带", "中央经线：120°"]]
    sheet = Sheet("四至", headers=POINT_HEADER, caption=caption, merged=["A1:C1"], widths=[14, 18, 18])
    return workbook([sheet], notes=[r[0] for r in POINT_NOTES[1:]], notes_title=POINT_NOTES[0][0])


@functools.cache
def institutions_xlsx() -> bytes:
    sheet = Sheet("机构", headers=INSTITUTION_HEADER, rows=INSTITUTION_EXAMPLES,
                  widths=[36, 22, 16, 14, 12, 28, 18, 8, 8, 13, 12])
    return workbook([sheet], notes=[r[0] for r in INSTITUTION_NOTES[1:]], notes_title=INSTITUTION_NOTES[0][0])


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
