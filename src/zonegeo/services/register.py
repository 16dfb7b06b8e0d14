"""Institution register drafts: reviewed like layout versions (submit → approve, or return with a comment, or
withdraw). The zone's institutions (table ``institution``) change only when the province approves a register:
then its rows are applied (准入/退出 dated today, how each point was located kept) and the register approved
before is superseded, in the same transaction. A register uploaded with a layout version follows that version:
submitted, approved or withdrawn with it (``follow_version``, called by ``changes.transition``)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from shapely.geometry import mapping
from sqlalchemy.orm import Session

from zonegeo.db import repo
from zonegeo.db.models import RegisterDraft, User, Zone, ZoneVersion
from zonegeo.domain import register, versions
from zonegeo.domain.crs import inside_jiangsu
from zonegeo.domain.rules import RuleSet
from zonegeo.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from zonegeo.services import audit, eligibility


def draft_dict(draft: RegisterDraft, version_state: str | None = None) -> dict[str, Any]:
    """A register draft as listed: its state, who uploaded and decided it, what may be done with it now."""
    tied_pending = draft.version_number is not None and version_state in register.PENDING
    allowed = [a for a in register.allowed_actions(draft.state)
               if not (tied_pending and a in ("submit", "approve"))]
    return {
        "number": draft.number, "state": draft.state, "state_label": register.STATES.get(draft.state, draft.state),
        "version_number": draft.version_number, "version_state": version_state,
        "version_state_label": versions.STATES.get(version_state, version_state) if version_state else None,
        "institutions": len(draft.rows),
        "content_sha256": draft.content_sha256, "uploaded_by": draft.uploaded_by, "decided_by": draft.decided_by,
        "decided_at": draft.decided_at.isoformat() if draft.decided_at else None, "note": draft.note,
        "created_at": draft.created_at.isoformat() if draft.created_at else None,
        "files": [{"file": f.get("file"), "sha256": f.get("sha256")} for f in draft.source_files],
        "allowed_actions": allowed,
    }


def _version_state(session: Session, zone: Zone, draft: RegisterDraft) -> str | None:
    if draft.version_number is None:
        return None
    return repo.get_version(session, zone, draft.version_number).state


def list_drafts(*, session: Session, zone: Zone) -> list[dict[str, Any]]:
    states = {v.number: v.state for v in repo.list_versions(session, zone)}
    return [draft_dict(d, states.get(d.version_number) if d.version_number is not None else None)
            for d in repo.list_register_drafts(session, zone)]


def detail(*, session: Session, zone: Zone, number: int, rules: RuleSet) -> dict[str, Any]:
    """One register draft with its rows (how each was located, inside or not), its eligibility report and that of
    the approved register on the same layout, and what approving it would change."""
    draft = repo.get_register_draft(session, zone, number)
    layout = eligibility.register_layout(session, zone, draft)
    report = eligibility.register_report(session=session, zone=zone, draft=draft, rules=rules, layout=layout)
    approved = (eligibility.register_report(session=session, zone=zone, draft=None, rules=rules, layout=layout)
                if layout is not None else None)
    rows = _rows(draft, report.institutions.get("located", []))
    unlocated, unconfirmed = register.unresolved(draft.rows)
    return {
        "code": zone.code, "zone_name": zone.name,
        **draft_dict(draft, _version_state(session, zone, draft)),
        "layout_version": layout.number if layout is not None else None,
        "rows": rows, "report": report.to_dict(),
        "approved_report": approved.to_dict() if approved is not None else None,
        "changes": repo.institution_changes(session, zone, repo.register_institutions(draft)),
        "warnings": draft.ingest_warnings,
        "unlocated": unlocated, "unconfirmed": unconfirmed,
        "unlocated_note": f"{len(unlocated)}家机构尚未定位，未计入" if unlocated else "",
        "editable": draft.state in register.EDITABLE,
        "layout_geojson": _layout_geojson(layout) if layout is not None else None,
    }


# A register's rows are placed or confirmed only while it is with the applicant.


def _rows(draft: RegisterDraft, located: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row with its place in the register (``index``, 1-based: the ``{row}`` of the row's URL), how it was
    located, and whether it is inside (None while unlocated: the report's ``located`` lists located rows only)."""
    entries = iter(located)
    out = []
    for k, row in enumerate(draft.rows, start=1):
        extra: dict[str, Any] = {"index": k, "located": register.is_located(row),
                                 "needs_confirmation": bool(row.get("needs_confirmation")),
                                 "located_label": register.row_label(row)}
        if register.is_located(row):
            entry = next(entries)
            extra |= {"kind_label": entry["kind_label"], "inside": entry["inside"]}
        else:
            extra |= {"kind_label": register.from_row(row | {"lon": 0, "lat": 0}).label, "inside": None}
        out.append(row | extra)
    return out


