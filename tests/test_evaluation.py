"""综合评价 as pure functions: the rules file's weights and grade lines (checked, located errors), scores in bounds,
the sheet worked out from experts' and the city's scores, and the grade exactly at each threshold."""

from __future__ import annotations

import tomllib
from decimal import Decimal

import pytest

from tests.conftest import RULES_FILE
from zonegeo.domain import evaluation as ev
from zonegeo.domain.rules import RuleSet
from zonegeo.errors import ConfigError, InputError

D = Decimal
SECTION = {"excellent_min": 90, "pass_min": 60, "city_share_pct": 20,
           "weights": {"institutions": 20, "functions": 20, "management": 20, "policy": 20, "industry": 20}}


def scheme(**changes) -> ev.Scheme:
    return ev.scheme_from_dict(SECTION | changes, source="test.toml")


def test_the_shipped_rules_file_holds_the_documented_default():
    data = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    rules = RuleSet.from_dict(data, source=str(RULES_FILE))
    assert rules.evaluation is not None
    assert rules.evaluation.weights == {d: D(20) for d in ev.DIMENSIONS}
    assert (rules.evaluation.excellent_min, rules.evaluation.pass_min, rules.evaluation.city_share_pct) == (90, 60, 20)
    assert "默认假设" in rules.evaluation.reading and "第三章" in rules.evaluation.basis
    assert rules.evaluation == ev.DEFAULT_SCHEME.__class__(**{**ev.DEFAULT_SCHEME.__dict__,
                                                               "basis": rules.evaluation.basis,
                                                               "reading": rules.evaluation.reading})


def test_a_rules_file_without_the_section_has_no_scheme():
    data = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    data.pop("evaluation")
    assert RuleSet.from_dict(data).evaluation is None


@pytest.mark.parametrize("total,grade", [
    ("100", "excellent"), ("90", "excellent"), ("90.00", "excellent"), ("89.99", "pass"), ("89.995", "excellent"),
    ("60", "pass"), ("60.00", "pass"), ("59.99", "fail"), ("59.994", "fail"), ("59.995", "pass"), ("0", "fail"),
])
def test_grade_exactly_at_each_threshold(total, grade):
    assert ev.grade_for(D(total), scheme()) == grade


def test_grade_lines_come_from_the_scheme():
    strict = scheme(excellent_min=95, pass_min=70)
    assert [ev.grade_for(D(t), strict) for t in ("95", "94.99", "70", "69.99")] == ["excellent", "pass", "pass", "fail"]


def test_weighted_total_uses_the_weights_and_rounds_half_up():
    weights = scheme(weights={"institutions": 30, "functions": 25, "management": 15, "policy": 15, "industry": 15})
    scores = {"institutions": D("90"), "functions": D("80"), "management": D("70"), "policy": D("60"),
              "industry": D("50")}
    # 27 + 20 + 10.5 + 9 + 7.5
    assert ev.weighted_total(scores, weights) == D("74.00")
    thirds = {d: D("89.99") for d in ev.DIMENSIONS} | {"industry": D("90.03")}
    assert ev.weighted_total(thirds, scheme()) == D("90.00")  # 89.998 → 90.00: the printed figure is judged
    assert ev.grade_for(ev.weighted_total(thirds, scheme()), scheme()) == "excellent"


@pytest.mark.parametrize("change,key,words", [
    ({"weights": {"institutions": 20, "functions": 20, "management": 20, "policy": 20, "industry": 19}},
     "evaluation.weights", "合计为99%"),
    ({"weights": {"institutions": 20.5, "functions": 20, "management": 20, "policy": 20, "industry": 20}},
     "evaluation.weights", "合计为100.5%"),
    ({"weights": {"institutions": 25, "functions": 25, "management": 25, "policy": 25}}, "evaluation.weights",
     "产业支撑成效"),
    ({"weights": {"institutions": 20, "functions": 20, "management": 20, "policy": 20, "industry": 10, "x": 10}},
     "evaluation.weights", "未知的评价维度x"),
    ({"weights": {"institutions": 0, "functions": 25, "management": 25, "policy": 25, "industry": 25}},
     "evaluation.weights.institutions", "大于0"),
    ({"weights": {"institutions": "二十", "functions": 20, "management": 20, "policy": 20, "industry": 20}},
     "evaluation.weights.institutions", "机构集聚效果"),
    ({"excellent_min": 60, "pass_min": 60}, "evaluation.pass_min", "合格线"),
    ({"excellent_min": 50, "pass_min": 60}, "evaluation.pass_min", "优秀线"),
    ({"excellent_min": 101}, "evaluation.pass_min", "≤ 100"),
    ({"pass_min": 0}, "evaluation.pass_min", "0 <"),
    ({"city_share_pct": 100}, "evaluation.city_share_pct", "0–99"),
    ({"city_share_pct": -1}, "evaluation.city_share_pct", "0–99"),
])
def test_a_bad_section_is_a_located_chinese_error(change, key, words):
    with pytest.raises(ConfigError) as caught:
        scheme(**change)
    assert caught.value.detail["key"] == key and caught.value.detail["file"] == "test.toml"
    assert words in caught.value.message and "test.toml" in caught.value.message


