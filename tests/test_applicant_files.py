"""Files as applicants and surveyors really make them: GBK Shapefiles without .cpg, zips made on Windows and
on macOS, 界址点成果表 with title rows, Excel's “Unicode 文本”, old .xls, floors written as people write them,
institution lists without coordinates. Every file is generated here, in tmp_path."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Polygon, box

from tests import formats
from tests.conftest import DEMO
from zonegeo.domain.measure import geodesic_area_m2
from zonegeo.errors import InputError
from zonegeo.ingest.role_files import ReadOptions, read_role

LON, LAT = 118.78, 32.04  # Nanjing
BUILDING_COLUMNS = {"名称": ["一号楼", "二号楼"], "层数": [18, 5], "使用层数": [6, 5], "建筑面积": [12000.0, 3000.0]}


def buildings_gdf(columns: dict | None = None) -> gpd.GeoDataFrame:
    geoms = [box(LON, LAT, LON + 0.001, LAT + 0.001), box(LON + 0.002, LAT, LON + 0.003, LAT + 0.001)]
    return gpd.GeoDataFrame(columns or BUILDING_COLUMNS, geometry=geoms, crs="EPSG:4490")


def write_shapefile(folder: Path, stem: str, *, encoding: str, ldid: int | None, columns: dict | None = None) -> Path:
    """A Shapefile with attributes in ``encoding``, no .cpg, and the .dbf code page byte set to ``ldid``."""
    folder.mkdir(parents=True, exist_ok=True)
    shp = folder / f"{stem}.shp"
    pyogrio.write_dataframe(buildings_gdf(columns), shp, encoding=encoding)
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    if ldid is not None:
        dbf = shp.with_suffix(".dbf")
        raw = bytearray(dbf.read_bytes())
        raw[29] = ldid
        dbf.write_bytes(bytes(raw))
    return shp


class RawNameInfo(zipfile.ZipInfo):
    """A zip entry whose name is written as the given bytes with no UTF-8 flag, as Windows Explorer (GBK) and
    macOS Archive Utility / Info-ZIP (UTF-8) write them; zipfile itself would set the flag."""

    def __init__(self, raw: bytes):
        super().__init__(raw.decode("cp437"))
        self.raw_name = raw

    def _encodeFilenameFlags(self):
        return self.raw_name, self.flag_bits & ~0x800


def zip_folder(folder: Path, target: Path, *, name_encoding: str, skip: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() in skip:
                continue
            entry = f"{folder.name}/{f.name}".encode(name_encoding)
            zf.writestr(RawNameInfo(entry), f.read_bytes())
    return target


def buildings(path: Path, **options):
    return read_role(path, "buildings", options=ReadOptions(**options))


# --- 1. GBK Shapefiles without .cpg, zips from Windows and macOS -------------------------------------------

def test_gbk_shapefile_marked_ansi_without_cpg_is_read_and_the_encoding_is_said(tmp_path):
    """A .dbf written on Chinese Windows says only “ANSI” (0x57) in its code page byte: GDAL reads it as
    Latin-1 and the 层数 field was not found."""
    shp = write_shapefile(tmp_path / "报批资料" / "建筑", "建筑", encoding="GBK", ldid=0x57)
    read = buildings(zip_folder(shp.parent, tmp_path / "建筑.zip", name_encoding="gbk"))
    assert [(b.name, b.floors, b.floors_used) for b in read.value] == [("一号楼", 18, 6), ("二号楼", 5, 5)]
    assert read.input["encoding"] == "GBK/GB18030（自动识别）"
    (said,) = [w for w in read.warnings if w["code"] == "encoding_chosen"]
    assert "GBK" in said["message"] and "建筑.zip" in said["message"]


def test_utf8_shapefile_without_cpg_is_not_taken_for_gbk(tmp_path):
    """Four fields make the .dbf header 161 (0xA1) bytes long: a byte that is not UTF-8, which made the
    whole file look like GBK and its UTF-8 names unreadable."""
    shp = write_shapefile(tmp_path / "建筑", "建筑", encoding="UTF-8", ldid=0)
    read = buildings(shp)
    assert [b.floors for b in read.value] == [18, 5] and read.value[0].name == "一号楼"
    assert read.input["encoding"] == "UTF-8（自动识别）"


@pytest.mark.parametrize(("chosen", "expected"), [("GBK", "GBK/GB18030（按指定）"), ("gbk", "GBK/GB18030（按指定）"),
                                                  ("自动", "GBK/GB18030（自动识别）")])
def test_the_encoding_can_be_chosen(tmp_path, chosen, expected):
    shp = write_shapefile(tmp_path / "建筑", "建筑", encoding="GBK", ldid=0x57)
    read = buildings(shp, encoding=chosen)
    assert read.value[0].name == "一号楼" and read.input["encoding"] == expected


def test_a_wrong_encoding_choice_is_refused_in_chinese(tmp_path):
    shp = write_shapefile(tmp_path / "建筑", "建筑", encoding="GBK", ldid=0x57)
    with pytest.raises(InputError) as e:
        buildings(shp, encoding="latin9")
    assert e.value.code == "bad_encoding_option" and "UTF-8" in e.value.message and "GBK" in e.value.message


@pytest.mark.parametrize(("missing", "label"), [(".shx", "索引文件"), (".dbf", "属性表")])
def test_a_zip_without_shx_or_dbf_names_the_missing_part_in_chinese(tmp_path, missing, label):
    shp = write_shapefile(tmp_path / "建筑", "建筑", encoding="GBK", ldid=0x57)
    path = zip_folder(shp.parent, tmp_path / "建筑.zip", name_encoding="gbk", skip=(missing,))
    with pytest.raises(InputError) as e:
        buildings(path)
    assert e.value.code == "shapefile_part_missing"
    assert f"建筑{missing}" in e.value.message and label in e.value.message
    assert str(tmp_path) not in str(e.value.to_dict()) and "/tmp" not in e.value.message
    assert not any(word in e.value.message for word in ("Unable", "open", "failed", "No such"))


@pytest.mark.parametrize("maker", ["gbk", "utf-8"], ids=["windows_gbk_names", "macos_utf8_names"])
def test_zip_entry_names_without_the_utf8_flag_are_decoded(tmp_path, maker):
    """Two Shapefiles in one zip, in a Chinese-named folder; the role picks 建筑.shp by its (decoded) name."""
    folder = tmp_path / "某集聚区申报图层"
    write_shapefile(folder, "建筑", encoding="GBK", ldid=0x57)
    write_shapefile(folder, "四至", encoding="GBK", ldid=0x57, columns={"名称": ["甲", "乙"]})
    path = zip_folder(folder, tmp_path / "图层.zip", name_encoding=maker)
    with zipfile.ZipFile(path) as zf:
        assert not any(i.flag_bits & 0x800 for i in zf.infolist())
    read = buildings(path)
    assert [b.floors for b in read.value] == [18, 5]


# --- 2. 界址点成果表 as surveyors make them -------------------------------------------------------------------

def survey_rows(headers: tuple[str, str] = ("X坐标(m)", "Y坐标(m)")) -> list[list[str]]:
    """序号, 点号, X (northing), Y (easting), 边长 — in CGCS2000 GK zone 40 without the zone prefix."""
    rows = [["序号", "点号", headers[0], headers[1], "边长(m)"]]
    for k, (east, north) in enumerate(formats.closed(formats.SHELL), start=1):
        rows.append([str(k), f"J{k}", f"{north:.3f}", f"{east:.3f}", "12.5"])
    return rows


PREAMBLE = [["界址点成果表"], ["宗地号：320102001001GB00001", "", "面积：6.00公顷"],
            ["坐标系：2000国家大地坐标系", "3度带", "中央经线：120°"]]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", sep: str = ",") -> Path:
    path.write_bytes("\r\n".join(sep.join(r) for r in rows).encode(encoding) + b"\r\n")
    return path


def _cell_ref(r: int, c: int) -> str:
    return f"{chr(ord('A') + c)}{r}"


def write_xlsx(path: Path, rows: list[list[str]], merged: tuple[str, ...] = ()) -> Path:
    """A minimal Excel 2007+ workbook (inline strings, merged cells) written as the zip of XML it is."""
    body = []
    for r, row in enumerate(rows, start=1):
        cells = "".join(f'<c r="{_cell_ref(r, c)}" t="inlineStr"><is><t>{v}</t></is></c>'
                        for c, v in enumerate(row) if v != "")
        body.append(f'<row r="{r}">{cells}</row>')
    merge = (f'<mergeCells count="{len(merged)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merged)
             + "</mergeCells>") if merged else ""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
        'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        f'package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
        '</Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} xmlns:r="{rel}"><sheets>'
        '<sheet name="界址点成果表" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><sheetData>'
        + "".join(body) + f"</sheetData>{merge}</worksheet>",
    }
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def boundary(path: Path, **options):
    return read_role(path, "boundary", options=ReadOptions(**options))


def assert_reference_parcel(read) -> None:
    assert read.input["crs"].startswith("EPSG:4549")
    shell_area = geodesic_area_m2(read.value)
    expected = geodesic_area_m2(Polygon(formats.lonlat(formats.SHELL)))
    assert shell_area == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("headers", [("X坐标(m)", "Y坐标(m)"), ("X(m)", "Y(m)"), ("纵坐标X", "横坐标Y"),
                                     ("X坐标（m）", "Y坐标（m）")])
def test_survey_table_headers_below_a_title_with_the_crs_declared_above(tmp_path, headers):
    read = boundary(write_csv(tmp_path / "界址点成果表.csv", PREAMBLE + survey_rows(headers), encoding="gbk"))
    assert_reference_parcel(read)
    assert read.input["points"] == len(formats.SHELL) + 1


def test_survey_table_in_xlsx_with_merged_title_cells(tmp_path):
    path = write_xlsx(tmp_path / "界址点成果表.xlsx", PREAMBLE + survey_rows(), merged=("A1:E1", "A2:B2"))
    assert_reference_parcel(boundary(path))


def test_a_central_meridian_line_declares_the_crs_like_a_redline_txt(tmp_path):
    """带号 40 with the zone prefix on the eastings: EPSG:4528, declared, not inferred."""
    rows = [["界址点成果表"], ["坐标系", "CGCS2000"], ["带号", "40"]] + [
        [r[1], r[2], str(float(r[3]) + 40_000_000) if i else r[3]] for i, r in enumerate(survey_rows())]
    read = boundary(write_csv(tmp_path / "成果表.csv", rows))
    assert read.input["crs"].startswith("EPSG:4528")


def test_a_missing_column_names_the_file_and_the_columns_found(tmp_path):
    rows = [["界址点成果表"], ["序号", "点号", "北", "东", "边长"], ["1", "J1", "3545000", "375000", "3"]]
    with pytest.raises(InputError) as e:
        boundary(write_csv(tmp_path / "测绘成果.csv", rows))
    (finding,) = e.value.detail["findings"]
    assert e.value.code == "missing_columns"
    assert "测绘成果.csv" in finding["message"] and "序号、点号、北、东、边长" in finding["message"]


# --- 3. Tables as offices save them; floors as people write them ------------------------------------------

INSTITUTION_ROWS = [["名称", "统一社会信用代码", "经度", "纬度", "链条环节"],
                    ["南京某专利代理事务所", "", "118.7805", "32.0405", "创造"],
                    ["江苏某知识产权运营公司", "", "118.7825", "32.0405", "运用"]]


def institutions(path: Path, **options):
    return read_role(path, "institutions", options=ReadOptions(**options))


def test_excel_unicode_text_export_is_read(tmp_path):
    """Excel's 另存为 “Unicode 文本”: UTF-16 LE with a BOM, tab-separated."""
    path = write_csv(tmp_path / "机构名录.txt", INSTITUTION_ROWS, encoding="utf-16", sep="\t")
    assert path.read_bytes()[:2] == b"\xff\xfe" and b"\x00" in path.read_bytes()
    read = institutions(path)
    assert [i.name for i in read.value] == ["南京某专利代理事务所", "江苏某知识产权运营公司"]
    assert read.input["encoding"] == "UTF-16"


