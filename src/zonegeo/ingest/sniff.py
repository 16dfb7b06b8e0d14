"""Recognising a file's format by its content, not its extension."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from zonegeo.errors import InputError

FORMAT_LABELS = {
    "geojson": "GeoJSON", "shapefile_zip": "Shapefile压缩包", "shapefile": "Shapefile", "kml": "KML",
    "kmz": "KMZ", "gpkg": "GeoPackage", "dxf": "DXF", "csv": "CSV表格", "xlsx": "Excel表格（.xlsx）",
    "redline_txt": "用地红线坐标TXT",
}
SUPPORTED_TEXT = "GeoJSON、Shapefile（.zip）、KML/KMZ、GeoPackage、DXF、CSV、XLSX、用地红线坐标TXT"

GEOPACKAGE_HEADER = bytes.fromhex("53514c69746520666f726d6174203300")  # the first 16 bytes of a GeoPackage file

_REFUSED = (
    (b"\x89PNG", "PNG图片"),
    (b"\xff\xd8\xff", "JPEG图片"),
    (b"%PDF", "PDF文档"),
    (b"\xd0\xcf\x11\xe0", "旧版Office文档（.xls/.doc），请另存为.xlsx"),
    (b"AC10", "DWG图纸，请在CAD中另存为DXF"),
    (b"Rar!", "RAR压缩包，请改用ZIP"),
    (b"7z\xbc\xaf", "7z压缩包，请改用ZIP"),
    (b"\x1f\x8b", "gzip压缩文件，请改用ZIP"),
)


def decode_text(raw: bytes) -> tuple[str, str]:
    """Decode text as UTF-8 (with or without BOM), else GB18030 (a superset of GBK)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding), "UTF-8" if encoding == "utf-8-sig" else "GBK/GB18030"
        except UnicodeDecodeError:
            continue
    raise InputError("unknown_encoding", "无法识别文件的文字编码（应为UTF-8或GBK）")


def _zip_kind(path: Path, name: str) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n.lower() for n in zf.namelist()]
    except zipfile.BadZipFile as exc:
        raise InputError("bad_archive", f"{name}：压缩包已损坏或不是ZIP格式", {"file": name}) from exc
    if "[content_types].xml" in names and any(n.startswith("xl/") for n in names):
        return "xlsx"
    if any(n.endswith(".kml") for n in names) and not any(n.endswith(".shp") for n in names):
        return "kmz"
    if any(n.endswith(".shp") for n in names):
        return "shapefile_zip"
    if any(n.endswith(".gpkg") or n.endswith(".geojson") or n.endswith(".json") for n in names):
        raise _unsupported(name, "ZIP压缩包（内含GeoPackage/GeoJSON，请直接上传该文件）")
    raise _unsupported(name, "ZIP压缩包（未找到.shp或.kml）")


def sniff(path: Path, name: str | None = None) -> str:
    """The format of ``path`` judged by its first bytes; unsupported content is refused with its name."""
    name = name or path.name
    try:
        with path.open("rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise InputError("file_unreadable", f"无法读取文件：{name}", {"file": name}) from exc
    if not head.strip():
        raise InputError("empty_file", f"文件为空：{name}", {"file": name})
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path, name)
    if head.startswith(GEOPACKAGE_HEADER):
        return "gpkg"
    if head.startswith(b"\x00\x00\x27\x0a"):
        return "shapefile"
    for magic, label in _REFUSED:
        if head.startswith(magic):
            raise _unsupported(name, label)
    if b"\x00" in head:
        raise _unsupported(name, "二进制文件")
    text = _head_text(head).lstrip("\ufeff \t\r\n")
    if text.startswith("{") and re.search(r'"type"\s*:', text):
        return "geojson"
    if text.startswith("<"):
        if re.search(r"<kml[\s>]", text[:4096]):
            return "kml"
        raise _unsupported(name, "XML文件（GPX、GML等）")
    if re.match(r"^\s*0\s*\r?\n\s*SECTION\s*\r?\n", text) or re.match(r"^\s*999\s*\r?\n", text):
        return "dxf"
    if "[属性描述]" in text or "[地块坐标]" in text:
        return "redline_txt"
    first_line = text.splitlines()[0] if text else ""
    if any(sep in first_line for sep in (",", "\t", "，", ";")):
        return "csv"
    raise _unsupported(name, "无法识别的文本")


def _head_text(head: bytes) -> str:
    """The first bytes as text (UTF-8, else GB18030), tolerating a character cut at the end."""
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:
            return head[: exc.start].decode("utf-8")
    return head.decode("gb18030", errors="ignore")


def _unsupported(name: str, what: str) -> InputError:
    return InputError(
        "unsupported_format",
        f"不支持的文件格式：{name}（{what}）。支持：{SUPPORTED_TEXT}",
        {"file": name, "detected": what},
    )
