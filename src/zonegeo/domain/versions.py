"""A layout version's life as a pure state machine: draft → submitted → approved → superseded, or draft →
withdrawn (the applicant takes a draft back: it is kept and listed, never approved), or submitted → draft
(the province returns it with a comment, 退回: the applicant corrects it and submits again). One approved version per
zone at a time: approving one supersedes the approved one. No database, no HTTP."""

from __future__ import annotations

from dataclasses import dataclass

from zonegeo.errors import ConflictError, InputError

STATES = {"draft": "草稿", "submitted": "已提交", "approved": "已批准", "superseded": "已被替代", "withdrawn": "已撤回"}
INITIAL = "draft"
APPROVED = "approved"
SUPERSEDED = "superseded"
WITHDRAWN = "withdrawn"
# States a version may be created in: uploads make drafts; a file import (`zonegeo import`, an administrative
# act of the province) records the layout in force directly as approved.
CREATABLE = (INITIAL, APPROVED)


@dataclass(frozen=True)
class Transition:
    action: str
    label: str  # the Chinese verb: 不能{label}
    source: str
    target: str


TRANSITIONS = {t.action: t for t in (
    Transition("submit", "提交", INITIAL, "submitted"),
    Transition("approve", "批准", "submitted", APPROVED),
    Transition("withdraw", "撤回", INITIAL, WITHDRAWN),
    Transition("return", "退回", "submitted", INITIAL),
)}
NOTED = ("return",)  # actions that must carry a comment (退回意见), kept on the version
MAX_NOTE = 2000


def allowed_actions(state: str) -> list[str]:
    return [a for a, t in TRANSITIONS.items() if t.source == state]


def supersedes(target: str) -> bool:
    """Whether entering ``target`` supersedes the zone's approved version (there is one approved at a time)."""
    return target == APPROVED


def step(state: str, action: str, *, number: int, note: str = "") -> Transition:
    """The transition ``action`` from ``state``; an unknown action is bad input, a wrong state a conflict naming
    the state and what is allowed now; a return without a comment (or with one too long) is bad input."""
    if action not in TRANSITIONS:
        raise InputError("unknown_action", f"未知的操作“{action}”，应为：{'、'.join(TRANSITIONS)}",
                         {"action": action, "allowed": list(TRANSITIONS)})
    transition = TRANSITIONS[action]
    if state != transition.source:
        allowed = allowed_actions(state)
        can = f"；当前可执行：{'、'.join(allowed)}" if allowed else "；当前没有可执行的操作"
        raise ConflictError("illegal_transition",
                            f"版本{number}当前状态为“{STATES.get(state, state)}”，不能{transition.label}{can}",
                            {"state": state, "action": action, "allowed": allowed})
    if action in NOTED and not note.strip():
        raise InputError("missing_note", f"{transition.label}版本{number}须填写意见，说明需要修改的内容",
                         {"field": "note", "action": action})
    if len(note.strip()) > MAX_NOTE:
        raise InputError("note_too_long", f"意见不能超过{MAX_NOTE}个字（现有{len(note.strip())}个字）",
                         {"field": "note", "max": MAX_NOTE})
    return transition


def check_creatable(state: str) -> None:
    if state not in CREATABLE:
        raise InputError("bad_version_state", f"新版本的状态不能是“{STATES.get(state, state)}”",
                         {"state": state, "allowed": list(CREATABLE)})
