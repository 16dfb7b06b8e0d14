"""The eligibility rules of 第二章 (申报条件): a RuleSet built from the parsed rules file (read by
:mod:`zonegeo.ingest.rules_file`) and evaluated on measured facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from zonegeo.domain.evaluation import Scheme, scheme_from_dict
from zonegeo.errors import ConfigError

REQUIRED_RULES = (
    "floor_area", "core_area", "institutions", "chain_coverage",
    "platforms", "core_inside_boundary", "buildings_inside_boundary",
)
CORE_AREA_BASES = {"land": "核心区用地面积", "floor": "核心区内建筑面积"}
AREA_STEP = Decimal("0.01")  # areas are compared, and printed, rounded to 0.01 m²


def area_figure(value_m2: float) -> Decimal:
    """An area as it is compared with a threshold and printed: rounded half-up to 0.01 m².

    Binary floating point makes 1438.06 + 2864.99 + 696.95 come out as 4999.999999999999; comparing the
    rounded figure makes the sum the applicant sees (5000.00) the sum that is judged."""
    return Decimal(repr(float(value_m2))).quantize(AREA_STEP, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ReviewItem:
    """A condition the software cannot judge (需人工审核): experts and the province record a result for it."""

    id: str
    title: str
    basis: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "basis": self.basis}


@dataclass(frozen=True)
class RuleSet:
    id: str
    title: str
    rules: dict[str, dict[str, Any]]
    declared_floor_area_rel: float = 0.10
    change: dict[str, Any] = field(default_factory=dict)  # tolerances of change detection (第三章)
    manual_review: tuple[ReviewItem, ...] = ()  # 需人工审核 items, in the order of the regulation
    edge_tolerance_m: float = 0.05  # a point this close to the boundary (metric CRS) counts as on it
    flags: dict[str, Any] = field(default_factory=dict)  # thresholds of reviewer flags (not rules)
    evaluation: Scheme | None = None  # 综合评价 weights and grade lines ([evaluation]); None when the file sets none

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "") -> RuleSet:
        """The rule set of a parsed rules file; a file that lacks a rule, a basis or the core-area reading is a
        configuration error naming ``source`` (the file) and what is missing."""
        rules: dict[str, dict[str, Any]] = dict(data.get("rules", {}))
        missing = [r for r in REQUIRED_RULES if r not in rules]
        if missing:
            raise ConfigError("rules_file_incomplete", "规则文件缺少规则", {"file": source, "missing": missing})
        for rule_id, rule in rules.items():
            if not rule.get("basis"):
                raise ConfigError("rules_file_incomplete", "规则缺少条款依据（basis）", {"file": source, "rule": rule_id})
        review = []
        for k, item in enumerate(data.get("manual_review", [])):
            if not all(item.get(key) for key in ("id", "title", "basis")):
                raise ConfigError("rules_file_incomplete", "人工审核事项缺少 id、title 或 basis",
                                  {"file": source, "manual_review": k + 1})
            review.append(ReviewItem(item["id"], item["title"], item["basis"]))
        area_basis = rules["core_area"].get("area_basis")
        if area_basis not in CORE_AREA_BASES:
            raise ConfigError("rules_file_incomplete", "核心区面积规则须写明计算口径 area_basis（land 或 floor）",
                              {"file": source, "rule": "core_area", "area_basis": area_basis})
        tolerances = data.get("tolerances", {})
        return cls(
            id=str(data.get("id", "")),
            title=str(data.get("title", "")),
            rules=rules,
            declared_floor_area_rel=float(data.get("warnings", {}).get("declared_floor_area_rel", 0.10)),
            change={"basis": "", "report_within_working_days": 15, "hausdorff_m": 1.0, "area_change_pct": 0.5,
                    "building_match_iou": 0.5} | dict(data.get("change", {})),
            manual_review=tuple(review),
            edge_tolerance_m=float(tolerances.get("edge_tolerance_m", 0.05)),
            flags={"max_part_gap_m": 1000.0} | dict(data.get("flags", {})),
            evaluation=scheme_from_dict(data["evaluation"], source=source) if "evaluation" in data else None,
        )

    @property
    def core_area_basis(self) -> str:
        """``land`` (核心区用地面积) or ``floor`` (核心区内建筑面积): the one reading of “核心区面积”."""
        return str(self.rules["core_area"].get("area_basis", "land"))

    def param(self, rule_id: str, name: str) -> Any:
        return self.rules[rule_id][name]


@dataclass(frozen=True)
class RuleResult:
    id: str
    title: str
    basis: str
    required: Any
    actual: Any
    passed: bool
    message: str  # why it passed or failed, in Chinese
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "basis": self.basis, "required": self.required,
            "actual": self.actual, "passed": self.passed, "message": self.message, "evidence": self.evidence,
        }


@dataclass(frozen=True)
class Facts:
    """What the rules need to know, as measured by :mod:`zonegeo.domain.check`."""

    floor_m2: float  # 建筑面积 inside the 四至 (each building's inside share)
    core_land_m2: float  # land area of the core within the boundary
    core_floor_m2: float  # floor area of buildings within the core (and the boundary)
    core_basis: str  # "land" or "floor" (from the rules file), "none" when there is no core polygon
    institutions_counted: int
    institutions_excluded: dict[str, list[str]]  # reason -> names
    chain_counts: dict[str, int]
    platforms_inside: list[dict[str, str]]
    platforms_outside: list[str]
    core_outside_m2: float | None  # None when there is no core polygon
    buildings_outside: list[dict[str, Any]]  # name, outside_m2
    floor_excluded_m2: float = 0.0  # 建筑面积 left out because it lies outside the boundary

    @property
    def core_area_m2(self) -> float:
        return self.core_floor_m2 if self.core_basis == "floor" else self.core_land_m2


def evaluate(rules: RuleSet, facts: Facts) -> list[RuleResult]:
    return [fn(rules, rid, facts) for rid, fn in _EVALUATORS.items()]


def _result(rules: RuleSet, rid: str, **kw: Any) -> RuleResult:
    r = rules.rules[rid]
    return RuleResult(id=rid, title=r.get("title", rid), basis=r["basis"], **kw)


def _area_verdict(actual_m2: float, need_m2: float) -> tuple[float, bool, str]:
    """(figure, passed, printed figure): the figure compared is the figure printed."""
    figure = area_figure(actual_m2)
    need = area_figure(need_m2)
    return float(figure), figure >= need, f"{figure:,.2f}"


def _floor_area(rules: RuleSet, rid: str, f: Facts) -> RuleResult:
    need = float(rules.param(rid, "min_m2"))
    actual, ok, shown = _area_verdict(f.floor_m2, need)
    verdict = "达到" if ok else "未达到"
    msg = f"四至范围内建筑面积合计{shown}平方米，{verdict}不少于{need:,.0f}平方米的要求"
    excluded = float(area_figure(f.floor_excluded_m2))
    if excluded > 0:
        msg += f"（位于四至范围外的{excluded:,.2f}平方米未计入）"
    return _result(rules, rid, required=need, actual=actual, passed=ok, message=msg,
                   evidence={"floor_excluded_m2": excluded})


def _core_area(rules: RuleSet, rid: str, f: Facts) -> RuleResult:
    need = float(rules.param(rid, "min_m2"))
    both = {"core_land_m2": float(area_figure(f.core_land_m2)), "core_floor_m2": float(area_figure(f.core_floor_m2))}
    if f.core_basis == "none":
        return _result(rules, rid, required=need, actual=0.0, passed=False,
                       message="未提供核心区范围", evidence={"core_basis": "none", **both})
    label = CORE_AREA_BASES[f.core_basis]
    actual, ok, shown = _area_verdict(f.core_area_m2, need)
    verdict = "达到" if ok else "未达到"
    other = "core_floor_m2" if f.core_basis == "land" else "core_land_m2"
    other_label = CORE_AREA_BASES["floor" if f.core_basis == "land" else "land"]
    msg = (f"按{label}计（四至范围内）{shown}平方米，{verdict}不少于{need:,.0f}平方米的要求；"
           f"另{other_label}为{both[other]:,.2f}平方米，仅供参考")
    return _result(rules, rid, required=need, actual=actual, passed=ok, message=msg,
                   evidence={"core_basis": f.core_basis, "reading": rules.rules[rid].get("reading", ""), **both})


def _institutions(rules: RuleSet, rid: str, f: Facts) -> RuleResult:
    need = int(rules.param(rid, "min_count"))
    ok = f.institutions_counted >= need
    excluded = {k: v for k, v in f.institutions_excluded.items() if v}
    why = "；".join(f"{reason}{len(names)}家" for reason, names in excluded.items())
    msg = f"四至范围内有效服务机构{f.institutions_counted}家，{'达到' if ok else '未达到'}不少于{need}家的要求"
    return _result(rules, rid, required=need, actual=f.institutions_counted, passed=ok,
                   message=msg + (f"（未计入：{why}）" if why else ""), evidence={"excluded": excluded})


def _chain_coverage(rules: RuleSet, rid: str, f: Facts) -> RuleResult:
    links = list(rules.param(rid, "links"))
    need = int(rules.param(rid, "min_per_link"))
    missing = [link for link in links if f.chain_counts.get(link, 0) < need]
    covered = [link for link in links if link not in missing]
    msg = ("覆盖" + "、".join(links) + "全链条") if not missing else ("缺少" + "、".join(missing) + "环节的服务机构")
    return _result(rules, rid, required=links, actual=covered, passed=not missing, message=msg,
                   evidence={"counts": {link: f.chain_counts.get(link, 0) for link in links}})


def _platforms(rules: RuleSet, rid: str, f: Facts) -> RuleResult:
    need = int(rules.param(rid, "min_count"))
    n = len(f.platforms_inside)
    ok = n >= need
    msg = f"四至范围内有公共服务平台{n}个" + ("" if ok else f"，少于要求的{need}个")
    if f.platforms_outside:
        msg += f"；位于四至范围外的平台未计入：{'、'.join(f.platforms_outside)}"
    return _result(rules, rid, required=need, actual=n, passed=ok, message=msg,
                   evidence={"platforms": f.platforms_inside, "outside": f.platforms_outside})


def _core_inside(rules: RuleSet, rid: str, f: Facts) -> RuleResult:
    tol = float(rules.param(rid, "tolerance_m2"))
    if f.core_outside_m2 is None:
        return _result(rules, rid, required=0.0, actual=None, passed=False, message="未提供核心区范围")
    ok = f.core_outside_m2 <= tol
    msg = "核心区全部位于四至范围内" if ok else f"核心区有{f.core_outside_m2:,.2f}平方米位于四至范围外"
    return _result(rules, rid, required=0.0, actual=round(f.core_outside_m2, 2), passed=ok, message=msg,
                   evidence={"tolerance_m2": tol})


def _buildings_inside(rules: RuleSet, rid: str, f: Facts) -> RuleResult:
    tol = float(rules.param(rid, "tolerance_m2"))
    bad = [b for b in f.buildings_outside if b["outside_m2"] > tol]
    ok = not bad
    msg = ("全部建筑位于四至范围内" if ok else
           "以下建筑超出四至范围：" + "、".join(f"{b['name']}（{b['outside_m2']:,.1f}平方米）" for b in bad))
    return _result(rules, rid, required=0, actual=len(bad), passed=ok, message=msg,
                   evidence={"outside": bad, "tolerance_m2": tol})


_EVALUATORS = {
    "floor_area": _floor_area,
    "core_area": _core_area,
    "institutions": _institutions,
    "chain_coverage": _chain_coverage,
    "platforms": _platforms,
    "core_inside_boundary": _core_inside,
    "buildings_inside_boundary": _buildings_inside,
}
