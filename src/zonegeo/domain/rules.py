"""The eligibility rules of 第二章 (申报条件), loaded from a TOML data file and evaluated on measured facts."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zonegeo.errors import ConfigError

REQUIRED_RULES = (
    "floor_area", "core_area", "institutions", "chain_coverage",
    "platforms", "core_inside_boundary", "buildings_inside_boundary",
)


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


def load_rules(path: Path) -> RuleSet:
    """Read a rules file; a missing or malformed file is a configuration error naming the problem."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError("rules_file_missing", "找不到规则文件", {"file": str(path)}) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("rules_file_invalid", f"规则文件格式错误：{exc}", {"file": str(path)}) from exc
    rules = data.get("rules", {})
    missing = [r for r in REQUIRED_RULES if r not in rules]
    if missing:
        raise ConfigError("rules_file_incomplete", "规则文件缺少规则", {"file": str(path), "missing": missing})
    for rule_id, rule in rules.items():
        if not rule.get("basis"):
            raise ConfigError("rules_file_incomplete", "规则缺少条款依据（basis）",
                              {"file": str(path), "rule": rule_id})
    review = []
    for k, item in enumerate(data.get("manual_review", [])):
        if not all(item.get(key) for key in ("id", "title", "basis")):
            raise ConfigError("rules_file_incomplete", "人工审核事项缺少 id、title 或 basis",
                              {"file": str(path), "manual_review": k + 1})
        review.append(ReviewItem(item["id"], item["title"], item["basis"]))
    return RuleSet(
        id=data.get("id", Path(path).stem),
        title=data.get("title", ""),
        rules=rules,
        declared_floor_area_rel=float(data.get("warnings", {}).get("declared_floor_area_rel", 0.10)),
        change={"basis": "", "report_within_working_days": 15, "hausdorff_m": 1.0, "area_change_pct": 0.5,
                "building_match_iou": 0.5} | data.get("change", {}),
        manual_review=tuple(review),
    )


@dataclass(frozen=True)
class Facts:
    """What the rules need to know, as measured by :mod:`zonegeo.domain.check`."""

    floor_m2: float
    core_area_m2: float
    core_basis: str  # "floor" (floor area inside the core) or "land" (the core's land area)
    institutions_counted: int
    institutions_excluded: dict[str, list[str]]  # reason -> names
    chain_counts: dict[str, int]
    platforms_inside: list[dict[str, str]]
    platforms_outside: list[str]
    core_outside_m2: float | None  # None when there is no core polygon
    buildings_outside: list[dict[str, Any]]  # name, outside_m2


def _at_least(actual: float, minimum: float) -> bool:
    return actual >= minimum


def evaluate(rules: RuleSet, facts: Facts) -> list[RuleResult]:
    return [fn(rules, rid, facts) for rid, fn in _EVALUATORS.items()]


def _result(rules: RuleSet, rid: str, **kw: Any) -> RuleResult:
    r = rules.rules[rid]
    return RuleResult(id=rid, title=r.get("title", rid), basis=r["basis"], **kw)


def _floor_area(rules: RuleSet, rid: str, f: Facts) -> RuleResult:
    need = float(rules.param(rid, "min_m2"))
    ok = _at_least(f.floor_m2, need)
    verdict = "达到" if ok else "未达到"
    return _result(rules, rid, required=need, actual=round(f.floor_m2, 2), passed=ok,
                   message=f"建筑面积合计{f.floor_m2:,.2f}平方米，{verdict}不少于{need:,.0f}平方米的要求")


def _core_area(rules: RuleSet, rid: str, f: Facts) -> RuleResult:
    need = float(rules.param(rid, "min_m2"))
    basis = "核心区内建筑面积" if f.core_basis == "floor" else "核心区用地面积"
    if f.core_basis == "none":
        return _result(rules, rid, required=need, actual=0.0, passed=False,
                       message="未提供核心区范围", evidence={"core_basis": "none"})
    ok = _at_least(f.core_area_m2, need)
    verdict = "达到" if ok else "未达到"
    return _result(rules, rid, required=need, actual=round(f.core_area_m2, 2), passed=ok,
                   message=f"按{basis}计{f.core_area_m2:,.2f}平方米，{verdict}不少于{need:,.0f}平方米的要求",
                   evidence={"core_basis": f.core_basis})


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