def _layout_geojson(layout: ZoneVersion) -> dict[str, Any]:
    """The zone's 四至 and buildings as GeoJSON for the small placing map (no base map tiles)."""
    plan = repo.to_domain_plan(layout, [])
    features = [{"type": "Feature", "properties": {"role": "boundary", "name": "四至范围"},
                 "geometry": mapping(plan.boundary)}]
    features += [{"type": "Feature", "properties": {"role": "building", "name": b.name},
                  "geometry": mapping(b.footprint)} for b in plan.buildings]
    return {"type": "FeatureCollection", "features": features}


def _editable_row(session: Session, code: str, number: int, row: int) -> tuple[Zone, RegisterDraft, dict[str, Any]]:
    zone = repo.get_zone(session, code)
    repo.lock_zone(session, zone)
    draft = repo.get_register_draft(session, zone, number)
    if draft.state not in register.EDITABLE:
        raise ConflictError("register_not_editable",
                            f"机构名录草稿{number}当前状态为“{register.STATES.get(draft.state, draft.state)}”，"
                            "只有草稿可以放置或确认机构位置；已退回的名录请修改后重新上传",
                            {"register_draft": number, "state": draft.state})
    if not 1 <= row <= len(draft.rows):
        raise NotFoundError("register_row_not_found", f"机构名录草稿{number}没有第{row}家机构（共{len(draft.rows)}家）",
                            {"register_draft": number, "row": row, "rows": len(draft.rows)})
    return zone, draft, dict(draft.rows[row - 1])


def _save_row(session: Session, zone: Zone, draft: RegisterDraft, row: int, new: dict[str, Any], *,
              action: str, before: dict[str, Any], user: User | None) -> dict[str, Any]:
    rows = [dict(r) for r in draft.rows]
    rows[row - 1] = new
    draft.rows = rows  # a new list: the JSONB column is saved
    draft.content_sha256 = repo.rows_sha256(rows)
    draft.ingest_warnings = register.with_resolution_warnings(list(draft.ingest_warnings), rows)
    session.flush()
    after = {k: new.get(k) for k in ("name", "lon", "lat", "located_by", "needs_confirmation")}
    audit.record(session, user, action, f"zone/{zone.code}/register/{draft.number}/row/{row}",
                 before=before, after=after)
    unlocated, unconfirmed = register.unresolved(rows)
    return {"code": zone.code, "register_draft": draft.number, "row": row, "name": new.get("name", ""),
            "lon": new.get("lon"), "lat": new.get("lat"), "located_by": new.get("located_by", ""),
            "located_label": register.row_label(new), "needs_confirmation": bool(new.get("needs_confirmation")),
            "unlocated": unlocated, "unconfirmed": unconfirmed}


def place_row(*, session: Session, code: str, number: int, row: int, lon: float, lat: float,
              user: User | None) -> dict[str, Any]:
    """The applicant places row ``row`` (1-based) on the map: its point becomes (lon, lat), located_by "map"."""
    lon, lat = _check_point(lon, lat)
    zone, draft, old = _editable_row(session, code, number, row)
    before = {k: old.get(k) for k in ("lon", "lat", "located_by", "needs_confirmation")}
    new = {k: v for k, v in old.items() if k != "needs_confirmation"} | {"lon": lon, "lat": lat, "located_by": "map"}
    return _save_row(session, zone, draft, row, new, action="register_row_place", before=before, user=user)


