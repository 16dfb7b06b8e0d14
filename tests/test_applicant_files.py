"""Files as applicants and surveyors really make them: GBK Shapefiles without .cpg, zips made on Windows and
on macOS, 界址点成果表 with title rows, Excel's “Unicode 文本”, old .xls, floors written as people write them,
institution lists without coordinates. Every file is generated here, in tmp_path."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import box

from zonegeo.errors import InputError
from zonegeo.ingest.layers import ReadOptions, read_role

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