def test_utf16_csv_survey_table_is_read(tmp_path):
    path = write_csv(tmp_path / "界址点.csv", PREAMBLE + survey_rows(), encoding="utf-16")
    assert_reference_parcel(boundary(path))


def test_old_xls_workbook_is_read(tmp_path):
    """An Excel 97–2003 workbook (BIFF8, as WPS writes .xls), written here with xlwt, with a merged title."""
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("界址点成果表")
    sheet.write_merge(0, 0, 0, 4, "界址点成果表")
    for r, row in enumerate(PREAMBLE[1:] + survey_rows(), start=1):
        for c, value in enumerate(row):
            number = r > len(PREAMBLE) and c in (0, 2, 3)
            sheet.write(r, c, float(value) if number else value)  # coordinates as numbers, as typed in Excel
    path = tmp_path / "界址点成果表.xls"
    book.save(str(path))
    assert path.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"
    read = boundary(path)
    assert_reference_parcel(read)
    assert read.input["format"] == "xls" and read.input["encoding"] == "XLS"


def test_a_word_document_saved_as_xls_is_refused_in_chinese(tmp_path):
    path = tmp_path / "机构.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000)
    with pytest.raises(InputError) as e:
        institutions(path)
    assert e.value.code == "unsupported_format" and "机构.xls" in e.value.message