def confirm_row(*, session: Session, code: str, number: int, row: int, user: User | None) -> dict[str, Any]:
    """The applicant confirms the geocoder's point of row ``row`` (it stays located_by "geocoder")."""
    zone, draft, old = _editable_row(session, code, number, row)
    if not register.is_located(old) or old.get("located_by") != "geocoder" or not old.get("needs_confirmation"):
        raise ConflictError("register_row_not_to_confirm",
                            f"机构名录草稿{number}的第{row}家机构（{old.get('name', '')}）没有待确认的地址定位结果",
                            {"register_draft": number, "row": row, "located_by": old.get("located_by", "")})
    before = {k: old.get(k) for k in ("lon", "lat", "located_by", "needs_confirmation")}
    new = {k: v for k, v in old.items() if k != "needs_confirmation"} | {"confirmed_by": user.username if user else ""}
    return _save_row(session, zone, draft, row, new, action="register_row_confirm", before=before, user=user)


def _check_point(lon: Any, lat: Any) -> tuple[float, float]:
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        raise InputError("bad_point", f"经纬度“{lon}, {lat}”无法识别，应为数字", {"lon": str(lon), "lat": str(lat)}) from None
    if not (math.isfinite(x) and math.isfinite(y)) or not inside_jiangsu(x, y):
        raise InputError("point_outside_jiangsu", f"所放置的位置（{x}, {y}）不在江苏省范围内，请在集聚区地图上点击放置",
                         {"lon": x, "lat": y})
    return round(x, 7), round(y, 7)


def _apply(session: Session, zone: Zone, draft: RegisterDraft, today: dt.date) -> tuple[dict[str, int], list[int]]:
    """Approval: the rows become the zone's institutions; the register approved before is superseded."""
    superseded: list[int] = []
    for old in repo.approved_register_drafts(session, zone):
        if old.id != draft.id:
            old.state = register.SUPERSEDED
            superseded.append(old.number)
    counts = repo.sync_institutions(session, zone, repo.register_institutions(draft), today)
    return counts, superseded


def _step(session: Session, zone: Zone, draft: RegisterDraft, action: str, *, user: User | None, by: str,
          note: str, today: dt.date, with_version: int | None = None) -> dict[str, Any]:
    source = draft.state
    transition = register.step(source, action, number=draft.number, note=note)
    counts: dict[str, int] | None = None
    superseded: list[int] = []
    if transition.target == register.APPROVED:
        counts, superseded = _apply(session, zone, draft, today)
    draft.state = transition.target
    if action in register.PROVINCE_ACTIONS:
        draft.decided_by = user.username if user is not None else (by or "cli")
        draft.decided_at = dt.datetime.now(dt.UTC)
        draft.note = note.strip()
    # an applicant's note (on submit or withdraw) goes to the audit entry only: draft.note keeps the province's
    # 退回意见 or decision
    session.flush()
    after: dict[str, Any] = {"state": transition.target, "institutions": counts, "superseded": superseded}
    if note.strip():
        after["note"] = note.strip()
    if with_version is not None:
        after["with_version"] = with_version
    audit.record(session, user, f"register_{action}", f"zone/{zone.code}/register/{draft.number}", actor=by or None,
                 before={"state": source}, after=after)
    return {"code": zone.code, "register_draft": draft.number, "state": draft.state,
            "state_label": register.STATES[draft.state], "decided_by": draft.decided_by, "note": draft.note,
            "institutions": counts, "superseded": superseded}


