"""Receiving multipart uploads: each file streamed to a temporary file, never past the size limit; loose
Shapefile parts (.shp/.dbf/.shx/.prj/.cpg of one name) sent together are put in one folder and read as one file."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import UploadFile

from zonegeo.errors import InputError
from zonegeo.services.uploads import UploadedFile

_CHUNK = 1 << 20
# The parts of one Shapefile: the geometry (.shp), its index (.shx) and attributes (.dbf) are required by the
# reader; the projection (.prj), code page (.cpg) and spatial indexes are optional.
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".sbn", ".sbx", ".qix", ".fix")
_REQUIRED_PARTS = {".shp": "几何（.shp）", ".shx": "索引（.shx）", ".dbf": "属性表（.dbf）"}
ROLE_LABELS = {"boundary": "四至范围", "core": "核心区", "buildings": "建筑", "institutions": "机构"}


def _safe_name(name: str | None, index: int) -> str:
    base = re.sub(r"[\\/\x00-\x1f]", "_", (name or "").strip()).lstrip(".")
    return base[-200:] or f"file{index}"


@dataclass(frozen=True)
class _Saved:
    path: Path
    name: str
    role: str
    crs: str
    layer: str
    encoding: str


def _part_suffix(name: str) -> str | None:
    suffix = Path(name).suffix.lower()
    if name.lower().endswith(".shp.xml"):
        return ".shp.xml"
    return suffix if suffix in SHAPEFILE_PARTS else None


def _stem(name: str, suffix: str) -> str:
    return name[: len(name) - len(suffix)].lower()


def _write(upload: UploadFile, target: Path, name: str, max_bytes: int) -> None:
    size = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise InputError("file_too_large", f"{name}：文件超过上限{max_bytes / 1048576:.0f} MB",
                                 {"file": name, "limit": max_bytes})
            out.write(chunk)


def group_shapefile_parts(saved: list[_Saved], folder: Path) -> list[UploadedFile]:
    """One UploadedFile per file, except that the loose parts of one Shapefile (same role, same name but for
    the extension, compared without case) become one: its parts moved into one folder and the .shp handed on.
    A part without its .shp, or a .shp without its .shx or .dbf, is refused naming the missing part."""
    groups: dict[tuple[str, str], list[tuple[_Saved, str]]] = {}
    out: list[UploadedFile | tuple[str, str]] = []  # files in order; a tuple marks where a group goes
    for item in saved:
        suffix = _part_suffix(item.name)
        if suffix is None:
            out.append(UploadedFile(path=item.path, name=item.name, role=item.role, crs=item.crs or None,
                                    layer=item.layer or None, encoding=item.encoding or None))
            continue
        key = (item.role, _stem(item.name, suffix))
        if key not in groups:
            groups[key] = []
            out.append(key)
        groups[key].append((item, suffix))
    findings: list[dict[str, Any]] = []
    done: dict[tuple[str, str], UploadedFile] = {}
    for n, (key, parts) in enumerate(groups.items()):
        role = key[0]
        names = [p.name for p, _ in parts]
        suffixes = [s for _, s in parts]
        where = {"role": role, "files": names}
        twice = sorted({s for s in suffixes if suffixes.count(s) > 1})
        if twice:
            findings.append({"code": "shapefile_part_repeated", "message": f"{ROLE_LABELS.get(role, role)}：Shapefile"
                             f"“{names[0]}”的{'、'.join(twice)}部分选择了不止一次", "file": names[0], **where})
            continue
        missing = [label for suffix, label in _REQUIRED_PARTS.items() if suffix not in suffixes]
        shp = next((p for p, s in parts if s == ".shp"), None)
        if missing:
            shown = shp.name if shp else names[0]
            findings.append({"code": "shapefile_part_missing", "message": f"{ROLE_LABELS.get(role, role)}：Shapefile"
                             f"“{shown}”缺少{'、'.join(missing)}文件；请把同名的.shp、.shx、.dbf（以及.prj、.cpg）"
                             "一起选择或拖入，或打包成.zip上传", "file": shown, "missing": missing, **where})
            continue
        assert shp is not None
        target = folder / f"shp{n}"
        target.mkdir()
        base = Path(shp.name).stem
        for part, suffix in parts:  # the sidecars renamed to the .shp's own name, as the reader looks for them
            ext = suffix if shp.name.endswith(".shp") else suffix.upper()
            part.path.rename(target / (shp.name if suffix == ".shp" else base + ext))
        done[key] = UploadedFile(path=target / shp.name, name=shp.name, role=role, crs=shp.crs or None,
                                 layer=shp.layer or None, encoding=shp.encoding or None)
    if findings:
        if len(findings) == 1:
            only = findings[0]
            raise InputError(only["code"], only["message"],
                             {k: v for k, v in only.items() if k not in ("code", "message")})
        raise InputError("upload_invalid", f"上传的文件未通过检查：{findings[0]['message']}等{len(findings)}项",
                         {"findings": findings})
    return [done[f] if isinstance(f, tuple) else f for f in out]


def _save_all(files: Sequence[UploadFile], roles: Sequence[str], crs: Sequence[str], layers: Sequence[str],
              encodings: Sequence[str], folder: Path, max_bytes: int) -> list[_Saved]:
    saved = []
    for i, (upload, role, crs_i, layer_i, encoding_i) in enumerate(zip(files, roles, crs, layers, encodings,
                                                                       strict=True)):
        name = _safe_name(upload.filename, i)
        (folder / str(i)).mkdir()
        target = folder / str(i) / name  # keep the user's name: GDAL and messages see it
        _write(upload, target, name, max_bytes)
        saved.append(_Saved(target, name, role.strip(), crs_i.strip(), layer_i.strip(), encoding_i.strip()))
    return saved


def save_uploads(files: list[UploadFile], roles: list[str], crs: list[str], layers: list[str], folder: Path,
                 max_bytes: int, encodings: list[str] | None = None) -> list[UploadedFile]:
    """The API's form: one role (and optional CRS, layer, encoding) per file, in the order of the files."""
    files = [f for f in files if f.filename]
    if not files:
        raise InputError("no_files", "没有选择任何文件", {})
    if len(roles) != len(files):
        raise InputError("roles_mismatch", f"上传了{len(files)}个文件，但给出了{len(roles)}个用途（roles）；每个文件需要一个用途",
                         {"files": len(files), "roles": len(roles)})
    crs = (crs + [""] * len(files))[: len(files)]
    layers = (layers + [""] * len(files))[: len(files)]
    encodings = (list(encodings or []) + [""] * len(files))[: len(files)]
    return group_shapefile_parts(_save_all(files, roles, crs, layers, encodings, folder, max_bytes), folder)


