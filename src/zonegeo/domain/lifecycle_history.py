"""Reading a zone's recorded history (its lifecycle events in order, as dicts with ``action``, ``on``, ``from``,
``to`` and the event's data): objections, approval preconditions, consecutive failed evaluations, the pending
revocation proposal, years without evaluation. Pure: no database, no HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any


def objections(history: list[dict[str, Any]]) -> dict[str, int]:
    """Open (not yet handled) objections, and upheld ones still waiting for the province's decision."""
    count = {a: sum(1 for h in history if h["action"] == a)
             for a in ("objection", "resolve_objection", "decide_objection")}
    upheld = sum(1 for h in history if h["action"] == "resolve_objection" and h.get("outcome") == "upheld")
    return {"open": count["objection"] - count["resolve_objection"], "upheld_undecided": upheld - count["decide_objection"]}


def approval_blockers(on: dt.date, data: dict[str, Any], dates: dict[str, dt.date],
                      history: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every precondition of 批复 still missing (第二章): recommendation, approved layout, operator, expert opinion,
    the 需人工审核 items, the 5-working-day notice over, objections handled."""
    out: list[dict[str, str]] = []

    def missing(code: str, message: str) -> None:
        out.append({"code": code, "message": message})

    if not any(h["action"] == "recommend" for h in history):
        missing("no_recommendation", "没有设区市知识产权局的推荐记录（申报须经设区市推荐）")
    if not data.get("layout_approved"):
        missing("no_approved_layout", "没有已批准的空间布局版本（四至范围须经批准）")
    if not str(data.get("operator", "")).strip():
        missing("no_operator", "未登记运营管理单位（zone.operator）")
    if not any(h["action"] == "expert_opinion" for h in history):
        missing("no_expert_opinion", "没有专家评审意见")
    reviews: dict[str, str] = data.get("reviews", {})
    for item_id, title in data.get("review_items", []):
        result = reviews.get(item_id)
        if result is None:
            missing("review_missing", f"人工审核事项“{title}”尚未记录结果")
        elif result == "needs_more":
            missing("review_needs_more", f"人工审核事项“{title}”结果为需补充，尚未审核完毕")
        elif result == "fails":
            missing("review_fails", f"人工审核事项“{title}”审核结果为不符合")
    end = dates.get("notice_end")
    if end is None:
        missing("notice_not_over", "尚未公示")
    elif on <= end:
        missing("notice_not_over", f"公示期至{end:%Y年%m月%d日}结束，结束后方可批复")
    count = objections(history)
    if count["open"] > 0:
        missing("objections_open", f"公示期间有{count['open']}项异议尚未处理")
    if count["upheld_undecided"] > 0:
        missing("objection_upheld", f"有{count['upheld_undecided']}项异议成立，待省知识产权局作出决定（decide_objection）")
    return out


def consecutive_failed_evaluations(history: list[dict[str, Any]]) -> int:
    """Failed evaluations at the end of the zone's sequence of evaluation periods (its evaluate events in order):
    a pass, or an excellent, ends the run; calendar years play no part."""
    run = 0
    for h in history:
        if h["action"] == "evaluate":
            run = run + 1 if h.get("grade") == "fail" else 0
    return run


def pending_proposal(history: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The revocation proposal the zone is waiting on: the last event that moved it to revocation_proposed."""
    for h in reversed(history):
        if h.get("to") == "revocation_proposed" and h.get("proposal"):
            proposal: dict[str, Any] = h["proposal"]
            return proposal
        if h.get("from") == "revocation_proposed":
            return None
    return None


EXCUSED = "evaluation_excused"  # a history entry (not an event): absent from a round with a 正当理由


def automatic_revocation(history: list[dict[str, Any]], today: dt.date, operating_since: dt.date | None) -> int | None:
    """Reason 1 of 第三章: two consecutive years (before this one) without an evaluation while operating. A year the
    zone was absent from an evaluation round with a recorded 正当理由 (an ``evaluation_excused`` entry, put into the
    history by the services from the round's sheet) is not a year “无正当理由不参加”."""
    if operating_since is None:
        return None
    evaluated = {h["on"].year for h in history if h["action"] in ("evaluate", EXCUSED)}
    years = [y for y in (today.year - 2, today.year - 1) if y > operating_since.year]
    return 1 if len(years) == 2 and not evaluated.intersection(years) else None
