"""What each lifecycle decision asks for on a form (the city's and the province's 办理 page): the fields, their
labels and choices, and which decisions are irreversible and need a confirmation step. Which actions a role may
take in a state is the state machine's (``domain/lifecycle.py``); this table only says what each one needs.
No database, no HTTP."""

from __future__ import annotations

from dataclasses import dataclass

from zonegeo.domain import lifecycle


@dataclass(frozen=True)
class Field:
    name: str  # the key in the action's data (and the form field's name)
    label: str
    kind: str = "text"  # text | textarea | select | number | hidden | file
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # (value, Chinese label)
    value: str = ""  # a fixed value (hidden) or the default
    hint: str = ""


# Irreversible decisions: the form carries a confirmation checkbox (confirm=yes) the server checks.
IRREVERSIBLE = ("approve", "reject", "revoke", "confirm_revocation")
_RECTIFICATION = Field("rectification_months", "整改期限（月，不合格时适用）", "number",
                       hint=f"不填为一般的{lifecycle.RECTIFICATION_MONTHS}个月")
FIELDS: dict[str, tuple[Field, ...]] = {
    "return": (Field("reason", "退回意见", "textarea", required=True),),
    "recommend": (Field("letter", "推荐函（未上传过时必须上传）", "file",
                        hint="作为“设区市知识产权局推荐函”存入申报材料"),),
    "start_review": (),
    "start_notice": (),
    "objection": (Field("text", "异议内容", "textarea", required=True),),
    "resolve_objection": (Field("outcome", "处理结论", "select", required=True,
                                choices=tuple(lifecycle.OBJECTION_OUTCOMES.items())),
                          Field("decision", "处理意见", "textarea", required=True)),
    "decide_objection": (Field("decision", "省知识产权局的决定", "textarea", required=True),),
    "approve": (Field("document_number", "批复文号（可选，公告中显示）", hint="如：苏知发〔2026〕12号"),),
    "reject": (Field("reason", "不予批准的理由", "textarea", required=True),),
    "accept": (Field("result", "验收结果", "select", required=True, choices=tuple(lifecycle.RESULTS.items())),
               Field("rectification_months", "整改期限（月，不合格时适用）", "number",
                     hint=f"不填为一般的{lifecycle.RECTIFICATION_MONTHS}个月，最长"
                          f"{lifecycle.ACCEPTANCE_RECTIFICATION_MAX_MONTHS}个月"),
               Field("period_reason", "整改期限不是六个月的理由", "textarea")),
    "evaluate": (Field("grade", "评价结果", "select", required=True, choices=tuple(lifecycle.GRADES.items())),
                 _RECTIFICATION),
    "close_rectification": (Field("result", "整改复核结果", "select", required=True,
                                  choices=tuple(lifecycle.RESULTS.items())),),
    "propose_revocation": (Field("reason", "理由", "hidden", value="1",
                                 hint=f"第三章第1项：{lifecycle.REVOCATION_REASONS[1]}"),),
    "confirm_revocation": (),
    "decline_revocation": (Field("decision", "不予取消称号的理由", "textarea", required=True),),
    "revoke": (Field("reason", "取消称号的理由", "select", required=True,
                     choices=tuple((str(k), f"第{k}项：{v}") for k, v in lifecycle.REVOCATION_REASONS.items()
                                   if k not in lifecycle.PROPOSED_REASONS)),),
}
# Data keys a form may send: everything else in a posted form is ignored.
DATA_KEYS = frozenset(f.name for fields in FIELDS.values() for f in fields if f.kind != "file")
# Expert assignment is not a state change: the province assigns experts while the review is being organised.
EXPERT_STATES = ("recommended", "under_review")


@dataclass(frozen=True)
class Form:
    action: str
    label: str
    fields: tuple[Field, ...]
    irreversible: bool


def forms(state: str, role: str) -> list[Form]:
    """The decision forms ``role`` may use in ``state``: exactly the state machine's allowed actions."""
    return [Form(a, lifecycle.TRANSITIONS[a].label, FIELDS.get(a, ()), a in IRREVERSIBLE)
            for a in lifecycle.allowed_actions(state, role)]


def may_assign_experts(state: str, role: str) -> bool:
    return role == "province" and state in EXPERT_STATES