def transition(*, session: Session, code: str, number: int, action: str, user: User | None, note: str = "",
               by: str = "", today: dt.date | None = None) -> dict[str, Any]:
    """Submit (applicant), approve (province: the rows become the zone's institutions), return (province, with a
    comment) or withdraw (applicant) register draft ``number``. A register uploaded with a layout version that is
    still under way is submitted and approved with that version, not on its own."""
    if user is not None and action in register.PROVINCE_ACTIONS and user.role != "province":
        raise PermissionDeniedError("role_forbidden", f"只有省知识产权局可以{register.ACTION_LABELS[action]}机构名录",
                                    {"role": user.role, "action": action})
    zone = repo.get_zone(session, code)
    repo.lock_zone(session, zone)
    draft = repo.get_register_draft(session, zone, number)
    if action in register.TRANSITIONS:
        register.check_untied(action, number=number, version_number=draft.version_number,
                              version_state=_version_state(session, zone, draft))
    if action == "submit" and draft.state in register.TRANSITIONS["submit"].sources:
        register.check_resolved(draft.rows, number=number)
    return _step(session, zone, draft, action, user=user, by=by, note=note, today=today or dt.date.today())


# What a register uploaded with a layout version does when that version moves.
FOLLOWS = {"submit": (register.INITIAL,), "approve": (register.SUBMITTED,), "withdraw": (register.INITIAL,
                                                                                           register.RETURNED)}


def return_with_version(*, session: Session, zone: Zone, version: ZoneVersion, note: str, user: User | None = None,
                        by: str = "") -> dict[str, Any] | None:
    """The hook ``changes.transition`` calls when the province returns layout ``version`` (退回): the register
    draft submitted with it is returned with it, with the same comment."""
    draft = repo.tied_register_draft(session, zone, version.number)
    if draft is None or draft.state != register.SUBMITTED:
        return None
    return _step(session, zone, draft, "return", user=user, by=by, note=note, today=dt.date.today(),
                 with_version=version.number)


def follow_version(*, session: Session, zone: Zone, version: ZoneVersion, action: str, user: User | None = None,
                   by: str = "", today: dt.date | None = None) -> dict[str, Any] | None:
    """The hook ``changes.transition`` calls after layout ``version`` took ``action``: the register uploaded with
    it is submitted with it, approved with it (if it was submitted: its rows become the zone's institutions in
    the same transaction) or withdrawn with it. A register returned or withdrawn on its own stays so. Withdrawing
    the zone's last layout while a register uploaded on its own is still open is refused: that register would
    have no layout to be checked against."""
    if action == "withdraw" and repo.latest_version(session, zone) is None:
        open_ = [d.number for d in repo.list_register_drafts(session, zone)
                 if d.version_number is None and d.state in register.PENDING]
        if open_:
            names = "、".join(f"机构名录草稿{n}" for n in open_)
            raise ConflictError("layout_needed_by_register",
                                f"撤回版本{version.number}后本集聚区将没有空间布局，而{names}仍在办理中、需要按空间布局核验："
                                "请先撤回这些名录草稿，或先上传新的空间布局",
                                {"version": version.number, "register_drafts": open_})
    if action not in FOLLOWS or (action == "approve" and version.state != versions.APPROVED):
        return None
    draft = repo.tied_register_draft(session, zone, version.number)
    if action == "submit" and draft is not None and draft.state == register.RETURNED:
        # returned with the version: resubmitting the layout must not silently leave its register behind
        raise ConflictError("register_returned_with_version",
                            f"版本{version.number}不能提交：与其一同上传的机构名录草稿{draft.number}已被退回"
                            f"（{draft.note or '见退回意见'}）。请撤回该名录草稿后再提交版本（机构名录可另行上传），"
                            "或上传修改后的空间布局和机构名录",
                            {"version": version.number, "register_draft": draft.number})
    if draft is None or draft.state not in FOLLOWS[action]:
        return None
    if action == "submit":  # refuses the version's submission too: the two are submitted together or not at all
        register.check_resolved(draft.rows, number=draft.number, version=version.number)
    return _step(session, zone, draft, action, user=user, by=by, note="", today=today or dt.date.today(),
                 with_version=version.number)
