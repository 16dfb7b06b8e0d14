"""Uploading a zone's files: every file read and checked first, then drafts written for review (a layout draft
version, an institution register draft, or both tied together); nothing approved changes."""

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
from zonegeo.domain import register
from zonegeo.domain.check import Report, Warning_, check_plan
from zonegeo.domain.model import ZonePlan
from zonegeo.domain.rules import RuleSet
from zonegeo.errors import InputError
from zonegeo.ingest.budget import Budget, read_roles_bounded
from zonegeo.ingest.plan import read_roles
from zonegeo.ingest.role_files import ReadOptions
from zonegeo.ingest.safety import Limits
from zonegeo.services import audit, eligibility
from zonegeo.services import geocoder as geocoding


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
    version: int | None  # the layout draft made; None for an institutions-only upload (no layout version)
    state: str  # the layout draft's state, or the register draft's for an institutions-only upload
    report: Report
    institutions: dict[str, int] | None  # what approving the register draft would change (entered/left/updated)
    created: bool = True  # False: the same files were uploaded before, and the drafts they made are returned
    register_draft: int | None = None  # the institution register draft made (tied to ``version`` if both)
    register_state: str | None = None

    @property
    def page(self) -> str:
        """Where a browser is sent after the upload (Post/Redirect/Get): the layout draft's page, or the register
        draft's for an institutions-only upload."""
        if self.version is not None:
            return f"/zones/{self.code}/upload?draft={self.version}"
        return f"/zones/{self.code}/register-drafts/{self.register_draft}"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "version": self.version, "state": self.state, "created": self.created,
                "register_draft": self.register_draft, "register_state": self.register_state,
                "institutions": self.institutions, "report": self.report.to_dict()}


def upload_key(files: list[UploadedFile], repair: bool) -> str:
    """What makes two uploads the same: every file's role, name, SHA-256 and options, and the repair flag."""
    h = hashlib.sha256(b"repair" if repair else b"as-is")
    for f in sorted(files, key=lambda f: (f.role, f.name)):
        digest = hashlib.sha256()
        # every file of the upload's own folder: a Shapefile sent as loose parts is its .shp and the parts beside
        # it, so a corrected .dbf makes a different upload
        for part in sorted(p for p in f.path.parent.iterdir() if p.is_file()):
            digest.update(part.name.encode() + b"\0")
            with part.open("rb") as data:
                while chunk := data.read(1 << 20):
                    digest.update(chunk)
        h.update("\0".join((f.role, f.name, digest.hexdigest(), f.crs or "", f.layer or "", f.encoding or "")).encode())
    return h.hexdigest()


def _warnings(raw: list[dict]) -> list[Warning_]:
    return [Warning_(w["code"], w["message"], w.get("detail", {})) for w in raw]


def _draft_result(session: Session, zone: Any, version: Any, rules: RuleSet, *, created: bool) -> UploadResult:
    """The result of an upload as stored: the layout draft checked with the institutions it counts (the register
    draft uploaded with it, else the zone's approved institutions)."""
    tied = repo.tied_register_draft(session, zone, version.number)
    plan = repo.to_domain_plan(version, eligibility.institutions_for_version(session, zone, version))
    inputs = [*version.source_files, *(tied.source_files if tied is not None else [])]
    warnings = _warnings([*version.ingest_warnings, *(tied.ingest_warnings if tied is not None else [])])
    info = {"code": zone.code, "name": zone.name, "version": version.number, "version_state": version.state}
    if tied is not None:
        info |= {"register_draft": tied.number, "register_state": tied.state}
    report = eligibility.with_located(check_plan(plan, rules, inputs=inputs, warnings=warnings, zone=info), plan)
    counts = (repo.institution_changes(session, zone, repo.register_institutions(tied)) if tied is not None
              else None)
    return UploadResult(zone.code, version.number, version.state, report, counts, created,
                        tied.number if tied is not None else None, tied.state if tied is not None else None)


def _register_result(session: Session, zone: Any, draft: Any, rules: RuleSet, *, created: bool) -> UploadResult:
    """The result of an institutions-only upload: the register draft checked on the approved (or newest) layout."""
    report = eligibility.register_report(session=session, zone=zone, draft=draft, rules=rules)
    counts = repo.institution_changes(session, zone, repo.register_institutions(draft))
    return UploadResult(zone.code, None, draft.state, report, counts, created, draft.number, draft.state)


