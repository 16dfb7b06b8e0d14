"""Hostile uploads: archives that escape, explode or link; XML with entities; files too large."""

from __future__ import annotations

import stat
import zipfile

import pytest

from tests import formats
from zonegeo.errors import InputError
from zonegeo.ingest.role_files import ReadOptions, read_role
from zonegeo.ingest.safety import Limits


def read(path, role="boundary", **options):
    return read_role(path, role, options=ReadOptions(**options))


def _zip_with(path, name, data=b"x", *, symlink=False, compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compress) as zf:
        zf.writestr("a.shp", b"\x00\x00\x27\x0a" + b"\x00" * 96)
        info = zipfile.ZipInfo(name)
        info.compress_type = compress
        if symlink:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, data)
    return path


@pytest.mark.parametrize(("entry", "words"), [
    ("../../etc/evil.shp", "目录穿越"),
    ("/etc/evil.shp", "绝对路径"),
    ("C:/evil.shp", "绝对路径"),
])
def test_zip_entries_that_escape_are_refused(tmp_path, entry, words):
    path = _zip_with(tmp_path / "b.zip", entry)
    with pytest.raises(InputError) as e:
        read(path)
    assert e.value.code == "archive_unsafe_entry" and words in e.value.message
    assert not (tmp_path.parent / "etc").exists()


def test_symlinks_in_zips_are_refused(tmp_path):
    path = _zip_with(tmp_path / "b.zip", "link.dbf", b"/etc/passwd", symlink=True)
    with pytest.raises(InputError) as e:
        read(path)
    assert e.value.code == "archive_unsafe_entry" and "符号链接" in e.value.message


def test_zip_bombs_are_refused_before_unpacking(tmp_path):
    path = _zip_with(tmp_path / "b.zip", "big.dbf", b"\x00" * 30_000_000, compress=zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 100_000
    with pytest.raises(InputError) as e:
        read(path)
    assert e.value.code == "archive_bomb"


def test_total_unpacked_size_is_limited(tmp_path):
    path = formats.write_shapefile_zip(tmp_path / "b.zip")
    with pytest.raises(InputError) as e:
        read(path, limits=Limits(max_unpacked_bytes=100))
    assert e.value.code == "archive_bomb"


@pytest.mark.parametrize("declaration", [
    '<!DOCTYPE kml [<!ENTITY lol "lol">]>',
    '<!DOCTYPE kml SYSTEM "http://example.invalid/kml.dtd">',
    '<!ENTITY xxe SYSTEM "file:///etc/passwd">',
])
def test_xml_with_doctype_or_entities_is_refused(tmp_path, declaration):
    text = formats.kml_text().replace('<kml xmlns', f"{declaration}\n<kml xmlns", 1)
    path = tmp_path / "b.kml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as e:
        read(path)
    assert e.value.code == "xml_doctype_refused"
    kmz = tmp_path / "b.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.writestr("doc.kml", text)
    with pytest.raises(InputError) as e:
        read(kmz)
    assert e.value.code == "xml_doctype_refused"


def test_files_over_the_size_limit_are_refused(tmp_path):
    path = formats.write_geojson(tmp_path / "b.geojson")
    with pytest.raises(InputError) as e:
        read(path, limits=Limits(max_file_bytes=100))
    assert e.value.code == "file_too_large" and "MB" in e.value.message


def test_a_broken_zip_is_a_clear_error(tmp_path):
    path = tmp_path / "b.zip"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    with pytest.raises(InputError) as e:
        read(path)
    assert e.value.code == "bad_archive"


def test_zip_with_several_shapefiles_needs_role_names(tmp_path):
    src = formats.write_shapefile_zip(tmp_path / "one.zip")
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(two, "w") as b:
        for info in a.infolist():
            data = a.read(info)
            b.writestr(info.filename, data)
            b.writestr(info.filename.replace("四至范围", "道路"), data)
    with pytest.raises(InputError) as e:
        read(two, "core")
    assert e.value.code == "ambiguous_layer"
    assert read(two, "boundary").input["features"] == 1  # 四至范围.shp is named like the role
