"""Recognising a file's format by its content, not its extension."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from zonegeo.errors import InputError

FORMAT_LABELS = {
    "geojson": "GeoJSON", "shapefile_zip": "Shapefile压缩包", "shapefile": "Shapefile", "kml": "KML",
    "kmz": "KMZ", "gpkg": "GeoPackage", "dxf": "DXF", "csv": "CSV表格", "xlsx": "Excel表格（.xlsx）",
    "redline_txt": "用地红线坐标TXT", "xls": "Excel表格（.xls）",
}
SUPPORTED_TEXT = "GeoJSON、Shapefile（.zip）、KML/KMZ、GeoPackage、DXF、CSV（UTF-8/GBK/UTF-16）、XLSX、XLS、用地红线坐标TXT"

OLE2_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old Office files (.xls, .doc)
GEOPACKAGE_HEADER = bytes.fromhex("53514c69746520666f726d6174203300")  # the first 16 bytes of a GeoPackage file

_REFUSED = (
    (b"\x89PNG", "PNG图片"),
    (b"\xff\xd8\xff", "JPEG图片"),
    (b"%PDF", "PDF文档"),
    (b"AC10", "DWG图纸，请在CAD中另存为DXF"),
    (b"Rar!", "RAR压缩包，请改用ZIP"),
    (b"7z\xbc\xaf", "7z压缩包，请改用ZIP"),
    (b"\x1f\x8b", "gzip压缩文件，请改用ZIP"),
)


# The encoding a user may choose for a file's text (the web form's 自动/UTF-8/GBK); None means detect it.
ENCODING_CHOICES = {"": None, "auto": None, "自动": None, "utf-8": "utf-8", "utf8": "utf-8", "gbk": "gb18030",
                    "gb18030": "gb18030", "gb2312": "gb18030", "cp936": "gb18030"}
ENCODING_LABELS = {"utf-8": "UTF-8", "gb18030": "GBK/GB18030", "utf-16": "UTF-16"}


def encoding_option(text: str | None, *, file: str = "", role: str = "") -> str | None:
    """The Python codec for a user's encoding choice (自动/UTF-8/GBK), None for automatic detection."""
    key = (text or "").strip().lower()
    if key not in ENCODING_CHOICES:
        raise InputError("bad_encoding_option", f"{file or role}：编码“{text}”无法识别，应为 自动、UTF-8 或 GBK",
                         {"file": file, "role": role, "encoding": text, "allowed": ["自动", "UTF-8", "GBK"]})
    return ENCODING_CHOICES[key]


def utf16_bom(raw: bytes) -> bool:
    """Excel's “Unicode 文本” and UTF-16 CSV start with a byte order mark."""
    return raw.startswith((b"\xff\xfe", b"\xfe\xff"))


def decode_text(raw: bytes, wanted: str | None = None) -> tuple[str, str]:
    """Decode text as UTF-16 (with a BOM), UTF-8 (with or without BOM), else GB18030 (a superset of GBK);
    ``wanted`` (a codec from :func:`encoding_option`) is the user's choice and is not second-guessed."""
    if utf16_bom(raw):
        try:
            return raw.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as exc:
            raise InputError("unknown_encoding", "文件以UTF-16标记开头，但内容不是有效的UTF-16文字") from exc
    if wanted:
        try:
            return raw.decode("utf-8-sig" if wanted == "utf-8" else wanted), f"{ENCODING_LABELS[wanted]}（按指定）"
        except UnicodeDecodeError as exc:
            raise InputError("wrong_encoding", f"文件不是有效的{ENCODING_LABELS[wanted]}文字；请选择“自动”或另一种编码",
                             {"encoding": ENCODING_LABELS[wanted]}) from exc
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
    if head.startswith(OLE2_HEADER):
        return "xls"  # an old Office file; a .doc or .ppt is refused when xlrd finds no workbook in it
    for magic, label in _REFUSED:
        if head.startswith(magic):
            raise _unsupported(name, label)
    if utf16_bom(head):  # Excel's “Unicode 文本” (tab-separated) and UTF-16 CSV; only tables are read in UTF-16
        text = head[: len(head) - len(head) % 2].decode("utf-16", errors="ignore").lstrip("\ufeff \t\r\n")
        lines = text.splitlines()[:HEADER_LINES]
        if text.startswith(("<", "{", "[")) or not any(sep in line for line in lines for sep in (",", "\t", "，", ";")):
            raise _unsupported(name, "UTF-16编码的非表格文件；UTF-16只用于表格（Excel“Unicode文本”或CSV）")
        return "csv"
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
    # a 界址点成果表 may start with a title line (界址点成果表) and metadata lines before its header row
    if any(sep in line for line in text.splitlines()[:HEADER_LINES] for sep in (",", "\t", "，", ";")):
        return "csv"
    raise _unsupported(name, "无法识别的文本")


HEADER_LINES = 10  # the lines in which a table's first separator must appear


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