def stored_upload(*, session: Session, code: str, number: int, rules: RuleSet) -> UploadResult:
    """A draft (or any version) shown again after the upload that made it: the page a browser is sent to."""
    zone = repo.get_zone(session, code)
    return _draft_result(session, zone, repo.get_version(session, zone, number), rules, created=False)


def _made_before(session: Session, zone: Any, key: str, layout_upload: bool, rules: RuleSet,
                 newest: Any) -> UploadResult | None:
    """The result of the draft these same files made before (its upload key recorded), if it is still the newest
    draft: for a layout upload the zone's ``newest`` version, for institutions only its newest register draft."""
    if layout_upload:
        if newest is not None and newest.state == "draft" and _has_key(newest.source_files, key):
            return _draft_result(session, zone, newest, rules, created=False)
        return None
    made = repo.latest_register_draft(session, zone, untied=True)
    if made is not None and made.state == register.INITIAL and _has_key(made.source_files, key):
        return _register_result(session, zone, made, rules, created=False)
    return None


def _has_key(source_files: list[dict], key: str) -> bool:
    """Whether these files were made by the upload ``key``; inputs carried over from an earlier version keep
    their own upload's key but were not made by this one (a later draft is not an earlier upload's answer)."""
    return any(i.get("upload_key") == key and "carried_from_version" not in i for i in source_files)