def write_buildings_geojson(path: Path, floors: list) -> Path:
    n = len(floors)
    geoms = [box(LON + 0.002 * k, LAT, LON + 0.002 * k + 0.001, LAT + 0.001) for k in range(n)]
    gdf = gpd.GeoDataFrame({"名称": [f"{k + 1}号楼" for k in range(n)], "层数": floors}, geometry=geoms,
                           crs="EPSG:4490")
    pyogrio.write_dataframe(gdf, path, driver="GeoJSON")
    return path


def test_floors_written_as_people_write_them(tmp_path):
    path = write_buildings_geojson(tmp_path / "建筑.geojson", ["18层", "5F", "地上12层，地下2层", "十二层", "二十三层", "7"])
    read = buildings(path)
    assert [b.floors for b in read.value] == [18, 5, 12, 12, 23, 7]
    assert [b.floors_used for b in read.value] == [18, 5, 12, 12, 23, 7]
    (said,) = [w for w in read.warnings if w["code"] == "basements_not_counted"]
    assert "3号楼" in said["message"] and "地下2层" in said["message"]


def test_the_rules_file_states_how_basements_are_read():
    import tomllib

    rules = tomllib.loads((Path(__file__).parents[1] / "data/rules/jiangsu-2024.toml").read_text(encoding="utf-8"))
    assert rules["rules"]["floor_area"]["basements"] == "excluded"
    assert "地下" in rules["rules"]["floor_area"]["basements_reading"]


