"""Defences against hostile or broken uploads: size limits, zip bombs and traversal, XML entities."""

from __future__ import annotations

import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from zonegeo.errors import InputError


@dataclass(frozen=True)
class Limits:
    """The work one input file may cause. Every limit is checked before the work it bounds, and a file past
    one is refused with a Chinese message naming the file (and the layer, row or feature)."""

    max_file_bytes: int = 50 * 1024 * 1024  # one uploaded file
    max_unpacked_bytes: int = 500 * 1024 * 1024  # everything inside one archive (shapefile zip, KMZ)
    max_xlsx_unpacked_bytes: int = 100 * 1024 * 1024  # everything inside one XLSX (GDAL holds a sheet in memory)
    max_ratio: float = 100.0  # unpacked / packed, for the archive and for each entry
    max_entries: int = 2000
    max_rows: int = 20_000  # table rows (institutions, boundary points)
    max_cell_chars: int = 10_000  # one table cell
    max_features: int = 50_000  # features of one layer
    max_vertices: int = 2_000_000  # vertices of one layer
    max_repair_vertices: int = 100_000  # vertices of one invalid polygon that repair (make_valid) may work on


DEFAULT_LIMITS = Limits()
_XML_DANGER = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def check_size(path: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise InputError("file_too_large",
                         f"{path.name}：文件大小{size / 1048576:.1f} MB，超过上限{limits.max_file_bytes / 1048576:.0f} MB",
                         {"file": path.name, "bytes": size, "limit": limits.max_file_bytes})


def _xml_texts(data: bytes) -> list[bytes]:
    """The XML as bytes in which an ASCII ``<!DOCTYPE`` shows, whatever its encoding: as stored, and as
    UTF-8 re-encoded from UTF-16/UTF-32 when the bytes hold NULs (XML may be in any of them)."""
    texts = [data]
    if b"\x00" in data[:4096]:
        for encoding in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
            texts.append(data.decode(encoding, errors="ignore").encode("utf-8", errors="ignore"))
    return texts


def check_xml(data: bytes, name: str) -> None:
    """Refuse any XML that declares a DOCTYPE or entities (billion laughs, external entities), in any encoding."""
    if any(_XML_DANGER.search(text) for text in _xml_texts(data)):
        raise InputError("xml_doctype_refused",
                         f"{name}：文件中含有DOCTYPE或实体声明，出于安全原因不予接受；请从原软件重新导出",
                         {"file": name})


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "使用了绝对路径"
    if ".." in path.parts:
        return "路径中含有“..”（目录穿越）"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "是符号链接"
    return None


def _entry_name(info: zipfile.ZipInfo) -> str:
    """Entry names: UTF-8 when flagged; unflagged names are the raw bytes that zipfile read as cp437, written
    as UTF-8 by macOS/Info-ZIP or as GBK by Chinese Windows. UTF-8 is tried first: GBK text is almost never
    valid UTF-8, while UTF-8 bytes often decode (as nonsense) under GB18030."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _open_zip(archive: Path, name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:  # a truncated or forged directory
        raise InputError("bad_archive", f"{name}：压缩包已损坏或不是ZIP格式", {"file": name}) from exc


def _check_names(infos: list[zipfile.ZipInfo], name: str) -> None:
    """Two entries of one name, or a file and a folder of one name, cannot both be unpacked."""
    files: set[str] = set()
    for info in infos:
        entry = _entry_name(info).replace("\\", "/").strip("/").lower()
        if entry in files:
            raise InputError("archive_duplicate_entry", f"{name}：压缩包内有重名的文件“{info.filename}”，不予接受",
                             {"file": name, "entry": info.filename})
        files.add(entry)
    folders = {str(parent) for f in files for parent in PurePosixPath(f).parents if str(parent) != "."}
    clash = sorted(files & folders)
    if clash:
        raise InputError("archive_name_clash", f"{name}：压缩包内“{clash[0]}”既是文件又是文件夹，不予接受",
                         {"file": name, "entry": clash[0]})


def _checked_entries(zf: zipfile.ZipFile, name: str, limits: Limits, max_unpacked: int) -> list[zipfile.ZipInfo]:
    """The archive's file entries after checking count, names, sizes and ratios from its directory."""
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if len(infos) > limits.max_entries:
        raise InputError("archive_too_many_entries", f"{name}：压缩包内文件过多（{len(infos)}个）",
                         {"file": name, "entries": len(infos)})
    total = sum(i.file_size for i in infos)
    packed = max(sum(i.compress_size for i in infos), 1)
    for info in infos:
        problem = _entry_problem(info)
        if problem:
            raise InputError("archive_unsafe_entry", f"{name}：压缩包内的“{info.filename}”{problem}，不予接受",
                             {"file": name, "entry": info.filename})
        if info.file_size > limits.max_ratio * max(info.compress_size, 1) and info.file_size > 1_000_000:
            raise InputError("archive_bomb", f"{name}：压缩包内“{info.filename}”的压缩比异常，疑似压缩炸弹",
                             {"file": name, "entry": info.filename})
    if total > max_unpacked or (total > 1_000_000 and total > limits.max_ratio * packed):
        raise InputError("archive_bomb", f"{name}：压缩包解压后共{total / 1048576:.0f} MB，超过上限或压缩比异常",
                         {"file": name, "unpacked_bytes": total})
    _check_names(infos, name)
    return infos


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: list[int]) -> Iterator[bytes]:
    """An entry's bytes in chunks, within ``budget`` (the sizes in the directory can lie); a bad CRC or a
    broken stream is a Chinese error naming the entry."""
    try:
        with zf.open(info) as src:
            while chunk := src.read(1 << 20):
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    raise InputError("archive_bomb", f"{name}：压缩包解压后超过大小上限", {"file": name})
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        raise InputError("bad_archive", f"{name}：压缩包内的“{info.filename}”已损坏（校验失败或无法解压）",
                         {"file": name, "entry": info.filename}) from exc


def check_xlsx(path: Path, name: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """An XLSX is a zip of XML: the same bomb and DOCTYPE checks as a KMZ before GDAL opens it."""
    with _open_zip(path, name) as zf:
        infos = _checked_entries(zf, name, limits, limits.max_xlsx_unpacked_bytes)
        budget = [limits.max_xlsx_unpacked_bytes]
        for info in infos:
            head, danger = b"", False
            for chunk in _read_entry(zf, info, name, budget):
                window = head[-64:] + chunk
                danger = danger or any(_XML_DANGER.search(t) for t in _xml_texts(window))
                head = window
            if danger:
                raise InputError("xml_doctype_refused",
                                 f"{name}：表格内的“{info.filename}”含有DOCTYPE或实体声明，出于安全原因不予接受；"
                                 "请用Excel或WPS重新保存", {"file": name, "entry": info.filename})


def safe_extract(archive: Path, dest: Path, limits: Limits = DEFAULT_LIMITS) -> list[Path]:
    """Unpack ``archive`` into ``dest`` after checking every entry; nothing is written if one is bad."""
    name = archive.name
    with _open_zip(archive, name) as zf:
        infos = _checked_entries(zf, name, limits, limits.max_unpacked_bytes)
        out = []
        budget = [limits.max_unpacked_bytes]
        for info in infos:
            target = dest / _entry_name(info)
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as dst:
                for chunk in _read_entry(zf, info, name, budget):
                    dst.write(chunk)
            out.append(target)
    return out
