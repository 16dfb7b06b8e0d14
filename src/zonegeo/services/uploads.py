"""Uploading boundary files to a zone: every file read and checked first, then one draft version written."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from zonegeo.config import Settings
from zonegeo.db import repo
from zonegeo.db.models import User
from zonegeo.domain.check import Report, Warning_, check_plan
from zonegeo.domain.model import ZonePlan
from zonegeo.domain.rules import RuleSet
from zonegeo.errors import InputError
from zonegeo.ingest.budget import Budget, read_roles_bounded
from zonegeo.ingest.plan import read_roles
from zonegeo.ingest.role_files import ReadOptions
from zonegeo.ingest.safety import Limits
from zonegeo.services import audit


@dataclass(frozen=True)
class UploadedFile:
    path: Path  # where the bytes are now (a temporary file)
    name: str  # the user's file name
    role: str
    crs: str | None = None
    layer: str | None = None
    encoding: str | None = None  # 自动/UTF-8/GBK: the text encoding of the file's attributes


@dataclass(frozen=True)
class UploadResult:
    code: str
    version: int
    state: str
    report: Report
    institutions: dict[str, int] | None
    created: bool = True  # False: the same files were uploaded before, and that draft is returned

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "version": self.version, "state": self.state, "created": self.created,
                "institutions": self.institutions, "report": self.report.to_dict()}


def upload_key(files: list[UploadedFile], repair: bool) -> str:
    """What makes two uploads the same: every file's role, name, SHA-256 and options, and the repair flag."""
    h = hashlib.sha256(b"repair" if repair else b"as-is")
    for f in sorted(files, key=lambda f: (f.role, f.name)):
        digest = hashlib.sha256()
        with f.path.open("rb") as data:
            while chunk := data.read(1 << 20):
                digest.update(chunk)
        h.update("\0".join((f.role, f.name, digest.hexdigest(), f.crs or "", f.layer or "", f.encoding or "")).encode())
    return h.hexdigest()


def _draft_result(session: Session, zone: Any, version: Any, rules: RuleSet, *, created: bool,
                  counts: dict[str, int] | None = None) -> UploadResult:
    """The result of an upload as stored: the draft's layout with the zone's active institutions, checked."""
    plan = repo.to_domain_plan(version, repo.active_institutions(session, zone))
    warnings = [Warning_(w["code"], w["message"], w.get("detail", {})) for w in version.ingest_warnings]
    report = check_plan(plan, rules, inputs=version.source_files, warnings=warnings,
                        zone={"code": zone.code, "name": zone.name, "version": version.number,
                              "version_state": version.state})
    return UploadResult(zone.code, version.number, version.state, report, counts, created)


def stored_upload(*, session: Session, code: str, number: int, rules: RuleSet) -> UploadResult:
    """A draft (or any version) shown again after the upload that made it: the page a browser is sent to."""
    zone = repo.get_zone(session, code)
    return _draft_result(session, zone, repo.get_version(session, zone, number), rules, created=False)


