"""Makes the hostile upload corpus (issue 11): files that attack the upload path, each with the status and error
code the API must answer and the form fields to send. Nothing here is committed as a binary: run

    python tests/hostile/make_corpus.py OUT_DIR

to write the files and OUT_DIR/manifest.json, or import CASES (tests/test_hostile.py builds each case into a
temporary folder and uploads it). Every case must be refused with its code and nothing stored."""

from __future__ import annotations

import io
import json
import sqlite3
import struct
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# A small valid square in Nanjing (lon/lat, CGCS2000) for files whose attack is elsewhere.
SQUARE = [[118.780, 32.040], [118.782, 32.040], [118.782, 32.042], [118.780, 32.042], [118.780, 32.040]]
KML_OK = ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark>'
          '<name>四至</name><Polygon><outerBoundaryIs><LinearRing><coordinates>'
          + " ".join(f"{x},{y}" for x, y in SQUARE) + "</coordinates></LinearRing></outerBoundaryIs></Polygon>"
          "</Placemark></Document></kml>")
DOCTYPE = '<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
          + "]>")


@dataclass(frozen=True)
class Case:
    name: str  # the file name sent
    role: str
    status: int
    code: str  # the top-level code or the code of one of the findings
    build: Callable[[], bytes]
    form: dict[str, str] = field(default_factory=dict)
    note: str = ""
    slow: bool = False  # seconds, not milliseconds: left out of the inner test loop (-m "not slow")


CASES: list[Case] = []


def case(name: str, role: str = "boundary", status: int = 422, code: str = "", note: str = "", slow: bool = False,
         **form: str):
    def register(build: Callable[[], bytes]) -> Callable[[], bytes]:
        CASES.append(Case(name, role, status, code, build, dict(form), note or (build.__doc__ or "").strip(), slow))
        return build
    return register


# ---------------------------------------------------------------- helpers

