"""An institution register draft's life as a pure state machine, reviewed like a layout version:
draft → submitted → approved → superseded; submitted → returned (the province sends it back with a comment);
draft or returned → withdrawn (the applicant takes it back). Only an approved register changes the zone's
institutions; approving one supersedes the register approved before. No database, no HTTP.

Also the register's rows: each institution as a JSON object (every field of ``model.Institution``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zonegeo.domain.model import ChainLink, Institution, InstitutionKind
from zonegeo.errors import ConflictError, InputError

STATES = {"draft": "草稿", "submitted": "已提交", "approved": "已批准", "superseded": "已被替代",
          "withdrawn": "已撤回", "returned": "已退回"}
INITIAL = "draft"
SUBMITTED = "submitted"
APPROVED = "approved"
SUPERSEDED = "superseded"
WITHDRAWN = "withdrawn"
RETURNED = "returned"
# States in which the applicant may still place or confirm rows: a draft only (a returned register was
# decided by the province; it is corrected by a new upload)
EDITABLE = (INITIAL,)
# States of a register still under way: its rows are what its layout version's report counts.
PENDING = (INITIAL, SUBMITTED)

# Who may take each step: the applicant's side (any writer of the zone) or the province.
APPLICANT_ACTIONS = ("submit", "withdraw")
PROVINCE_ACTIONS = ("approve", "return")

# How an institution's point was obtained (institution.located_by); '' for rows stored before it was recorded.
LOCATED_BY = {"coordinates": "按坐标", "building": "按楼栋定位", "geocoder": "按地址定位（天地图）",
              "map": "在地图上放置", "": "未记录"}
UNLOCATED_LABEL = "尚未定位"


@dataclass(frozen=True)
class Transition:
    action: str
    label: str  # the Chinese verb: 不能{label}
    sources: tuple[str, ...]
    target: str


TRANSITIONS = {t.action: t for t in (
    Transition("submit", "提交", (INITIAL,), SUBMITTED),
    Transition("approve", "批准", (SUBMITTED,), APPROVED),
    Transition("return", "退回", (SUBMITTED,), RETURNED),
    Transition("withdraw", "撤回", (INITIAL, RETURNED), WITHDRAWN),
)}
MAX_NOTE = 2000  # characters of a comment (退回意见)
ACTION_LABELS = {a: t.label for a, t in TRANSITIONS.items()}


def allowed_actions(state: str) -> list[str]:
    return [a for a, t in TRANSITIONS.items() if state in t.sources]


def step(state: str, action: str, *, number: int, note: str = "") -> Transition:
    """The transition ``action`` from ``state``: an unknown action or a return without a comment is bad input; a
    wrong state a conflict naming the state and what is allowed now."""
    if action not in TRANSITIONS:
        raise InputError("unknown_action", f"未知的操作“{action}”，应为：{'、'.join(TRANSITIONS)}",
                         {"action": action, "allowed": list(TRANSITIONS)})
    transition = TRANSITIONS[action]
    if state not in transition.sources:
        allowed = allowed_actions(state)
        can = f"；当前可执行：{'、'.join(ACTION_LABELS[a] for a in allowed)}" if allowed else "；当前没有可执行的操作"
        raise ConflictError("illegal_transition",
                            f"机构名录草稿{number}当前状态为“{STATES.get(state, state)}”，不能{transition.label}{can}",
                            {"state": state, "action": action, "allowed": allowed})
    if len(note) > MAX_NOTE:
        raise InputError("note_too_long", f"意见不能超过{MAX_NOTE}个字", {"length": len(note), "max": MAX_NOTE})
    if action == "return" and not note.strip():
        raise InputError("return_needs_comment", "退回机构名录草稿时必须填写退回意见", {"action": action})
    return transition


def check_untied(action: str, *, number: int, version_number: int | None, version_state: str | None) -> None:
    """A register uploaded with a layout version is submitted and approved with that version while the version is
    under way (draft or submitted); it cannot be submitted or approved on its own then."""
    if version_number is None or action not in ("submit", "approve") or version_state not in PENDING:
        return
    verb = ACTION_LABELS[action]
    raise ConflictError("register_tied_to_version",
                        f"机构名录草稿{number}与空间布局版本{version_number}一同上传，随该版本一同{verb}，"
                        f"请{verb}版本{version_number}",
                        {"register_draft": number, "version": version_number, "version_state": version_state})


# ---- rows ----------------------------------------------------------------------------------------------------

def to_row(inst: Institution) -> dict[str, Any]:
    """An institution as a JSON object: every field of ``Institution``."""
    return {"name": inst.name, "credit_code": inst.credit_code, "kind": inst.kind.value,
            "services": list(inst.services), "chain": [c.value for c in inst.chain], "kind_label": inst.kind_label,
            "chain_other": list(inst.chain_other), "lon": inst.lon, "lat": inst.lat, "address": inst.address,
            "building": inst.building, "floor": inst.floor, "located_by": inst.located_by}


def from_row(row: dict[str, Any]) -> Institution:
    return Institution(
        name=row["name"], credit_code=row.get("credit_code", ""), lon=float(row["lon"]), lat=float(row["lat"]),
        kind=InstitutionKind(row.get("kind", "institution")), services=tuple(row.get("services", ())),
        chain=tuple(ChainLink(c) for c in row.get("chain", ())), kind_label=row.get("kind_label", ""),
        chain_other=tuple(row.get("chain_other", ())), address=row.get("address", ""),
        building=row.get("building", ""), floor=row.get("floor", ""), located_by=row.get("located_by", ""))


def located_label(located_by: str) -> str:
    return LOCATED_BY.get(located_by, located_by)


# ---- rows not yet located or not yet confirmed (uploads keep them; submission needs none left) ----------------

def is_located(row: dict[str, Any]) -> bool:
    """A row with a point: counted by the reports. An uploaded row with neither coordinates nor a 楼栋 of the
    layout is kept with lon/lat None until it is geocoded or placed on the map."""
    return row.get("lon") is not None and row.get("lat") is not None


def row_label(row: dict[str, Any]) -> str:
    if not is_located(row):
        return UNLOCATED_LABEL
    label = located_label(row.get("located_by", ""))
    return f"{label}，待确认" if row.get("needs_confirmation") else label


def unresolved(rows: list[dict[str, Any]]) -> tuple[list[int], list[int]]:
    """(unlocated, unconfirmed): the 1-based positions of the rows with no point, and of those geocoded and not
    yet confirmed by the applicant."""
    unlocated = [k for k, r in enumerate(rows, start=1) if not is_located(r)]
    unconfirmed = [k for k, r in enumerate(rows, start=1) if is_located(r) and r.get("needs_confirmation")]
    return unlocated, unconfirmed


def _names(rows: list[dict[str, Any]], numbers: list[int]) -> str:
    named = "、".join(f"第{k}家（{rows[k - 1].get('name', '')}）" for k in numbers[:5])
    return named + (f"等{len(numbers)}家" if len(numbers) > 5 else "")


def resolution_warnings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The warnings a register draft carries while rows are unlocated or unconfirmed (recomputed on each change,
    so the report's note is never stale)."""
    unlocated, unconfirmed = unresolved(rows)
    out = []
    if unlocated:
        out.append({"code": "institutions_unlocated",
                    "message": f"{len(unlocated)}家机构尚未定位，未计入核验：{_names(rows, unlocated)}；"
                               "请在机构名录草稿页面的地图上点击放置",
                    "detail": {"rows": unlocated, "count": len(unlocated)}})
    if unconfirmed:
        out.append({"code": "institutions_unconfirmed",
                    "message": f"{len(unconfirmed)}家机构按地址定位（天地图），待申报单位确认：{_names(rows, unconfirmed)}",
                    "detail": {"rows": unconfirmed, "count": len(unconfirmed)}})
    return out