def upload_version(*, session: Session, code: str, files: list[UploadedFile], rules: RuleSet, uploaded_by: str,
                   repair: bool = False, limits: Limits | None = None, today: dt.date | None = None,
                   user: User | None = None, budget: Budget | None = None) -> UploadResult:
    """A new draft version from the uploaded layers; roles not uploaded are carried over from the newest
    version (so a boundary draft followed by a buildings upload keeps the new boundary). Institutions, which
    belong to the zone rather than to a version, are synchronised."""
    if not files:
        raise InputError("no_files", "没有上传任何文件", {})
    zone = repo.get_zone(session, code)
    key = upload_key(files, repair)
    newest = repo.latest_version(session, zone)
    if newest is not None and newest.state == "draft" and any(i.get("upload_key") == key for i in newest.source_files):
        # the same files again (a refreshed page, a double click, a retried request): the draft they made
        return _draft_result(session, zone, newest, rules, created=False)
    current = newest  # carry over from the newest layout, a draft included
    base = repo.to_domain_plan(current, []) if current is not None else None
    # institutions without coordinates are placed at their 楼栋: the buildings of this upload (plan.read_roles
    # passes them) or else of the newest layout
    layout = {"buildings": tuple(base.buildings), "boundary": base.boundary} if base is not None else {}
    try:
        items = [(f.role, f.path, ReadOptions(crs=f.crs, layer=f.layer, repair=repair, name=f.name,
                                              limits=limits or Limits(), encoding=f.encoding,
                                              **(layout if f.role == "institutions" else {}))) for f in files]
        # with a budget, the files (which share the upload's folder) are read in a child process within it
        reads = (read_roles_bounded(items, budget, files[0].path.parent.parent) if budget is not None
                 else read_roles(items))
    except InputError as exc:  # one code for the API, with every finding in the detail
        findings = exc.detail.get("findings") or [exc.to_dict()]
        raise InputError("upload_invalid", f"上传的文件未通过检查：{exc.message}", {"findings": findings}) from exc
    if "boundary" in reads:
        boundary = reads["boundary"].value
    elif base is not None:
        boundary = base.boundary
    else:
        raise InputError("missing_boundary", "该集聚区还没有四至范围，首次上传必须包含四至范围（boundary）文件",
                         {"code": code})
    plan = ZonePlan(
        boundary=boundary,
        core=reads["core"].value if "core" in reads else (base.core if base else None),
        buildings=tuple(reads["buildings"].value) if "buildings" in reads else (base.buildings if base else ()),
    )
    inputs = [r.input | {"upload_key": key} for r in reads.values()]
    if current is not None:
        inputs += [dict(i, carried_from_version=current.number) for i in current.source_files
                   if i.get("role") not in reads and i.get("role") != "institutions"]
    warnings = [w for r in reads.values() for w in r.warnings]
    today = today or dt.date.today()
    version = repo.add_version(session, zone, plan, state="draft", source_files=inputs, ingest_warnings=warnings,
                               uploaded_by=uploaded_by, effective_on=today)
    counts = None
    if "institutions" in reads:
        counts = repo.sync_institutions(session, zone, tuple(reads["institutions"].value), today)
    audit.record(session, user, "upload_version", f"zone/{code}/version/{version.number}", actor=uploaded_by,
                 after={"files": [{"role": i["role"], "file": i["file"], "sha256": i.get("sha256")} for i in inputs],
                        "institutions": counts})
    return _draft_result(session, zone, version, rules, created=True, counts=counts)


UPLOAD_PREFIX = "zonegeo-upload-"  # the temporary folder of one upload (its files, and what the parse unpacks)


def limits_from(settings: Settings) -> tuple[Limits, Budget]:
    """The per-file limits and the per-upload budget the settings give (README, "Limits")."""
    limits = Limits(max_file_bytes=settings.max_upload_mb * 1024 * 1024, max_rows=settings.max_table_rows,
                    max_cell_chars=settings.max_cell_chars, max_features=settings.max_features,
                    max_vertices=settings.max_vertices, max_repair_vertices=settings.max_repair_vertices)
    budget = Budget(cpu_seconds=settings.ingest_cpu_seconds, wall_seconds=settings.ingest_wall_seconds,
                    memory_mb=settings.ingest_memory_mb)
    return limits, budget


def sweep_upload_folders(max_age_s: float, *, root: Path | None = None, now: float | None = None) -> int:
    """Remove upload folders left by interrupted uploads (a killed server): those older than ``max_age_s``.
    Run at start-up and before each upload; a folder in use is younger than the parse's wall-clock budget."""
    root = Path(root or tempfile.gettempdir())
    now = time.time() if now is None else now
    removed = 0
    for folder in root.glob(f"{UPLOAD_PREFIX}*"):
        try:
            if folder.is_dir() and not folder.is_symlink() and now - folder.stat().st_mtime > max_age_s:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except OSError:  # removed meanwhile by another worker
            continue
    return removed