def zip_bytes(entries: list[tuple[str | zipfile.ZipInfo, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def geojson(features: list[dict], **extra) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features, **extra}, ensure_ascii=False).encode()


def polygon_feature(ring, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def shp_stub() -> bytes:
    return b"\x00\x00\x27\x0a" + b"\x00" * 96


def xlsx(entries: dict[str, bytes]) -> bytes:
    base = {"[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            b'content-types"/>', "xl/workbook.xml": b'<?xml version="1.0"?><workbook/>'}
    return zip_bytes(list({**base, **entries}.items()))


def patch_zip_headers(data: bytes, *, flag: int | None = None, method: int | None = None) -> bytes:
    """Set the flag bits or the compression method in every local and central header."""
    out = bytearray(data)
    for sig, flag_at, method_at in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        start = 0
        while (i := out.find(sig, start)) >= 0:
            if flag is not None:
                struct.pack_into("<H", out, i + flag_at, struct.unpack_from("<H", out, i + flag_at)[0] | flag)
            if method is not None:
                struct.pack_into("<H", out, i + method_at, method)
            start = i + 4
    return bytes(out)


def gpkg(extra_sql: list[str], *, contents: bool = True) -> bytes:
    """A minimal GeoPackage made with sqlite3 only (header, gpkg_contents, one square), plus ``extra_sql``."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.gpkg"
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA application_id = 1196444487")
        conn.execute("PRAGMA user_version = 10300")
        conn.execute("CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY, organization TEXT,"
                     " organization_coordsys_id INTEGER, definition TEXT, description TEXT)")
        conn.execute("INSERT INTO gpkg_spatial_ref_sys VALUES ('CGCS2000', 4490, 'EPSG', 4490, 'undefined', '')")
        if contents:
            conn.execute("CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT, identifier TEXT,"
                         " description TEXT DEFAULT '', last_change DATETIME, min_x DOUBLE, min_y DOUBLE,"
                         " max_x DOUBLE, max_y DOUBLE, srs_id INTEGER)")
        for sql in extra_sql:
            conn.execute(sql)
        conn.commit()
        conn.close()
        return path.read_bytes()


RECURSIVE_VIEW = ("CREATE VIEW {name} AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r "
                  "WHERE x < 1000000000) SELECT count(*) AS n FROM r")


def csv_text(rows: list[str], header: str = "名称,经度,纬度") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def redline(attrs: str, body: str) -> bytes:
    return (f"[属性描述]\n{attrs}\n[地块坐标]\n{body}").encode()


REDLINE_ATTRS = "坐标系=2000国家大地坐标系\n几度分带=3\n投影类型=高斯克吕格\n计量单位=米\n带号=40"
REDLINE_PARCEL = ("5,1.0,1,甲地块,面,,工业用地,,@\nJ1,1,3550000.0,40500000.0\nJ2,1,3550100.0,40500000.0\n"
                  "J3,1,3550100.0,40500100.0\nJ4,1,3550000.0,40500100.0\nJ1,1,3550000.0,40500000.0\n")


# ---------------------------------------------------------------- archives

@case("zip_slip.zip", code="archive_unsafe_entry")
def _zip_slip() -> bytes:
    """A shapefile zip whose entry climbs out of the folder (zip slip)."""
    return zip_bytes([("../../../var/evil.shp", shp_stub()), ("../../../var/evil.dbf", b"x")])


@case("zip_absolute.zip", code="archive_unsafe_entry")
def _zip_absolute() -> bytes:
    return zip_bytes([("/etc/cron.d/evil.shp", shp_stub())])


@case("zip_drive.zip", code="archive_unsafe_entry")
def _zip_drive() -> bytes:
    return zip_bytes([("C:/Windows/evil.shp", shp_stub())])


@case("zip_backslash_slip.zip", code="archive_unsafe_entry")
def _zip_backslash() -> bytes:
    return zip_bytes([("..\\..\\evil.shp", shp_stub())])


@case("zip_symlink.zip", code="archive_unsafe_entry")
def _zip_symlink() -> bytes:
    info = zipfile.ZipInfo("boundary.shp")
    info.external_attr = (0o120777 << 16)  # a symbolic link to /etc/passwd
    return zip_bytes([(info, b"/etc/passwd")])


@case("zip_bomb.zip", code="archive_bomb")
def _zip_bomb() -> bytes:
    """One entry of 20 MB of zeros (compressed ~20 KB)."""
    return zip_bytes([("boundary.shp", b"\x00" * (20 << 20))])


@case("zip_bomb_many.zip", code="archive_bomb")
def _zip_bomb_many() -> bytes:
    """Many entries, each under the per-entry threshold, together far past the ratio."""
    return zip_bytes([("boundary.shp", shp_stub())] + [(f"pad/{i}.dbf", b"\x00" * 900_000) for i in range(40)])


@case("zip_many_entries.zip", code="archive_too_many_entries")
def _zip_many_entries() -> bytes:
    return zip_bytes([("boundary.shp", shp_stub())] + [(f"x/{i}.txt", b"") for i in range(2100)])


@case("zip_bad_crc.zip", code="bad_archive")
def _zip_bad_crc() -> bytes:
    data = bytearray(zip_bytes([("boundary.shp", shp_stub() + b"x" * 300), ("boundary.dbf", b"y" * 50)],
                               zipfile.ZIP_STORED))
    i = data.index(b"x" * 300)
    data[i + 5] ^= 0xFF  # the stored bytes change, the CRC in the headers does not
    return bytes(data)


@case("zip_truncated.zip", code="bad_archive")
def _zip_truncated() -> bytes:
    data = zip_bytes([("boundary.shp", shp_stub() * 50), ("boundary.dbf", b"y" * 5000)])
    return data[: len(data) // 2]


@case("zip_file_and_folder.zip", code="archive_name_clash")
def _zip_clash() -> bytes:
    """A file and a folder of one name: unpacking one breaks the other."""
    return zip_bytes([("boundary", b"x"), ("boundary/boundary.shp", shp_stub())])


@case("zip_duplicate.zip", code="archive_duplicate_entry")
def _zip_duplicate() -> bytes:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name: that is the point
        return zip_bytes([("boundary.shp", shp_stub()), ("boundary.shp", shp_stub() + b"\x01")])


@case("zip_encrypted.zip", code="bad_archive")
def _zip_encrypted() -> bytes:
    """The encryption flag set on every entry (zipfile cannot read it: it must not be a 500)."""
    return patch_zip_headers(zip_bytes([("boundary.shp", shp_stub()), ("boundary.dbf", b"y")]), flag=0x1)


@case("zip_unknown_method.zip", code="bad_archive")
def _zip_method() -> bytes:
    return patch_zip_headers(zip_bytes([("boundary.shp", shp_stub()), ("boundary.dbf", b"y")]), method=99)


@case("zip_nested.zip", code="unsupported_format")
def _zip_nested() -> bytes:
    inner = zip_bytes([("boundary.shp", shp_stub())])
    return zip_bytes([("inner.zip", inner)])


@case("zip_nested_bomb.zip", code="unsupported_format")
def _zip_nested_bomb() -> bytes:
    """A zip of zips of zeros (42.zip in small): never unpacked past the first level."""
    level = zip_bytes([(f"z{i}.bin", b"\x00" * (1 << 20)) for i in range(8)])
    for _ in range(3):
        level = zip_bytes([(f"l{i}.zip", level) for i in range(8)])
    return level


@case("zip_empty.zip", code="unsupported_format")
def _zip_empty() -> bytes:
    return zip_bytes([("readme.txt", b"nothing here")])


@case("zip_gpkg_inside.zip", code="unsupported_format")
def _zip_gpkg_inside() -> bytes:
    return zip_bytes([("boundary.gpkg", b"SQLite format 3\x00")])


@case("zip_bad_shapefile.zip", code="unreadable_file")
def _zip_bad_shp() -> bytes:
    return zip_bytes([("boundary.shp", shp_stub()), ("boundary.shx", b"\x00" * 100), ("boundary.dbf", b"\x03")])


# ---------------------------------------------------------------- KML / KMZ

@case("kmz_doctype.kmz", code="xml_doctype_refused")
def _kmz_doctype() -> bytes:
    return zip_bytes([("doc.kml", (DOCTYPE + KML_OK.split("?>", 1)[1]).encode())])


@case("kmz_utf16_doctype.kmz", code="xml_doctype_refused")
def _kmz_utf16() -> bytes:
    """The DOCTYPE in UTF-16: a byte search for "<!DOCTYPE" does not see it."""
    text = DOCTYPE.replace('version="1.0"', 'version="1.0" encoding="UTF-16"') + KML_OK.split("?>", 1)[1]
    return zip_bytes([("doc.kml", text.encode("utf-16"))])


@case("kmz_utf16be_doctype.kmz", code="xml_doctype_refused")
def _kmz_utf16be() -> bytes:
    text = DOCTYPE + KML_OK.split("?>", 1)[1]
    return zip_bytes([("doc.kml", b"\xfe\xff" + text.encode("utf-16-be"))])


@case("kmz_billion_laughs.kmz", code="xml_doctype_refused")
def _kmz_laughs() -> bytes:
    return zip_bytes([("doc.kml", (LAUGHS + KML_OK.split("?>", 1)[1]).encode())])


@case("kmz_bomb.kmz", code="archive_bomb")
def _kmz_bomb() -> bytes:
    return zip_bytes([("doc.kml", KML_OK.encode() + b" " * (30 << 20))])


@case("kmz_slip.kmz", code="archive_unsafe_entry")
def _kmz_slip() -> bytes:
    return zip_bytes([("../doc.kml", KML_OK.encode())])


@case("kml_xxe.kml", code="xml_doctype_refused")
def _kml_xxe() -> bytes:
    return (DOCTYPE + KML_OK.split("?>", 1)[1]).encode()


@case("kml_doctype_lowercase.kml", code="xml_doctype_refused")
def _kml_lower() -> bytes:
    return (DOCTYPE.replace("DOCTYPE", "doctype").replace("ENTITY", "entity") + KML_OK.split("?>", 1)[1]).encode()


@case("kml_billion_laughs.kml", code="xml_doctype_refused")
def _kml_laughs() -> bytes:
    return (LAUGHS + KML_OK.split("?>", 1)[1]).encode()


@case("kml_utf16_doctype.kml", code="unsupported_format")
def _kml_utf16() -> bytes:
    """A bare UTF-16 KML is refused before any XML parser sees it."""
    return (DOCTYPE + KML_OK.split("?>", 1)[1]).encode("utf-16")


# ---------------------------------------------------------------- XLSX

@case("xlsx_bomb.xlsx", role="institutions", code="archive_bomb")
def _xlsx_bomb() -> bytes:
    """Shared strings inflating 1000-fold (the review's 1.5 MB → 1.5 GB, scaled down)."""
    return xlsx({"xl/sharedStrings.xml": b"<sst>" + b"<si><t>a</t></si>" * (2 << 20) + b"</sst>"})


@case("xlsx_doctype.xlsx", role="institutions", code="xml_doctype_refused")
def _xlsx_doctype() -> bytes:
    return xlsx({"xl/worksheets/sheet1.xml": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM '
                 b'"file:///etc/passwd">]><worksheet>&e;</worksheet>'})


@case("xlsx_utf16_doctype.xlsx", role="institutions", code="xml_doctype_refused")
def _xlsx_utf16() -> bytes:
    text = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e "e">]><sst>&e;</sst>'
    return xlsx({"xl/sharedStrings.xml": text.encode("utf-16")})


@case("xlsx_laughs.xlsx", role="institutions", code="xml_doctype_refused")
def _xlsx_laughs() -> bytes:
    return xlsx({"xl/sharedStrings.xml": (LAUGHS + "<sst/>").encode()})


@case("xlsx_slip.xlsx", role="institutions", code="archive_unsafe_entry")
def _xlsx_slip() -> bytes:
    return xlsx({"xl/../../evil.xml": b"<x/>"})


@case("xlsx_bad_crc.xlsx", role="institutions", code="bad_archive")
def _xlsx_bad_crc() -> bytes:
    data = bytearray(zip_bytes([("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook>" + b"w" * 200
                                                                              + b"</workbook>")], zipfile.ZIP_STORED))
    i = data.index(b"w" * 200)
    data[i + 3] ^= 0x01
    return bytes(data)


@case("xlsx_broken.xlsx", role="institutions", code="unreadable_file")
def _xlsx_broken() -> bytes:
    return xlsx({"xl/worksheets/sheet1.xml": b"<not really a sheet"})


# ---------------------------------------------------------------- GeoPackage

@case("gpkg_recursive_view.gpkg", code="gpkg_view_refused")
def _gpkg_view() -> bytes:
    """A recursive view listed as a layer (the review: 36 KB, 74 s of CPU while its layers were listed)."""
    return gpkg([RECURSIVE_VIEW.format(name="boundary"),
                 "INSERT INTO gpkg_contents(table_name, data_type, identifier) VALUES ('boundary','attributes','b')"])


@case("gpkg_hidden_view.gpkg", code="empty_layer")
def _gpkg_hidden_view() -> bytes:
    """A recursive view not listed in gpkg_contents (GDAL would list and count it): never opened."""
    return gpkg([RECURSIVE_VIEW.format(name="slow")])


@case("gpkg_many_views.gpkg", code="gpkg_view_refused")
def _gpkg_many_views() -> bytes:
    sql = [RECURSIVE_VIEW.format(name=f"v{i}") for i in range(20)]
    sql += [f"INSERT INTO gpkg_contents(table_name, data_type, identifier) VALUES ('v{i}','features','v{i}')"
            for i in range(20)]
    return gpkg(sql)


@case("gpkg_no_contents.gpkg", code="unreadable_file")
def _gpkg_no_contents() -> bytes:
    return gpkg([RECURSIVE_VIEW.format(name="slow")], contents=False)


@case("gpkg_missing_table.gpkg", code="empty_layer")
def _gpkg_missing_table() -> bytes:
    return gpkg(["INSERT INTO gpkg_contents(table_name, data_type, identifier) VALUES ('ghost','features','g')"])


@case("gpkg_garbage.gpkg", code="unreadable_file")
def _gpkg_garbage() -> bytes:
    return b"SQLite format 3\x00" + b"\xff" * 4000


# ---------------------------------------------------------------- CSV tables

@case("csv_200kb_cell.csv", role="institutions", code="bad_table_row")
def _csv_200kb() -> bytes:
    return csv_text(["甲" * 200_000 + ",118.78,32.04"])


@case("csv_long_cell.csv", role="institutions", code="cell_too_long")
def _csv_long() -> bytes:
    return csv_text(["甲" * 20_000 + ",118.78,32.04"])


@case("csv_too_many_rows.csv", role="institutions", code="too_many_rows")
def _csv_rows() -> bytes:
    return csv_text([f"机构{i},118.78,32.04" for i in range(20_001)])


@case("csv_nan.csv", role="institutions", code="bad_coordinate")
def _csv_nan() -> bytes:
    return csv_text(["甲,NaN,NaN", "乙,118.78,32.04"])


@case("csv_inf.csv", role="institutions", code="bad_coordinate")
def _csv_inf() -> bytes:
    return csv_text(["甲,inf,-inf", "乙,118.78,32.04"])


@case("csv_1e308.csv", role="institutions", code="bad_coordinate")
def _csv_1e308() -> bytes:
    return csv_text(["甲,1e308,1e308", "乙,1e308,1e308"])


@case("csv_nul.csv", role="institutions", code="unsupported_format")
def _csv_nul() -> bytes:
    return csv_text(["甲\x00,118.78,32.04"])


@case("csv_header_only.csv", role="institutions", code="empty_layer")
def _csv_header_only() -> bytes:
    return csv_text([])


@case("csv_boundary_points_1e308.csv", code="bad_coordinate")
def _csv_points() -> bytes:
    return csv_text(["J1,1e308,1e308", "J2,3550100,40500000", "J3,3550100,40500100"], header="点号,X,Y")


# ---------------------------------------------------------------- red-line TXT

@case("redline_no_points.txt", code="redline_parcel_without_points")
def _red_no_points() -> bytes:
    return redline(REDLINE_ATTRS, "4,1.0,1,甲地块,面,,工业用地,,@\n")


@case("redline_zone_59.txt", code="bad_zone_number")
def _red_zone59() -> bytes:
    return redline(REDLINE_ATTRS.replace("带号=40", "带号=59"), REDLINE_PARCEL)


@case("redline_zone_999.txt", code="bad_zone_number")
def _red_zone999() -> bytes:
    return redline(REDLINE_ATTRS.replace("带号=40", "带号=999"), REDLINE_PARCEL)


@case("redline_6_degree.txt", code="crs_not_supported")
def _red_6deg() -> bytes:
    return redline(REDLINE_ATTRS.replace("几度分带=3", "几度分带=6"), REDLINE_PARCEL)


@case("redline_points_first.txt", code="redline_no_parcel_header")
def _red_points_first() -> bytes:
    return redline(REDLINE_ATTRS, "J1,1,3550000.0,40500000.0\n" + REDLINE_PARCEL)


@case("redline_1e308.txt", code="bad_coordinate")
def _red_1e308() -> bytes:
    return redline(REDLINE_ATTRS, REDLINE_PARCEL.replace("3550100.0,40500000.0", "1e308,1e308"))


# ---------------------------------------------------------------- GeoJSON geometry and numbers

@case("geojson_1e308.geojson", code="bad_coordinate")
def _gj_1e308() -> bytes:
    return geojson([polygon_feature([[1e308, 1e308], [-1e308, 1e308], [1e308, -1e308], [1e308, 1e308]])])


@case("geojson_nan.geojson", code="bad_coordinate")
def _gj_nan() -> bytes:
    ring = [[118.78, 32.04], ["NaN", 32.04], [118.79, 32.05], [118.78, 32.04]]
    return json.dumps({"type": "FeatureCollection", "features": [polygon_feature(ring)]}).replace(
        '"NaN"', "NaN").encode()


@case("geojson_repair_500k.geojson", code="too_many_vertices_to_repair", slow=True, repair="true")
def _gj_repair() -> bytes:
    """A self-intersecting polygon of 500 000 vertices sent for automatic repair."""
    n = 500_000
    ring = [[118.78 + 0.01 * (i % 2), 32.04 + 0.01 * i / n] for i in range(n)]  # a zigzag crossing itself
    ring.append(ring[0])
    return json.dumps({"type": "FeatureCollection", "features": [polygon_feature(ring)]}).encode()


@case("geojson_too_many_features.geojson", code="too_many_features", slow=True)
def _gj_features() -> bytes:
    point = {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [118.78, 32.04]}}
    return geojson([point] * 50_001)


@case("geojson_floors_1e308.geojson", role="buildings", code="bad_floors")
def _gj_floors() -> bytes:
    return geojson([polygon_feature(SQUARE, 名称="甲", 层数=1e308)])


@case("geojson_floors_negative.geojson", role="buildings", code="bad_floors")
def _gj_floors_neg() -> bytes:
    return geojson([polygon_feature(SQUARE, 名称="甲", 层数=-3)])


@case("geojson_floor_area_1e308.geojson", role="buildings", code="bad_floor_area")
def _gj_area() -> bytes:
    return geojson([polygon_feature(SQUARE, 名称="甲", 层数=3, 建筑面积=1e308)])


@case("geojson_crs_nadgrids.geojson", code="invalid_crs", crs="+proj=longlat +ellps=GRS80 +nadgrids=/etc/passwd")
def _gj_nadgrids() -> bytes:
    """A valid file with a PROJ string naming a server file as a grid."""
    return geojson([polygon_feature(SQUARE)])


@case("geojson_crs_path.geojson", code="invalid_crs", crs="/etc/passwd")
def _gj_crs_path() -> bytes:
    return geojson([polygon_feature(SQUARE)])


@case("geojson_crs_init.geojson", code="invalid_crs", crs="+init=epsg:4326")
def _gj_crs_init() -> bytes:
    return geojson([polygon_feature(SQUARE)])


@case("geojson_crs_url.geojson", code="invalid_crs", crs="https://example.invalid/x.prj")
def _gj_crs_url() -> bytes:
    return geojson([polygon_feature(SQUARE)])


@case("geojson_crs_wkt.geojson", code="invalid_crs", crs='GEOGCS["x",DATUM["d",SPHEROID["s",6378137,298.257]],'
      'PRIMEM["G",0],UNIT["degree",0.0174532925199433]]')
def _gj_crs_wkt() -> bytes:
    return geojson([polygon_feature(SQUARE)])


@case("geojson_crs_unknown_epsg.geojson", code="invalid_crs", crs="EPSG:999999")
def _gj_crs_epsg() -> bytes:
    return geojson([polygon_feature(SQUARE)])


@case("geojson_outside.geojson", code="outside_jiangsu")
def _gj_outside() -> bytes:
    return geojson([polygon_feature([[116.3, 39.9], [116.31, 39.9], [116.31, 39.91], [116.3, 39.9]])])


@case("geojson_empty.geojson", code="empty_layer")
def _gj_empty() -> bytes:
    return geojson([])


@case("geojson_points_as_boundary.geojson", code="wrong_geometry_type")
def _gj_points() -> bytes:
    return geojson([{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [118.78, 32.04]}}])


@case("geojson_deep.geojson", code="unreadable_file")
def _gj_deep() -> bytes:
    """Arrays nested 100 000 deep (a parser's recursion)."""
    return b'{"type": "FeatureCollection", "features": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


# ---------------------------------------------------------------- not a geodata file at all

@case("image.geojson", code="unsupported_format")
def _png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


@case("document.kml", code="unsupported_format")
def _pdf() -> bytes:
    return b"%PDF-1.7\n" + b"x" * 100


@case("drawing.dxf", code="unsupported_format")
def _dwg() -> bytes:
    return b"AC1032" + b"\x00" * 100


@case("empty.geojson", code="empty_file")
def _empty() -> bytes:
    return b""


@case("broken.dxf", code="unreadable_file")
def _broken_dxf() -> bytes:
    return b"0\nSECTION\n2\nENTITIES\n0\nLWPOLYLINE\n90\n999999999\n10\nnot-a-number\n"


# ---------------------------------------------------------------- writing the corpus

def manifest() -> list[dict]:
    return [{"file": c.name, "role": c.role, "status": c.status, "code": c.code, "form": c.form, "note": c.note}
            for c in CASES]


def make(out: Path) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    for c in CASES:
        (out / c.name).write_bytes(c.build())
    rows = manifest()
    (out / "manifest.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return rows


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/hostile/make_corpus.py OUT_DIR")
    print(f"{len(make(Path(sys.argv[1])))} files in {sys.argv[1]}")
