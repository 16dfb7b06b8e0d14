"""综合评价 (第三章): the five dimensions, the scheme of weights and grade thresholds read from the rules file, a
zone's indicator sheet (experts' and the city bureau's scores) and the grade it computes. Pure: no DB, no HTTP.

Reading chosen (the rules file's ``[evaluation]`` says it again, and may change every number):

- each scorer gives every dimension a score of 0–100 (two decimals at most);
- a dimension's score is the mean of the assigned experts' scores, combined with the city bureau's score by the
  city share (``city_share_pct``): ``(100 − share) % × experts' mean + share % × city score``; with share 0 the
  city's score is shown beside the sheet and does not count;
- dimension scores are rounded half-up to 0.01, the weighted total (Σ weight % × dimension score) is rounded
  half-up to 0.01, and that printed figure is compared with the thresholds: 优秀 ≥ ``excellent_min``,
  合格 ≥ ``pass_min``, otherwise 不合格;
- a grade is computed only from a complete sheet (every assigned expert, and the city when it counts, has scored
  all five dimensions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from zonegeo.errors import ConfigError, InputError

# 第三章：“从机构集聚效果、功能配套能力、宏观管理水平、政策发展环境、产业支撑成效等方面组织……综合评价”
DIMENSIONS: dict[str, str] = {
    "institutions": "机构集聚效果",
    "functions": "功能配套能力",
    "management": "宏观管理水平",
    "policy": "政策发展环境",
    "industry": "产业支撑成效",
}
GRADES = {"excellent": "优秀", "pass": "合格", "fail": "不合格"}
PARTICIPATION = {"taking_part": "参加评价", "absent_justified": "未参加（有正当理由）",
                 "absent": "未参加（无正当理由）"}
SCORER_ROLES = {"expert": "评审专家", "city": "设区市知识产权局"}
SCORE_MAX = Decimal(100)
STEP = Decimal("0.01")
MAX_SCORE_TEXT = 12  # characters of one typed score
HUNDRED = Decimal(100)


def figure(value: Decimal) -> Decimal:
    """A score as it is printed and compared: rounded half-up to 0.01."""
    return value.quantize(STEP, rounding=ROUND_HALF_UP)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


@dataclass(frozen=True)
class Scheme:
    """The province's weights (percent per dimension, summing to 100), grade thresholds (of 100) and the city
    bureau's share of each dimension's score."""

    weights: dict[str, Decimal]
    excellent_min: Decimal
    pass_min: Decimal
    city_share_pct: Decimal = Decimal(0)
    basis: str = ""
    reading: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"weights": {k: float(v) for k, v in self.weights.items()}, "excellent_min": float(self.excellent_min),
                "pass_min": float(self.pass_min), "city_share_pct": float(self.city_share_pct)}


DEFAULT_SCHEME = Scheme(weights={d: Decimal(20) for d in DIMENSIONS}, excellent_min=Decimal(90),
                        pass_min=Decimal(60), city_share_pct=Decimal(20))


def scheme_from_dict(data: Mapping[str, Any], *, source: str = "") -> Scheme:
    """The ``[evaluation]`` section of a rules file, checked: every dimension weighted (0 < w ≤ 100), nothing else,
    weights summing to exactly 100 %, 0 < 合格线 < 优秀线 ≤ 100, city share 0–99. Errors name the file and key."""
    where = f"规则文件{source}的" if source else "规则文件的"

    def bad(key: str, message: str, **detail: Any) -> ConfigError:
        return ConfigError("rules_file_evaluation", f"{where}[evaluation] {key}：{message}",
                           {"file": source, "key": f"evaluation.{key}", **detail})

    raw = data.get("weights")
    if not isinstance(raw, Mapping):
        raise bad("weights", "缺少五个评价维度的权重表", expected=list(DIMENSIONS))
    unknown = [k for k in raw if k not in DIMENSIONS]
    if unknown:
        raise bad("weights", f"未知的评价维度{'、'.join(map(str, unknown))}，应为：" +
                  "、".join(f"{k}（{v}）" for k, v in DIMENSIONS.items()), unknown=unknown)
    missing = [k for k in DIMENSIONS if k not in raw]
    if missing:
        raise bad("weights", "缺少维度" + "、".join(f"{k}（{DIMENSIONS[k]}）" for k in missing) + "的权重",
                  missing=missing)
    weights: dict[str, Decimal] = {}
    for key in DIMENSIONS:
        w = _number(raw[key])
        if w is None or not Decimal(0) < w <= HUNDRED:
            raise bad(f"weights.{key}", f"{DIMENSIONS[key]}的权重“{raw[key]}”应为大于0、不超过100的百分数",
                      value=str(raw[key]))
        weights[key] = w
    total = sum(weights.values(), Decimal(0))
    if total != HUNDRED:
        raise bad("weights", f"五个维度的权重合计为{total.normalize():f}%，应为100%", total=str(total))
    excellent, passing = _number(data.get("excellent_min")), _number(data.get("pass_min"))
    if excellent is None or passing is None:
        raise bad("excellent_min" if excellent is None else "pass_min", "缺少或不是数字（优秀线、合格线均为百分制分数）")
    if not Decimal(0) < passing < excellent <= HUNDRED:
        raise bad("pass_min", f"分档线应满足 0 < 合格线（{passing}）< 优秀线（{excellent}）≤ 100",
                  pass_min=str(passing), excellent_min=str(excellent))
    share = _number(data.get("city_share_pct", 0))
    if share is None or not Decimal(0) <= share < HUNDRED:
        raise bad("city_share_pct", f"设区市评分所占比例“{data.get('city_share_pct')}”应为0–99的百分数",
                  value=str(data.get("city_share_pct")))
    return Scheme(weights=weights, excellent_min=excellent, pass_min=passing, city_share_pct=share,
                  basis=str(data.get("basis", "")), reading=str(data.get("reading", "")))


def parse_score(value: Any, where: str) -> Decimal:
    """One typed score: a number 0–100 with at most two decimals; ``where`` names the field in the message."""
    text = "" if value is None else str(value).strip()
    if not text:
        raise InputError("missing_score", f"{where}：请填写分数（0–100）", {"field": where})
    number = _number(text) if len(text) <= MAX_SCORE_TEXT else None
    if number is None:
        raise InputError("bad_score", f"{where}：“{text[:MAX_SCORE_TEXT]}”不是数字，应为0–100的分数",
                         {"field": where, "value": text[:MAX_SCORE_TEXT]})
    if not Decimal(0) <= number <= SCORE_MAX:
        raise InputError("score_out_of_range", f"{where}：{text}超出范围，应为0–100", {"field": where, "value": text})
    if number != number.quantize(STEP, rounding=ROUND_HALF_UP):
        raise InputError("score_precision", f"{where}：{text}最多保留两位小数", {"field": where, "value": text})
    return number


def grade_for(total: Decimal, scheme: Scheme) -> str:
    """优秀 at or above the excellent line, 合格 at or above the pass line, else 不合格 (on the printed figure)."""
    shown = figure(total)
    if shown >= scheme.excellent_min:
        return "excellent"
    if shown >= scheme.pass_min:
        return "pass"
    return "fail"


def weighted_total(dimension_scores: Mapping[str, Decimal], scheme: Scheme) -> Decimal:
    """Σ weight % × dimension score, rounded half-up to 0.01."""
    return figure(sum((scheme.weights[d] * dimension_scores[d] / HUNDRED for d in DIMENSIONS), Decimal(0)))


@dataclass(frozen=True)
class SheetResult:
    """A zone's indicator sheet worked out: per dimension the experts' mean, the city's score and the combined score;
    who has not yet scored what; the total and grade when complete."""

    experts_mean: dict[str, Decimal | None]
    city: dict[str, Decimal | None]
    dimensions: dict[str, Decimal | None]
    missing: list[dict[str, Any]] = field(default_factory=list)  # {scorer, role, dimensions}
    total: Decimal | None = None
    grade: str | None = None

    @property
    def complete(self) -> bool:
        return self.grade is not None


def work_out(scheme: Scheme, experts: list[str], expert_scores: Mapping[str, Mapping[str, Decimal]],
             city_scores: Mapping[str, Decimal], *, city_scorer: str = "city") -> SheetResult:
    """The sheet of one zone from the assigned ``experts``' scores (username → dimension → score) and the city
    bureau's. Scores from experts not (or no longer) assigned are ignored."""
    missing: list[dict[str, Any]] = []
    for name in experts:
        gaps = [d for d in DIMENSIONS if d not in expert_scores.get(name, {})]
        if gaps:
            missing.append({"scorer": name, "role": "expert", "dimensions": gaps})
    city_counts = scheme.city_share_pct > 0
    city_gaps = [d for d in DIMENSIONS if d not in city_scores]
    if city_counts and city_gaps:
        missing.append({"scorer": city_scorer, "role": "city", "dimensions": city_gaps})
    if not experts:
        missing.append({"scorer": "", "role": "expert", "dimensions": list(DIMENSIONS)})
    means: dict[str, Decimal | None] = {}
    combined: dict[str, Decimal | None] = {}
    share = scheme.city_share_pct / HUNDRED
    for d in DIMENSIONS:
        given = [expert_scores[n][d] for n in experts if d in expert_scores.get(n, {})]
        means[d] = figure(sum(given, Decimal(0)) / len(given)) if given else None
        city = city_scores.get(d)
        if means[d] is None or (city_counts and city is None):
            combined[d] = None
        elif city_counts and city is not None:
            combined[d] = figure((1 - share) * sum(given, Decimal(0)) / len(given) + share * city)
        else:
            combined[d] = means[d]
    city_row = {d: city_scores.get(d) for d in DIMENSIONS}
    if missing or any(v is None for v in combined.values()):
        return SheetResult(means, city_row, combined, missing)
    complete = {d: v for d, v in combined.items() if v is not None}
    total = weighted_total(complete, scheme)
    return SheetResult(means, city_row, combined, missing, total, grade_for(total, scheme))