RESOLUTION_CODES = ("institutions_unlocated", "institutions_unconfirmed")


def with_resolution_warnings(warnings: list[dict[str, Any]], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [*(w for w in warnings if w.get("code") not in RESOLUTION_CODES), *resolution_warnings(rows)]


def check_resolved(rows: list[dict[str, Any]], *, number: int, version: int | None = None) -> None:
    """Submission needs every row located and every geocoded row confirmed; a register tied to layout ``version``
    is submitted with it, so the version's submission is refused then too (and says why)."""
    unlocated, unconfirmed = unresolved(rows)
    if not unlocated and not unconfirmed:
        return
    parts = []
    if unlocated:
        parts.append(f"{len(unlocated)}家机构尚未定位（{_names(rows, unlocated)}）")
    if unconfirmed:
        parts.append(f"{len(unconfirmed)}家按地址定位的机构尚未确认（{_names(rows, unconfirmed)}）")
    what = (f"空间布局版本{version}不能提交：与其一同上传的机构名录草稿{number}中" if version is not None
            else f"机构名录草稿{number}不能提交：")
    raise ConflictError("register_rows_unresolved",
                        f"{what}{'；'.join(parts)}。请在机构名录草稿{number}的页面确认地址定位结果或在地图上放置",
                        {"register_draft": number, "version": version, "unlocated": unlocated,
                         "unconfirmed": unconfirmed})