def test_weights_that_sum_to_100_with_decimals_are_accepted():
    s = scheme(weights={"institutions": 22.5, "functions": 17.5, "management": 20, "policy": 20, "industry": 20})
    assert sum(s.weights.values()) == 100


def test_a_missing_weights_table_or_line_is_named():
    with pytest.raises(ConfigError, match="权重表"):
        ev.scheme_from_dict({"excellent_min": 90, "pass_min": 60}, source="x.toml")
    with pytest.raises(ConfigError, match="excellent_min"):
        ev.scheme_from_dict({k: v for k, v in SECTION.items() if k != "excellent_min"}, source="x.toml")


@pytest.mark.parametrize("text,value", [("0", D(0)), ("100", D(100)), ("89.99", D("89.99")), (" 60 ", D(60)),
                                        ("75.5", D("75.5"))])
def test_scores_in_bounds(text, value):
    assert ev.parse_score(text, "机构集聚效果") == value


@pytest.mark.parametrize("text,code", [("", "missing_score"), ("100.01", "score_out_of_range"),
                                       ("-0.01", "score_out_of_range"), ("1e3", "score_out_of_range"),
                                       ("abc", "bad_score"), ("NaN", "bad_score"), ("Infinity", "bad_score"),
                                       ("89.999", "score_precision"), ("9" * 40, "bad_score")])
def test_scores_out_of_bounds_are_refused_by_name(text, code):
    with pytest.raises(InputError) as caught:
        ev.parse_score(text, "功能配套能力")
    assert caught.value.code == code and "功能配套能力" in caught.value.message


def full(value: str) -> dict[str, Decimal]:
    return {d: D(value) for d in ev.DIMENSIONS}


def test_the_sheet_combines_the_experts_mean_with_the_city_share():
    result = ev.work_out(scheme(), ["a", "b"], {"a": full("80"), "b": full("90")}, full("100"))
    assert result.experts_mean == full("85.00")
    assert result.dimensions == full("88.00")  # 0.8 × 85 + 0.2 × 100
    assert (result.total, result.grade, result.missing) == (D("88.00"), "pass", [])


def test_with_no_city_share_the_city_score_is_shown_and_not_counted():
    s = scheme(city_share_pct=0)
    result = ev.work_out(s, ["a"], {"a": full("90")}, {})
    assert (result.total, result.grade) == (D("90.00"), "excellent")
    shown = ev.work_out(s, ["a"], {"a": full("90")}, full("10"))
    assert (shown.total, shown.city["policy"]) == (D("90.00"), D("10"))


def test_an_incomplete_sheet_has_no_grade_and_names_who_is_missing():
    result = ev.work_out(scheme(), ["a", "b"], {"a": full("80"), "b": {"policy": D(70)}}, {"policy": D(90)})
    assert result.grade is None and result.total is None and not result.complete
    by = {m["scorer"]: m["dimensions"] for m in result.missing}
    assert by["b"] == ["institutions", "functions", "management", "industry"]
    assert by["city"] == ["institutions", "functions", "management", "industry"]
    assert result.dimensions["policy"] == D("78.00")  # (80 + 70) / 2 × 0.8 + 90 × 0.2


def test_no_experts_means_no_grade():
    result = ev.work_out(scheme(), [], {}, full("100"))
    assert result.grade is None and result.missing[0]["role"] == "expert"


def test_scores_of_experts_not_assigned_are_ignored():
    result = ev.work_out(scheme(), ["a"], {"a": full("60"), "gone": full("0")}, full("60"))
    assert (result.total, result.grade) == (D("60.00"), "pass")
