"""Evaluation rounds (综合评价, 第三章): a round per year with its zones and experts, the indicator sheets the experts
and the city bureaus score, the grade computed (``domain/evaluation.py``) and confirmed by the province through the
lifecycle's ``evaluate`` action (so that 整改 and 取消称号 stay in one state machine), participation and 正当理由, the
exports, and the 待办 rows of each role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zonegeo.db import repo
from zonegeo.db.models import (
    EvaluationEntry,
    EvaluationRound,
    EvaluationRoundExpert,
    EvaluationScore,
    LifecycleEvent,
    User,
    Zone,
)
from zonegeo.domain import evaluation as ev
from zonegeo.domain import lifecycle as states
from zonegeo.domain.rules import RuleSet
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.errors import ConfigError, ConflictError, InputError, NotFoundError, PermissionDeniedError
from zonegeo.services import audit, auth
from zonegeo.services import lifecycle as zone_life

EVALUABLE = ("operating", "rectifying")  # zones with a title in their 运行期: taken into a round by default
MAX_ZONES = 500  # zones in one round
MAX_EXPERTS = 50  # experts in one round
MAX_TITLE = 200
MAX_REASON = 500  # 正当理由 or an override's reason, in characters
SCORERS = ("expert", "city")
# 待办 kinds this module adds (kind → label, the role that acts), in the shape of services/worklist.KINDS
KINDS: dict[str, tuple[str, str]] = {
    "evaluation_scores": ("综合评价待评分", "expert"),
    "evaluation_city_scores": ("综合评价待设区市评分", "city"),
    "evaluation_confirm": ("综合评价结果待确认", "province"),
}


def scheme_of(rules: RuleSet | None) -> ev.Scheme:
    if rules is None or rules.evaluation is None:
        raise ConfigError("evaluation_scheme_missing", "规则文件没有设置综合评价的权重和分档线（[evaluation]）", {})
    return rules.evaluation


def _round_scheme(row: EvaluationRound) -> ev.Scheme:
    """The weights and grade lines a round was created under (kept with it: a later edit of the rules file does not
    change a round's results)."""
    return ev.scheme_from_dict(row.scheme, source=f"evaluation_round/{row.id}")


def _province(user: User, what: str) -> None:
    if user.role != "province":
        raise PermissionDeniedError("province_only", f"{what}由省知识产权局办理", {"role": user.role})


def _experts(session: Session, round_id: int) -> list[User]:
    stmt = (select(User).join(EvaluationRoundExpert, EvaluationRoundExpert.user_id == User.id)
            .where(EvaluationRoundExpert.round_id == round_id).order_by(User.username))
    return list(session.scalars(stmt))


def _title(year: int, title: str) -> str:
    title = title.strip() or f"{year}年度江苏省知识产权服务业集聚区综合评价"
    if len(title) > MAX_TITLE:
        raise InputError("field_too_long", f"评价名称不能超过{MAX_TITLE}个字符", {"field": "title", "max": MAX_TITLE})
    return title


def _year(value: Any, today: dt.date) -> int:
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        year = 0
    if not states.FIRST_YEAR <= year <= today.year:
        raise InputError("bad_year", f"评价年度“{str(value)[:20]}”不正确，应为{states.FIRST_YEAR}–{today.year}年",
                         {"field": "year", "value": str(value)[:20]})
    return year


def create_round(*, session: Session, user: User, year: Any, rules: RuleSet | None, title: str = "",
                 zones: Iterable[str] | None = None, experts: Iterable[str] = (),
                 today: dt.date | None = None) -> EvaluationRound:
    """A round for ``year`` with the zones given (by code; default: every zone in 运行期 or 运行整改期) and the
    experts assigned; the rules file's weights and grade lines are kept with it."""
    _province(user, "组织综合评价")
    today = today or dt.date.today()
    number = _year(year, today)
    scheme = scheme_of(rules)
    codes = list(dict.fromkeys(c.strip()[:64] for c in zones if c.strip())) if zones is not None else None
    if codes is not None and len(codes) > MAX_ZONES:
        raise InputError("too_many_zones", f"一轮评价最多{MAX_ZONES}个集聚区", {"field": "zones", "max": MAX_ZONES})
    if codes is None:  # the default: every zone in 运行期 or 运行整改期 not yet in a round of this year
        already = set(session.scalars(select(EvaluationEntry.zone_id).join(
            EvaluationRound, EvaluationRound.id == EvaluationEntry.round_id).where(EvaluationRound.year == number)))
        picked = [z for z in repo.list_zones(session) if z.status in EVALUABLE and z.id not in already]
    else:
        picked = [repo.get_zone(session, c) for c in codes]
    if not picked:
        raise InputError("no_zones", "请至少选择一个处于运行期或运行整改期的集聚区", {"field": "zones"})
    if len(picked) > MAX_ZONES:
        raise InputError("too_many_zones", f"一轮评价最多{MAX_ZONES}个集聚区", {"field": "zones", "max": MAX_ZONES})
    wrong = [z.code for z in picked if z.status not in EVALUABLE]
    if wrong:
        raise InputError("zone_not_evaluable", f"以下集聚区不在运行期或运行整改期，不能参加绩效评价：{'、'.join(wrong)}",
                         {"field": "zones", "zones": wrong})
    # the zones' rows locked: two rounds of one year made at once cannot both take a zone
    session.execute(select(Zone.id).where(Zone.id.in_([z.id for z in picked])).order_by(Zone.id).with_for_update())
    taken = session.execute(
        select(Zone.code).join(EvaluationEntry, EvaluationEntry.zone_id == Zone.id)
        .join(EvaluationRound, EvaluationRound.id == EvaluationEntry.round_id)
        .where(EvaluationRound.year == number, Zone.id.in_([z.id for z in picked]))).scalars().all()
    if taken:
        raise ConflictError("already_in_round", f"以下集聚区已在{number}年度的评价中：{'、'.join(taken)}",
                            {"field": "zones", "zones": list(taken), "year": number})
    names = list(dict.fromkeys(e.strip()[:64] for e in experts if e.strip()))
    if len(names) > MAX_EXPERTS:
        raise InputError("too_many_experts", f"一轮评价最多指派{MAX_EXPERTS}位专家", {"field": "experts"})
    people = [_expert_user(session, n) for n in names]
    row = EvaluationRound(year=number, title=_title(number, title), scheme=_scheme_dict(scheme),
                          created_by=user.username)
    session.add(row)
    session.flush()
    for zone in picked:
        session.add(EvaluationEntry(round_id=row.id, zone_id=zone.id, participation="taking_part", reason=""))
    for person in people:
        session.add(EvaluationRoundExpert(round_id=row.id, user_id=person.id))
    session.flush()
    audit.record(session, user, "evaluation_round_created", f"evaluation/{row.id}",
                 after={"year": number, "title": row.title, "zones": [z.code for z in picked], "experts": names,
                        "scheme": row.scheme})
    return row


def _scheme_dict(scheme: ev.Scheme) -> dict[str, Any]:
    """The scheme as the rules file writes it (strings keep the decimals exact)."""
    return {"weights": {k: str(v) for k, v in scheme.weights.items()}, "excellent_min": str(scheme.excellent_min),
            "pass_min": str(scheme.pass_min), "city_share_pct": str(scheme.city_share_pct)}


def _expert_user(session: Session, username: str) -> User:
    person = auth.get_user(session, username)
    if person.role != "expert" or not person.active:
        raise InputError("not_an_expert", f"用户“{username}”不是在用的评审专家", {"field": "experts", "username": username})
    return person


def add_expert(*, session: Session, user: User, round_id: int, username: str) -> None:
    _province(user, "指派评价专家")
    row = get_round(session, round_id)
    person = _expert_user(session, username.strip())
    if person.id in {e.id for e in _experts(session, row.id)}:
        raise ConflictError("already_assigned", f"专家“{username}”已在本轮评价中", {"username": username})
    if len(_experts(session, row.id)) >= MAX_EXPERTS:
        raise InputError("too_many_experts", f"一轮评价最多指派{MAX_EXPERTS}位专家", {"field": "expert"})
    session.add(EvaluationRoundExpert(round_id=row.id, user_id=person.id))
    session.flush()
    audit.record(session, user, "evaluation_expert_assigned", f"evaluation/{row.id}", after={"expert": username})


MAX_ID = 2**31 - 1  # the id column's range: a larger number in a URL is simply not found


def get_round(session: Session, round_id: int) -> EvaluationRound:
    row = session.get(EvaluationRound, round_id) if 1 <= round_id <= MAX_ID else None
    if row is None:
        raise NotFoundError("evaluation_not_found", f"综合评价（编号{round_id}）不存在", {"round": round_id})
    return row


def _entries(session: Session, round_id: int) -> list[tuple[EvaluationEntry, Zone]]:
    stmt = (select(EvaluationEntry, Zone).join(Zone, Zone.id == EvaluationEntry.zone_id)
            .where(EvaluationEntry.round_id == round_id).order_by(Zone.city, Zone.code))
    return [(e, z) for e, z in session.execute(stmt)]


def _is_expert(session: Session, user: User, round_id: int) -> bool:
    return session.get(EvaluationRoundExpert, (round_id, user.id)) is not None


def may_see(session: Session, user: User, row: EvaluationRound) -> bool:
    """The province sees every round, an expert the rounds it scores in, a city bureau the rounds with its zones."""
    if user.role == "province":
        return True
    if user.role == "expert":
        return _is_expert(session, user, row.id)
    if user.role == "city":
        return any(z.city == user.city for _, z in _entries(session, row.id))
    return False


def visible_round(session: Session, user: User, round_id: int) -> EvaluationRound:
    row = get_round(session, round_id)
    if not may_see(session, user, row):
        raise NotFoundError("evaluation_not_found", f"综合评价（编号{round_id}）不存在", {"round": round_id})
    return row


def _zone_rows(session: Session, user: User, row: EvaluationRound) -> list[tuple[EvaluationEntry, Zone]]:
    rows = _entries(session, row.id)
    return [(e, z) for e, z in rows if user.role != "city" or z.city == user.city]


def list_rounds(*, session: Session, user: User) -> list[dict[str, Any]]:
    """The rounds ``user`` may see, newest first, with their counts."""
    out = []
    for row in session.scalars(select(EvaluationRound).order_by(EvaluationRound.year.desc(), EvaluationRound.id.desc())):
        if not may_see(session, user, row):
            continue
        entries = _zone_rows(session, user, row)
        grades = [e.confirmed_grade for e, _ in entries if e.confirmed_grade]
        out.append({"id": row.id, "year": row.year, "title": row.title, "zones": len(entries),
                    "confirmed": len(grades), "excellent": grades.count("excellent"),
                    "experts": len(_experts(session, row.id))})
    return out


def _scores(session: Session, entry_ids: list[int]) -> dict[int, list[EvaluationScore]]:
    out: dict[int, list[EvaluationScore]] = {i: [] for i in entry_ids}
    if entry_ids:
        stmt = select(EvaluationScore).where(EvaluationScore.entry_id.in_(entry_ids)).order_by(EvaluationScore.id)
        for s in session.scalars(stmt):
            out[s.entry_id].append(s)
    return out


def _work_out(scheme: ev.Scheme, experts: list[str], scores: list[EvaluationScore]) -> ev.SheetResult:
    by_expert: dict[str, dict[str, Decimal]] = {}
    city: dict[str, Decimal] = {}
    for s in scores:
        if s.role == "expert":
            by_expert.setdefault(s.scorer, {})[s.dimension] = Decimal(s.score)
        else:
            city[s.dimension] = Decimal(s.score)  # the zone's city bureau (one per city)
    return ev.work_out(scheme, experts, by_expert, city)


def _sheet(entry: EvaluationEntry, zone: Zone, scheme: ev.Scheme, experts: list[str],
           scores: list[EvaluationScore]) -> dict[str, Any]:
    result = _work_out(scheme, experts, scores)
    given: dict[str, dict[str, str]] = {}
    for s in scores:
        given.setdefault(s.scorer, {})[s.dimension] = f"{Decimal(s.score):.2f}"
    shown = entry.confirmed_grade
    return {
        "entry_id": entry.id, "zone_code": zone.code, "zone_name": zone.name, "city": zone.city,
        "zone_state": zone.status, "zone_state_label": states.STATES.get(zone.status, zone.status),
        "participation": entry.participation, "participation_label": ev.PARTICIPATION[entry.participation],
        "reason": entry.reason, "scores": given, "scorers": {s.scorer: s.role for s in scores},
        "experts_mean": {d: _fmt(v) for d, v in result.experts_mean.items()},
        "city_scores": {d: _fmt(v) for d, v in result.city.items()},
        "dimensions": {d: _fmt(v) for d, v in result.dimensions.items()},
        "missing": result.missing, "total": _fmt(result.total), "grade": result.grade,
        "grade_label": ev.GRADES.get(result.grade or "", ""),
        "confirmed_grade": shown, "confirmed_label": ev.GRADES.get(shown or "", ""),
        "confirmed_total": _fmt(entry.computed_total), "computed_grade_at_confirmation": entry.computed_grade,
        "override_reason": entry.override_reason, "confirmed_by": entry.confirmed_by,
        "confirmed_on": entry.confirmed_on.isoformat() if entry.confirmed_on else "",
    }


def sealed(sheet: dict[str, Any], user: User) -> dict[str, Any]:
    """Scoring is independent (独立评分): until the province confirms, an expert or a city bureau sees its own scores
    only — no other scorer's, no mean, total or computed grade; the province sees everything."""
    if user.role == "province" or sheet["confirmed_grade"] is not None:
        return sheet | {"sealed": False}
    blank = dict.fromkeys(ev.DIMENSIONS, "")
    return sheet | {"sealed": True, "scores": {k: v for k, v in sheet["scores"].items() if k == user.username},
                    "scorers": {}, "experts_mean": blank, "city_scores": blank, "dimensions": blank, "missing": [],
                    "total": "", "grade": None, "grade_label": ""}


def _fmt(value: Decimal | None) -> str:
    return "" if value is None else f"{Decimal(value):.2f}"


def round_view(*, session: Session, user: User, round_id: int) -> dict[str, Any]:
    """A round as ``user`` may see it: its scheme, experts and each visible zone's sheet."""
    row = visible_round(session, user, round_id)
    scheme = _round_scheme(row)
    experts = [e.username for e in _experts(session, row.id)]
    entries = _zone_rows(session, user, row)
    scores = _scores(session, [e.id for e, _ in entries])
    sheets = [sealed(_sheet(e, z, scheme, experts, scores[e.id]), user) for e, z in entries]
    return {"id": row.id, "year": row.year, "title": row.title, "scheme": scheme, "experts": experts,
            "sheets": sheets, "created_by": row.created_by}


def _entry(session: Session, row: EvaluationRound, code: str, *, lock: bool = True) -> tuple[EvaluationEntry, Zone]:
    """The zone's entry in the round, locked for a write (two confirmations of one zone never both pass)."""
    zone = repo.get_zone(session, code)
    stmt = select(EvaluationEntry).where(EvaluationEntry.round_id == row.id, EvaluationEntry.zone_id == zone.id)
    entry = session.scalar(stmt.with_for_update() if lock else stmt)
    if entry is None:
        raise NotFoundError("zone_not_in_round", f"集聚区“{code}”不在本轮评价中", {"code": code, "round": row.id})
    return entry, zone


def zone_sheet(*, session: Session, user: User, round_id: int, code: str) -> dict[str, Any]:
    row = visible_round(session, user, round_id)
    entry, zone = _entry(session, row, code, lock=False)
    if user.role == "city" and zone.city != user.city:
        raise NotFoundError("zone_not_in_round", f"集聚区“{code}”不在本轮评价中", {"code": code, "round": row.id})
    experts = [e.username for e in _experts(session, row.id)]
    sheet = sealed(_sheet(entry, zone, _round_scheme(row), experts, _scores(session, [entry.id])[entry.id]), user)
    return sheet | {"round_id": row.id, "year": row.year, "title": row.title, "experts": experts}


def _scorer_role(session: Session, user: User, row: EvaluationRound, zone: Zone) -> str:
    if user.role == "expert" and _is_expert(session, user, row.id):
        return "expert"
    if user.role == "city" and zone.city == user.city:
        return "city"
    raise PermissionDeniedError("not_a_scorer", "只有本轮指派的评审专家和集聚区所在设区市知识产权局可以评分",
                                {"role": user.role})


def _open(entry: EvaluationEntry, code: str) -> None:
    if entry.confirmed_grade is not None:
        raise ConflictError("already_confirmed", f"集聚区“{code}”的评价结果已由省知识产权局确认，不能再修改",
                            {"code": code, "grade": entry.confirmed_grade})


def enter_scores(*, session: Session, user: User, round_id: int, code: str,
                 scores: Mapping[str, Any]) -> dict[str, str]:
    """The logged-in expert's (or city bureau's) scores of the five dimensions; a later entry replaces the
    scorer's earlier one. All five are required; each 0–100 with at most two decimals."""
    row = visible_round(session, user, round_id)
    entry, zone = _entry(session, row, code)
    role = _scorer_role(session, user, row, zone)
    _open(entry, code)
    if entry.participation != "taking_part":
        label = ev.PARTICIPATION[entry.participation]
        raise ConflictError("not_taking_part", f"集聚区“{code}”本轮未参加评价（{label}），不能评分",
                            {"code": code, "participation": entry.participation})
    unknown = [k for k in scores if k not in ev.DIMENSIONS]
    if unknown:
        raise InputError("unknown_dimension", f"未知的评价维度：{'、'.join(map(str, unknown))[:100]}",
                         {"unknown": [str(k)[:40] for k in unknown[:10]]})
    parsed = {d: ev.parse_score(scores.get(d), f"{label}（{d}）") for d, label in ev.DIMENSIONS.items()}
    existing = {s.dimension: s for s in session.scalars(
        select(EvaluationScore).where(EvaluationScore.entry_id == entry.id, EvaluationScore.scorer == user.username))}
    before = {d: f"{Decimal(s.score):.2f}" for d, s in existing.items()}
    for d, value in parsed.items():
        if d in existing:
            existing[d].score, existing[d].updated_at = value, func.now()
        else:
            session.add(EvaluationScore(entry_id=entry.id, scorer=user.username, role=role, dimension=d, score=value))
    session.flush()
    after = {d: f"{v:.2f}" for d, v in parsed.items()}
    audit.record(session, user, "evaluation_scored", f"zone/{code}/evaluation/{row.id}",
                 before=before or None, after={"role": role, **after})
    return after


def set_participation(*, session: Session, user: User, round_id: int, code: str, participation: str,
                      reason: str = "") -> None:
    """Whether the zone takes part: ``taking_part``, ``absent_justified`` (with its 正当理由) or ``absent`` (no
    justification: the year counts toward 第三章 取消称号 reason (一), as the lifecycle reads a year without an
    evaluation)."""
    _province(user, "登记参评情况")
    row = get_round(session, round_id)
    entry, _ = _entry(session, row, code)
    _open(entry, code)
    if participation not in ev.PARTICIPATION:
        raise InputError("bad_participation", f"参评情况“{participation[:40]}”不正确，应为：" +
                         "、".join(f"{v}（{k}）" for k, v in ev.PARTICIPATION.items()), {"field": "participation"})
    reason = reason.strip()
    if participation == "absent_justified" and not reason:
        raise InputError("missing_reason", "未参加评价且有正当理由的，请填写正当理由", {"field": "reason"})
    if len(reason) > MAX_REASON:
        raise InputError("field_too_long", f"正当理由不能超过{MAX_REASON}个字符", {"field": "reason", "max": MAX_REASON})
    before = {"participation": entry.participation, "reason": entry.reason}
    entry.participation, entry.reason = participation, reason if participation == "absent_justified" else ""
    session.flush()
    audit.record(session, user, "evaluation_participation", f"zone/{code}/evaluation/{row.id}", before=before,
                 after={"participation": entry.participation, "reason": entry.reason})


def confirm(*, session: Session, user: User, round_id: int, code: str, on: dt.date, calendar: WorkCalendar,
            rules: RuleSet | None = None, override: str = "", override_reason: str = "",
            rectification_months: str = "", today: dt.date | None = None) -> dict[str, Any]:
    """The province confirms the computed grade, or sets another with a reason; either way the lifecycle's
    ``evaluate`` action records it (不合格 → 运行整改期 with its end date, as the state machine sets it)."""
    _province(user, "确认评价结果")
    today = today or dt.date.today()
    row = get_round(session, round_id)
    entry, zone = _entry(session, row, code)
    _open(entry, code)
    if entry.participation != "taking_part":
        raise ConflictError("not_taking_part", f"集聚区“{code}”本轮未参加评价，没有评价结果可确认",
                            {"code": code, "participation": entry.participation})
    if on.year != row.year:
        raise InputError("bad_date", f"确认日期{on.isoformat()}不在评价年度{row.year}年内（年度评价结果记在当年）",
                         {"field": "on", "year": row.year})
    experts = [e.username for e in _experts(session, row.id)]
    result = _work_out(_round_scheme(row), experts, _scores(session, [entry.id])[entry.id])
    grade, reason = _final_grade(result, override, override_reason)
    data: dict[str, Any] = {"grade": grade, "evaluation_round": row.id, "evaluation_year": row.year,
                            "total": _fmt(result.total), "computed_grade": result.grade or ""}
    if reason:
        data["override_reason"] = reason
    if rectification_months.strip():
        data["rectification_months"] = rectification_months.strip()[:4]
    done = zone_life.act(session=session, user=user, code=code, action="evaluate", on=on, data=data,
                         calendar=calendar, rules=rules, today=today)
    event_id = session.scalar(select(func.max(LifecycleEvent.id)).where(LifecycleEvent.zone_id == zone.id,
                                                                        LifecycleEvent.action == "evaluate"))
    entry.confirmed_grade, entry.confirmed_on, entry.confirmed_by = grade, on, user.username
    entry.computed_total, entry.computed_grade, entry.override_reason = result.total, result.grade, reason
    entry.lifecycle_event_id = event_id
    session.flush()
    audit.record(session, user, "evaluation_confirmed", f"zone/{code}/evaluation/{row.id}",
                 after={"grade": grade, "computed_grade": result.grade, "total": _fmt(result.total),
                        "override_reason": reason, "state": done["state"], "event": event_id})
    return {"grade": grade, "grade_label": ev.GRADES[grade], "state": done["state"],
            "state_label": done["state_label"], "dates": done["dates"], "total": _fmt(result.total)}


def _final_grade(result: ev.SheetResult, override: str, reason: str) -> tuple[str, str]:
    override, reason = override.strip(), reason.strip()
    if len(reason) > MAX_REASON:
        raise InputError("field_too_long", f"改定理由不能超过{MAX_REASON}个字符", {"field": "override_reason"})
    if not override or override == result.grade:
        if result.grade is None:
            who = "；".join(f"{m['scorer'] or '（未指派专家）'}缺{len(m['dimensions'])}项" for m in result.missing)
            raise InputError("sheet_incomplete", f"评分尚未完成，不能按计算结果确认（{who}）；"
                             "如需直接认定等次，请选择等次并说明理由", {"missing": result.missing})
        return result.grade, ""
    if override not in ev.GRADES:
        raise InputError("bad_grade", f"评价等次“{override[:20]}”不正确，应为：优秀（excellent）、合格（pass）、不合格（fail）",
                         {"field": "override"})
    if not reason:
        raise InputError("missing_reason", f"改定为“{ev.GRADES[override]}”（不同于计算结果）须说明理由",
                         {"field": "override_reason"})
    return override, reason


# ---- exports ----

RESULT_HEADERS = ("设区市", "集聚区编号", "集聚区名称", "参评情况", "正当理由",
                  *(f"{label}得分" for label in ev.DIMENSIONS.values()), "总分", "计算等次", "确认等次",
                  "改定理由", "确认人", "确认日期")
EXCELLENT_HEADERS = ("序号", "设区市", "集聚区编号", "集聚区名称", "建设主体", "运营管理单位", "总分", "确认日期")


def result_rows(*, session: Session, user: User, round_id: int) -> list[list[Any]]:
    view = round_view(session=session, user=user, round_id=round_id)
    rows = []
    for s in view["sheets"]:
        rows.append([s["city"], s["zone_code"], s["zone_name"], s["participation_label"], s["reason"],
                     *(_num(s["dimensions"][d]) for d in ev.DIMENSIONS), _num(s["total"]), s["grade_label"],
                     s["confirmed_label"], s["override_reason"], s["confirmed_by"], s["confirmed_on"]])
    return rows


def excellent_rows(*, session: Session, user: User, round_id: int) -> list[list[Any]]:
    """The zones confirmed 优秀, by total (highest first): 同等条件下推荐申报国家知识产权服务业集聚发展试验区."""
    row = visible_round(session, user, round_id)
    found = [(e, z) for e, z in _zone_rows(session, user, row) if e.confirmed_grade == "excellent"]
    found.sort(key=lambda ez: (-(ez[0].computed_total or Decimal(0)), ez[1].code))
    return [[k, z.city, z.code, z.name, z.builder, z.operator, _num(_fmt(e.computed_total)),
             e.confirmed_on.isoformat() if e.confirmed_on else ""] for k, (e, z) in enumerate(found, 1)]


def _num(text: str) -> float | None:
    return float(text) if text else None


def export(*, session: Session, user: User, round_id: int, kind: str) -> tuple[bytes, str]:
    """``results`` (every zone's sheet) or ``excellent`` (the 优秀 list) as .xlsx bytes, with the file name."""
    from zonegeo.services.xlsx import Sheet, workbook

    row = visible_round(session, user, round_id)
    if kind == "excellent":
        caption = [[f"{row.title}：评价结果为优秀的集聚区（同等条件下推荐申报国家知识产权服务业集聚发展试验区）"]]
        sheet = Sheet("优秀集聚区", headers=EXCELLENT_HEADERS,
                      rows=excellent_rows(session=session, user=user, round_id=round_id),
                      caption=caption, merged=("A1:H1",), widths=(6, 10, 16, 36, 30, 30, 8, 12))
        return workbook([sheet]), f"{row.year}年度综合评价优秀集聚区.xlsx"
    if kind != "results":
        raise NotFoundError("export_not_found", "没有这种导出", {"kind": kind[:20]})
    sheet = Sheet("评价结果", headers=RESULT_HEADERS, rows=result_rows(session=session, user=user, round_id=round_id),
                  caption=[[row.title]], merged=(f"A1:{_column(len(RESULT_HEADERS))}1",))
    return workbook([sheet]), f"{row.year}年度综合评价结果.xlsx"


def _column(n: int) -> str:
    name = ""
    while n:
        n, rest = divmod(n - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


# ---- 待办 ----

def worklist_items(session: Session, user: User, today: dt.date) -> list[dict[str, Any]]:
    """What waits on ``user`` in the rounds of the current and last year, as services/worklist rows: sheets to
    score (an assigned expert; the zone's city bureau when its score counts), grades to confirm (the province:
    every sheet complete, where the state machine allows ``evaluate``). Four queries whatever the number of rounds
    and zones: the rounds, their open sheets with their zones, their experts, the sheets' scores."""
    if user.role not in ("expert", "city", "province"):
        return []
    rounds = {r.id: r for r in session.scalars(select(EvaluationRound).where(EvaluationRound.year >= today.year - 1)
                                               .order_by(EvaluationRound.id))}
    if not rounds:
        return []
    stmt = (select(EvaluationEntry, Zone).join(Zone, Zone.id == EvaluationEntry.zone_id)
            .where(EvaluationEntry.round_id.in_(list(rounds)), EvaluationEntry.participation == "taking_part",
                   EvaluationEntry.confirmed_grade.is_(None))
            .order_by(EvaluationEntry.round_id, Zone.city, Zone.code))
    if user.role == "city":
        stmt = stmt.where(Zone.city == user.city)
    entries = [(e, z) for e, z in session.execute(stmt)]
    experts: dict[int, list[str]] = {i: [] for i in rounds}
    for round_id, username in session.execute(
            select(EvaluationRoundExpert.round_id, User.username).join(User, User.id == EvaluationRoundExpert.user_id)
            .where(EvaluationRoundExpert.round_id.in_(list(rounds))).order_by(User.username)):
        experts[round_id].append(username)
    scores = _scores(session, [e.id for e, _ in entries])
    out: list[dict[str, Any]] = []
    for entry, zone in entries:
        row = rounds[entry.round_id]
        if user.role == "expert" and user.username not in experts[row.id]:
            continue
        mine = {s.dimension for s in scores[entry.id] if s.scorer == user.username}
        city = {s.dimension for s in scores[entry.id] if s.role == "city"}
        scheme = _round_scheme(row)
        url = f"/evaluations/{row.id}/zones/{zone.code}"
        if user.role == "expert" and len(mine) < len(ev.DIMENSIONS):
            out.append(_item(zone, "evaluation_scores", f"{row.title}：为“{zone.name}”评分", url))
        elif user.role == "city" and scheme.city_share_pct > 0 and len(city) < len(ev.DIMENSIONS):
            out.append(_item(zone, "evaluation_city_scores", f"{row.title}：设区市为“{zone.name}”评分", url))
        elif user.role == "province" and zone.status in states.TRANSITIONS["evaluate"].sources:
            result = _work_out(scheme, experts[row.id], scores[entry.id])
            if result.complete:
                out.append(_item(zone, "evaluation_confirm",
                                 f"{row.title}：确认“{zone.name}”的评价结果（计算为{ev.GRADES[result.grade or 'fail']}，"
                                 f"总分{_fmt(result.total)}）", url))
    return out


def _item(zone: Zone, kind: str, what: str, url: str) -> dict[str, Any]:
    label, role = KINDS[kind]
    return {"zone_code": zone.code, "zone_name": zone.name, "city": zone.city, "zone_state": zone.status,
            "zone_state_label": states.STATES.get(zone.status, zone.status), "what": what, "kind": kind,
            "kind_label": label, "since": None, "due": None, "days_left": None, "workdays_left": None,
            "overdue": False, "provisional": False, "role": role, "role_label": states.ROLES.get(role, role),
            "action_url": url}


def excused_years(session: Session, zone_ids: list[int]) -> dict[int, set[int]]:
    """The years each zone was absent from a round with a recorded 正当理由 (zone id → years). Such a year must not
    count toward 第三章 取消称号 reason (一); ``lifecycle_history.automatic_revocation`` reads only ``evaluate`` events
    and is to take these years as evaluated (see the issue note: wired by the owner of the lifecycle)."""
    out: dict[int, set[int]] = {i: set() for i in zone_ids}
    if zone_ids:
        stmt = (select(EvaluationEntry.zone_id, EvaluationRound.year)
                .join(EvaluationRound, EvaluationRound.id == EvaluationEntry.round_id)
                .where(EvaluationEntry.zone_id.in_(zone_ids), EvaluationEntry.participation == "absent_justified"))
        for zone_id, year in session.execute(stmt):
            out[zone_id].add(year)
    return out