def test_an_empty_floors_cell_says_missing_floors_and_names_the_row(tmp_path):
    path = write_buildings_geojson(tmp_path / "建筑.geojson", ["18层", None, "abc"])
    with pytest.raises(InputError) as e:
        buildings(path)
    first, second = e.value.detail["findings"]
    assert (first["code"], first["feature"]) == ("missing_floors", 2)
    assert first["message"] == "第2个要素（2号楼）缺少层数"
    assert second["code"] == "bad_floors" and "abc" in second["message"]
    assert "nan" not in str(e.value.to_dict()).lower()


def test_a_zone_folder_can_choose_the_encoding_per_role(tmp_path):
    """zone.toml [encoding] buildings = "GBK", like [crs] and [layer]; a wrong choice is refused by name."""
    from zonegeo.ingest.plan import read_zone_dir

    folder = tmp_path / "某集聚区"
    folder.mkdir()
    for name in ("boundary.geojson", "core.geojson"):
        shutil.copy(DEMO / name, folder / name)
    shp = write_shapefile(tmp_path / "src", "buildings", encoding="GBK", ldid=0x57)
    zip_folder(shp.parent, folder / "buildings.zip", name_encoding="gbk")
    toml = 'code = "T-1"\nname = "测试集聚区"\ncity = "南京市"\n[encoding]\nbuildings = "{}"\n'
    (folder / "zone.toml").write_text(toml.format("GBK"), encoding="utf-8")
    read = read_zone_dir(folder).read
    (record,) = [i for i in read.inputs if i["role"] == "buildings"]
    assert record["encoding"] == "GBK/GB18030（按指定）"
    (folder / "zone.toml").write_text(toml.format("Big5"), encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_zone_dir(folder)
    assert e.value.code == "bad_encoding_option"
