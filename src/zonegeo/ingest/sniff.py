"""Recognising a file's format by its content, not its extension."""

from __future__ import annotations

from pathlib import Path

from zonegeo.errors import InputError

SUPPORTED = ("geojson", "csv")

_SIGNATURES = (
    (b"PK\x03\x04", "ZIP压缩包（Shapefile压缩包、KMZ等）"),
    (b"SQLite format 3", "GeoPackage"),
    (b"\x00\x00\x27\x0a", "Shapefile（.shp）"),
    (b"%PDF", "PDF文档"),
    (b"\xd0\xcf\x11\xe0", "Office文档（.xls/.doc）"),
    (b"AC10", "DWG图纸"),
    (b"\x89PNG", "PNG图片"),
    (b"\xff\xd8\xff", "JPEG图片"),
)


def decode_text(raw: bytes) -> tuple[str, str]:
    """Decode text as UTF-8 (with or without BOM), else GB18030 (a superset of GBK)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding), "UTF-8" if encoding == "utf-8-sig" else "GBK/GB18030"
        except UnicodeDecodeError:
            continue
    raise InputError("unknown_encoding", "无法识别文件的文字编码（应为UTF-8或GBK）")


def sniff(path: Path) -> str:
    """The format of ``path`` judged by its first bytes; unsupported content is refused with its name."""
    try:
        head = path.read_bytes()[:4096]
    except OSError as exc:
        raise InputError("file_unreadable", f"无法读取文件：{path}", {"file": str(path)}) from exc
    if not head.strip():
        raise InputError("empty_file", f"文件为空：{path.name}", {"file": str(path)})
    for magic, label in _SIGNATURES:
        if head.startswith(magic):
            raise _unsupported(path, label)
    if b"\x00" in head:
        raise _unsupported(path, "二进制文件")
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    if text.startswith("{") and '"type"' in text:
        return "geojson"
    if text.startswith("<"):
        raise _unsupported(path, "XML文件（KML、GPX等）")
    first_line = text.splitlines()[0] if text else ""
    if "," in first_line or "\t" in first_line or "，" in first_line:
        return "csv"
    raise _unsupported(path, "无法识别的文本")


def _unsupported(path: Path, what: str) -> InputError:
    return InputError(
        "unsupported_format",
        f"不支持的文件格式：{path.name}（{what}）。目前支持GeoJSON图层和CSV机构表",
        {"file": str(path), "detected": what, "supported": list(SUPPORTED)},
    )
