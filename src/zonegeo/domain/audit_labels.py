"""Audit entries in Chinese: what each action code means, and the sentence an entry reads as on /audit and in
its export ("提交空间布局版本3", "批准机构名录草稿2", "登录"). Pure: no database, no HTTP.

The action codes are those ``services/audit.record`` is called with across the code base; the composed ones
(``lifecycle_*``, ``version_*``, ``register_*``) take their verbs from the state machines' own labels, so that a new
transition there is labelled here without an edit (tests/test_audit_page.py checks that every code is covered)."""

from __future__ import annotations

import functools
import re
from typing import Any

from zonegeo.domain import lifecycle, register, versions

ROLE_LABELS = {**lifecycle.ROLES, "system": "系统"}

# Fixed action codes -> the verb phrase; "{what}" is replaced by the object in words (see object_label).
FIXED: dict[str, str] = {
    "login": "登录",
    "login_failed": "登录失败（密码错误）",
    "login_refused": "登录被拒绝",
    "logout": "退出登录",
    "sessions_ended": "结束登录会话",
    "token_created": "创建接口令牌",
    "user_added": "添加用户{what}",
    "user_revoked": "停用用户{what}",
    "member_added": "为{what}添加成员",
    "zone_created": "新建申报{what}",
    "import_zone": "导入{what}",
    "attachment_added": "上传{what}",
    "expert_assigned": "为{what}指派评审专家",
    "expert_opinion": "提交{what}的专家意见",
    "review_recorded": "登记{what}",
    "site_visit_finding": "登记{what}的一项发现",
    "annual_report": "登记{what}的年度总结报告",
    "annual_report_saved": "保存{what}（草稿）",
    "annual_report_filed": "报送{what}",
    "annual_report_revised": "修改已报送的{what}",
    "annual_report_received": "接收{what}",
    "upload_version": "上传{what}",
    "upload_register": "上传{what}",
    "register_row_place": "定位{what}",
    "register_row_confirm": "确认{what}的位置",
    "change_recorded": "登记{what}",
    "change_reported": "报告{what}",
    "change_acknowledged": "出具{what}的回执",
    "change_copy_received": "收到{what}的抄报",
    "deadline_recomputed": "重新计算{what}的期限",
    "set_published": "设置{what}是否公开",
    "publish": "发布公开网站",
    "public_objection_filed": "收到{what}",  # the public 公示 page (issue 14)
    # 综合评价 (issue 13, services/evaluations.py)
    "evaluation_round_created": "组织{what}",
    "evaluation_expert_assigned": "为{what}指派评价专家",
    "evaluation_scored": "为{what}评分",
    "evaluation_participation": "登记{what}的参评情况",
    "evaluation_confirmed": "确认{what}的评价结果",
}

# Composed codes: prefix -> the state machine's labels (action -> Chinese verb).
PREFIXED: dict[str, dict[str, str]] = {
    "lifecycle_": {a: t.label for a, t in lifecycle.TRANSITIONS.items()},
    "version_": {a: t.label for a, t in versions.TRANSITIONS.items()},
    "register_": dict(register.ACTION_LABELS),
}


@functools.cache
def all_actions() -> dict[str, str]:
    """Every known action code -> a short Chinese name (for the filter's list and the export); computed once, not to
    be changed by callers."""
    out = {"login": "登录", "login_failed": "登录失败", "login_refused": "登录被拒绝", "logout": "退出登录",
           "sessions_ended": "结束登录会话", "token_created": "创建接口令牌", "user_added": "添加用户",
           "user_revoked": "停用用户", "member_added": "添加成员", "zone_created": "新建申报",
           "import_zone": "导入集聚区", "attachment_added": "上传附件", "expert_assigned": "指派评审专家",
           "expert_opinion": "提交专家意见", "review_recorded": "登记人工审核", "annual_report": "登记年度总结报告",
           "annual_report_saved": "保存年度总结报告草稿",
           "annual_report_filed": "报送年度总结报告", "annual_report_revised": "修改年度总结报告",
           "annual_report_received": "接收年度总结报告",
           "upload_version": "上传空间布局", "upload_register": "上传机构名录", "register_row_place": "定位名录机构",
           "register_row_confirm": "确认名录机构位置", "change_recorded": "登记变更", "change_reported": "报告变更",
           "change_acknowledged": "出具变更回执", "change_copy_received": "收到变更抄报",
           "deadline_recomputed": "重新计算期限", "set_published": "设置是否公开", "publish": "发布公开网站"}
    out |= {f"lifecycle_{a}": label for a, label in PREFIXED["lifecycle_"].items()}
    out |= {f"version_{a}": f"{label}空间布局版本" for a, label in PREFIXED["version_"].items()}
    out |= {f"register_{a}": f"{label}机构名录草稿" for a, label in PREFIXED["register_"].items()}
    out |= {"evaluation_round_created": "组织综合评价", "evaluation_expert_assigned": "指派评价专家",
            "evaluation_scored": "综合评价评分", "evaluation_participation": "登记参评情况",
            "evaluation_confirmed": "确认评价结果"}
    out["site_visit_finding"] = "登记实地考察发现"  # the expert's site visit (issue 13)
    out["public_objection_filed"] = "收到公众异议"  # the public 公示 page (issue 14)
    return out


