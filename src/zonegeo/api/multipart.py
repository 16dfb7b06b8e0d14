"""Receiving multipart uploads: each file streamed to a temporary file, never past the size limit."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import UploadFile

from zonegeo.errors import InputError
from zonegeo.services.uploads import UploadedFile

_CHUNK = 1 << 20


def _safe_name(name: str | None, index: int) -> str:
    base = re.sub(r"[\\/\x00-\x1f]", "_", (name or "").strip()).lstrip(".")
    return base[-200:] or f"file{index}"


def save_uploads(files: list[UploadFile], roles: list[str], crs: list[str], layers: list[str], folder: Path,
                 max_bytes: int, encodings: list[str] | None = None) -> list[UploadedFile]:
    files = [f for f in files if f.filename]
    if not files:
        raise InputError("no_files", "没有选择任何文件", {})
    if len(roles) != len(files):
        raise InputError("roles_mismatch", f"上传了{len(files)}个文件，但给出了{len(roles)}个用途（roles）；每个文件需要一个用途",
                         {"files": len(files), "roles": len(roles)})
    crs = (crs + [""] * len(files))[: len(files)]
    layers = (layers + [""] * len(files))[: len(files)]
    encodings = (list(encodings or []) + [""] * len(files))[: len(files)]
    saved = []
    for i, (upload, role, crs_i, layer_i, encoding_i) in enumerate(zip(files, roles, crs, layers, encodings,
                                                                       strict=True)):
        name = _safe_name(upload.filename, i)
        (folder / str(i)).mkdir()
        target = folder / str(i) / name  # keep the user's name: GDAL and messages see it
        size = 0
        with target.open("wb") as out:
            while chunk := upload.file.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise InputError("file_too_large", f"{name}：文件超过上限{max_bytes / 1048576:.0f} MB",
                                     {"file": name, "limit": max_bytes})
                out.write(chunk)
        saved.append(UploadedFile(path=target, name=name, role=role.strip(), crs=crs_i.strip() or None,
                                  layer=layer_i.strip() or None, encoding=encoding_i.strip() or None))
    return saved