def upload_version(*, session: Session, code: str, files: list[UploadedFile], rules: RuleSet, uploaded_by: str,
                   repair: bool = False, limits: Limits | None = None, today: dt.date | None = None,
                   user: User | None = None, budget: Budget | None = None,
                   geocoder: geocoding.Geocoder | None = None) -> UploadResult:
    """Drafts from the uploaded files, for review; nothing approved changes.

    Layout files (boundary, core, buildings) make a new layout draft version; roles not uploaded are carried over
    from the newest version (so a boundary draft followed by a buildings upload keeps the new boundary). An
    institutions file makes an institution register draft (the zone's institutions change only when it is
    approved: ``services/register.py``), tied to the layout draft when uploaded with layout files. An
    institutions-only upload makes no layout version.

    An institution with neither coordinates nor a 楼栋 of the layout is kept in the register draft unlocated (not
    counted; named in a warning); with a ``geocoder`` its address is geocoded first (bounded, never failing the
    upload), and a point found is kept for the applicant to confirm. The register cannot be submitted until every
    row is located and confirmed (``services/register.py``)."""
    if not files:
        raise InputError("no_files", "没有上传任何文件", {})
    zone = repo.get_zone(session, code)
    key = upload_key(files, repair)
    layout_upload = any(f.role != "institutions" for f in files)
    newest = repo.latest_version(session, zone)
    # the same files again (a refreshed page, a double click, a retried request): the drafts they made
    same = _made_before(session, zone, key, layout_upload, rules, newest)
    if same is not None:
        return same
    # a layout upload carries over from the newest layout, a draft included; an institutions-only upload is
    # placed and checked on the approved layout (before any approval, the newest)
    current = newest if layout_upload else (repo.approved_version(session, zone) or newest)
    base = repo.to_domain_plan(current, []) if current is not None else None
    # institutions without coordinates are placed at their 楼栋: the buildings of this upload (plan.read_roles
    # passes them) or else of the layout above
    layout = {"buildings": tuple(base.buildings), "boundary": base.boundary} if base is not None else {}
    try:
        items = [(f.role, f.path, ReadOptions(crs=f.crs, layer=f.layer, repair=repair, name=f.name,
                                              limits=limits or Limits(), encoding=f.encoding,
                                              **(layout | {"keep_unlocated": True} if f.role == "institutions"
                                                 else {}))) for f in files]
        # with a budget, the files (which share the upload's folder) are read in a child process within it
        reads = (read_roles_bounded(items, budget, files[0].path.parent.parent) if budget is not None
                 else read_roles(items))
    except InputError as exc:  # one code for the API, with every finding in the detail
        findings = exc.detail.get("findings") or [exc.to_dict()]
        raise InputError("upload_invalid", f"上传的文件未通过检查：{exc.message}", {"findings": findings}) from exc
    if base is None and "boundary" not in reads:
        raise InputError("missing_boundary", "该集聚区还没有四至范围，首次上传必须包含四至范围（boundary）文件",
                         {"code": code})
    # geocoding (network I/O, bounded) before anything is written, so no lock is held while it waits
    unlocated: list[dict[str, Any]] = []
    if "institutions" in reads:
        unlocated = list(reads["institutions"].input.get("unlocated", []))
        if unlocated and geocoder is not None:
            near = reads["boundary"].value if "boundary" in reads else base.boundary if base is not None else None
            unlocated = geocoding.geocode_rows(geocoder, unlocated, boundary=near)
    today = today or dt.date.today()
    # the same files sent twice at once (a double click on two tabs): the check above ran before either wrote, so it
    # is made again under the zone's lock, which the writer below holds until it commits
    repo.lock_zone(session, zone)
    same = _made_before(session, zone, key, layout_upload, rules,
                        repo.latest_version(session, zone) if layout_upload else None)
    if same is not None:
        return same
    layout_reads = {role: r for role, r in reads.items() if role != "institutions"}
    version = None
    if layout_reads:
        if "boundary" in reads:
            boundary = reads["boundary"].value
        else:
            assert base is not None  # checked above
            boundary = base.boundary
        plan = ZonePlan(
            boundary=boundary,
            core=reads["core"].value if "core" in reads else (base.core if base else None),
            buildings=tuple(reads["buildings"].value) if "buildings" in reads else (base.buildings if base else ()),
        )
        inputs = [r.input | {"upload_key": key} for r in layout_reads.values()]
        if current is not None:
            inputs += [dict(i, carried_from_version=current.number) for i in current.source_files
                       if i.get("role") not in reads and i.get("role") != "institutions"]
        warnings = [w for r in layout_reads.values() for w in r.warnings]
        version = repo.add_version(session, zone, plan, state="draft", source_files=inputs, ingest_warnings=warnings,
                                   uploaded_by=uploaded_by, effective_on=today)
        audit.record(session, user, "upload_version", f"zone/{code}/version/{version.number}", actor=uploaded_by,
                     after={"files": [{"role": i["role"], "file": i["file"], "sha256": i.get("sha256")}
                                      for i in inputs]})
    draft = None
    if "institutions" in reads:
        read = reads["institutions"]
        institutions = tuple(read.value)
        record = dict(read.input)
        record["unlocated"] = sum(1 for r in unlocated if not register.is_located(r))
        record["geocoded"] = sum(1 for r in unlocated if register.is_located(r))
        draft = repo.add_register_draft(session, zone, institutions,
                                        version_number=version.number if version is not None else None,
                                        source_files=[record | {"upload_key": key}],
                                        ingest_warnings=list(read.warnings), uploaded_by=uploaded_by)
        if unlocated:
            draft.rows = _in_file_order(draft.rows, read.input.get("located", []), unlocated)
            draft.content_sha256 = repo.rows_sha256(draft.rows)
        draft.ingest_warnings = register.with_resolution_warnings(list(read.warnings), draft.rows)
        session.flush()
        audit.record(session, user, "upload_register", f"zone/{code}/register/{draft.number}", actor=uploaded_by,
                     after={"file": read.input.get("file"), "sha256": read.input.get("sha256"),
                            "institutions": len(institutions), "version": draft.version_number,
                            "unlocated": record["unlocated"], "geocoded": record["geocoded"],
                            "changes": repo.institution_changes(session, zone, institutions)})
    if version is not None:
        return _draft_result(session, zone, version, rules, created=True)
    assert draft is not None  # an upload of institutions only
    return _register_result(session, zone, draft, rules, created=True)


def _in_file_order(rows: list[dict[str, Any]], located: list[dict[str, Any]],
                   unlocated: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The register's rows in the file's order: the located ones (numbered by the ingest's ``located`` record)
    and the unlocated ones (geocoded or not), each with its row in the file as ``source_row``."""
    numbered = [(int(entry["row"]), dict(row, source_row=int(entry["row"])))
                for entry, row in zip(located, rows, strict=True)]
    numbered += [(int(r["row"]), {k: v for k, v in r.items() if k != "row"} | {"source_row": int(r["row"])})
                 for r in unlocated]
    return [row for _, row in sorted(numbered, key=lambda pair: pair[0])]


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
