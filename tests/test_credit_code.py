"""统一社会信用代码 validation (GB 32100-2015), checked against published codes and python-stdnum."""

from __future__ import annotations

import random

import pytest
from stdnum.cn import uscc

from zonegeo.domain import credit_code

# Codes published in python-stdnum's documentation and GB 32100-2015 era examples.
KNOWN_VALID = ["91110000600037341L", "91350100M000100Y43"]


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_published_codes_are_valid(code):
    assert credit_code.problem(code) is None
    assert credit_code.valid_mask([code]).tolist() == [True]


@pytest.mark.parametrize(("code", "fragment"), [
    ("91110000600037341M", "校验码错误"),
    ("9111000060003734", "长度应为18位"),
    ("91110000600O37341L", "不允许的字符"),
    ("Z1110000600037341L", "不允许的字符"),
    ("B1110000600037341L", "登记管理部门码"),
    ("97110000600037341L", "机构类别码"),
    ("9111A000600037341L", "行政区划码"),
    ("", "未填写"),
])
def test_invalid_codes_say_why(code, fragment):
    assert fragment in credit_code.problem(code)
    assert credit_code.valid_mask([code]).tolist() == [False]


def test_lowercase_and_spaces_are_normalised():
    assert credit_code.is_valid(" 91110000600037341l ")


def test_check_digit_agrees_with_python_stdnum_on_random_codes():
    rng = random.Random(7)
    codes = []
    for _ in range(3000):
        body = "91" + "".join(rng.choice("0123456789") for _ in range(6)) + "".join(
            rng.choice(credit_code.ALPHABET) for _ in range(10))
        codes.append(body)
    mask = credit_code.valid_mask(codes)
    assert mask.sum() > 50  # about one in 31 random codes has the right check character
    for code, ok in zip(codes, mask, strict=True):
        assert bool(ok) == uscc.is_valid(code), code
        assert (credit_code.problem(code) is None) == bool(ok)


def test_vectorised_mask_handles_non_ascii_and_short_codes():
    codes = ["91110000600037341L", "九一", "123", "91110000600037341M"]
    assert credit_code.valid_mask(codes).tolist() == [True, False, False, False]