@dataclass(frozen=True)
class FormRow:
    """One row of the upload page: a role, the files chosen or dropped in it, its 坐标来源 and encoding."""

    role: str
    files: list[Any]  # UploadFile (Starlette's or FastAPI's), or the empty string of an empty input
    crs: str = ""
    encoding: str = ""


def save_form_rows(rows: list[FormRow], folder: Path, max_bytes: int) -> list[UploadedFile]:
    """The upload page's rows: every file of a row takes the row's role, CRS and encoding; a row's loose
    Shapefile parts become one Shapefile; a row left with more than one file after that is refused."""
    files, roles, crs, encodings = [], [], [], []
    for row in rows:
        for f in row.files:
            if getattr(f, "filename", None):
                files.append(f)
                roles.append(row.role)
                crs.append(row.crs)
                encodings.append(row.encoding)
    if not files:
        raise InputError("no_files", "没有选择任何文件", {})
    saved = group_shapefile_parts(_save_all(files, roles, crs, [""] * len(files), encodings, folder, max_bytes),
                                  folder)
    findings: list[dict[str, Any]] = []
    for role in dict.fromkeys(f.role for f in saved):
        mine = [f.name for f in saved if f.role == role]
        if len(mine) > 1:
            findings.append({"code": "several_files_for_role", "role": role, "files": mine, "file": mine[0],
                             "message": f"{ROLE_LABELS.get(role, role)}一行选择了{len(mine)}个文件（{'、'.join(mine)}）；"
                                        "每行只能上传一个文件（一个Shapefile的各部分算一个文件），请合并后上传"})
    if len(findings) == 1:
        only = findings[0]
        raise InputError(only["code"], only["message"], {k: v for k, v in only.items() if k not in ("code", "message")})
    if findings:
        raise InputError("upload_invalid", "上传的文件未通过检查：有多行选择了多个文件", {"findings": findings})
    return saved
