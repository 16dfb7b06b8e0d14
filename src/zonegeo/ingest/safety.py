"""Defences against hostile or broken uploads: size limits, zip bombs and traversal, XML entities."""

from __future__ import annotations

import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from zonegeo.errors import InputError


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 50 * 1024 * 1024  # one uploaded file
    max_unpacked_bytes: int = 500 * 1024 * 1024  # everything inside one archive
    max_ratio: float = 100.0  # unpacked / packed, for the archive and for each entry
    max_entries: int = 2000


DEFAULT_LIMITS = Limits()
_XML_DANGER = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def check_size(path: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise InputError("file_too_large",
                         f"{path.name}：文件大小{size / 1048576:.1f} MB，超过上限{limits.max_file_bytes / 1048576:.0f} MB",
                         {"file": path.name, "bytes": size, "limit": limits.max_file_bytes})


def check_xml(data: bytes, name: str) -> None:
    """Refuse any XML that declares a DOCTYPE or entities (billion laughs, external entities)."""
    if _XML_DANGER.search(data):
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
    """Entry names: UTF-8 when flagged, else zip's cp437 that Chinese Windows tools wrote as GBK."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def safe_extract(archive: Path, dest: Path, limits: Limits = DEFAULT_LIMITS) -> list[Path]:
    """Unpack ``archive`` into ``dest`` after checking every entry; nothing is written if one is bad."""
    name = archive.name
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise InputError("bad_archive", f"{name}：压缩包已损坏或不是ZIP格式", {"file": name}) from exc
    with zf:
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
        if total > limits.max_unpacked_bytes or (total > 1_000_000 and total > limits.max_ratio * packed):
            raise InputError("archive_bomb", f"{name}：压缩包解压后共{total / 1048576:.0f} MB，超过上限或压缩比异常",
                             {"file": name, "unpacked_bytes": total})
        out = []
        budget = limits.max_unpacked_bytes
        for info in infos:
            target = dest / _entry_name(info)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, target.open("wb") as dst:
                while chunk := src.read(1 << 20):
                    budget -= len(chunk)
                    if budget < 0:  # sizes in the directory can lie
                        raise InputError("archive_bomb", f"{name}：压缩包解压后超过大小上限",
                                         {"file": name})
                    dst.write(chunk)
            out.append(target)
    return out