def action_label(action: str) -> str:
    """A short name for ``action``; an unknown code is shown as itself (never an error)."""
    return all_actions().get(action, action)


def known(action: str) -> bool:
    if action in FIXED:
        return True
    return any(action.startswith(p) and action[len(p):] in labels for p, labels in PREFIXED.items())


_PARTS = {"version": "空间布局版本{n}", "register": "机构名录草稿{n}", "change": "变更事项{n}",
          "attachment": "附件{n}", "review": "人工审核记录{n}",
          "evaluation": "综合评价（第{n}轮）评价表", "visit": "实地考察记录{n}", "lifecycle": "评审记录{n}",
          "public-objection": "公众异议（回执号{n}）"}


def zone_code(obj: str) -> str | None:
    """The zone an object belongs to (``zone/{code}/…``), else None."""
    m = re.match(r"zone/([^/]+)", obj or "")
    return m.group(1) if m else None


def object_label(obj: str) -> str:
    """``zone/A/version/3`` -> 空间布局版本3; ``zone/A/register/2/row/5`` -> 机构名录草稿2第5家机构;
    ``zone/A`` -> 集聚区A; ``user/x`` -> x; anything else as written."""
    parts = (obj or "").split("/")
    if parts[0] == "annual-report" and len(parts) == 3:  # a city's 总结报告: annual-report/南京市/2025
        return f"{parts[1]}{parts[2]}年度总结报告"
    if parts[0] == "user" and len(parts) == 2:
        return f"“{parts[1]}”"
    if parts[0] == "evaluation" and len(parts) == 2:
        return f"综合评价（第{parts[1]}轮）"
    if parts[0] != "zone" or len(parts) < 2:
        return obj or ""
    if len(parts) == 2:
        return f"集聚区{parts[1]}"
    kind, number = parts[2], parts[3] if len(parts) > 3 else ""
    words = _PARTS.get(kind, kind + "{n}").format(n=number)
    if kind == "register" and len(parts) >= 6 and parts[4] == "row":
        words += f"第{parts[5]}家机构"
    return words


def sentence(action: str, obj: str) -> str:
    """The entry in words: verb and object ("提交空间布局版本3", "批准机构名录草稿2", "登录")."""
    what = object_label(obj)
    if action in FIXED:
        return FIXED[action].replace("{what}", what)
    for prefix, labels in PREFIXED.items():
        if action.startswith(prefix) and action[len(prefix):] in labels:
            verb = labels[action[len(prefix):]]
            return verb if prefix == "lifecycle_" else f"{verb}{what}"
    return f"{action} {obj}".strip()


LONG = 80  # characters: a longer value is shown collapsed (<details>)


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):  # nested records read as 键：值 pairs (the domain serialises nothing)
        return "{" + "；".join(f"{k}：{_text(v)}" for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))) + "}"
    if isinstance(value, list | tuple):
        return "[" + "、".join(_text(v) for v in value) + "]"
    return str(value)


def diff(before: Any, after: Any) -> list[dict[str, Any]]:
    """before/after as rows {key, old, new, long}: the keys of either side (dicts), one row "值" otherwise; keys
    whose value did not change are left out unless nothing changed at all."""
    b = before if isinstance(before, dict) else ({} if before is None else {"值": before})
    a = after if isinstance(after, dict) else ({} if after is None else {"值": after})
    keys = list(dict.fromkeys([*b.keys(), *a.keys()]))
    rows = []
    for k in keys:
        old, new = b.get(k), a.get(k)
        if k in b and k in a and old == new:
            continue
        old_t, new_t = (_text(old) if k in b else "—"), (_text(new) if k in a else "—")
        rows.append({"key": str(k), "old": old_t, "new": new_t, "long": max(len(old_t), len(new_t)) > LONG})
    return rows


def diff_text(before: Any, after: Any) -> str:
    """The diff on one line per key, for the export: "state: submitted → approved"."""
    return "\n".join(f"{r['key']}: {r['old']} → {r['new']}" for r in diff(before, after))
