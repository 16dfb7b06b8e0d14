"""统一社会信用代码 (unified social credit code) validation after GB 32100-2015."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
# 登记管理部门码 → allowed 机构类别码 (GB 32100-2015 table 1, with the codes added since).
AUTHORITY_TYPES = {
    "1": "1239", "2": "19", "3": "1234589", "4": "19", "5": "12349", "6": "129",
    "7": "1239", "8": "19", "9": "123", "A": "19", "G": "12", "J": "129", "N": "12349", "Y": "1",
}

_PREFIX_OK = np.zeros((256, 256), dtype=bool)
for _a, _types in AUTHORITY_TYPES.items():
    for _t in _types:
        _PREFIX_OK[ord(_a), ord(_t)] = True
_VALUE = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate(ALPHABET):
    _VALUE[ord(_c)] = _i


def normalize(code: str) -> str:
    return "".join(str(code).split()).upper()


def check_char(first17: str) -> str:
    """The 18th character for the first 17 (校验码)."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS.tolist(), strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why ``code`` is not a valid 统一社会信用代码 (Chinese), or None if it is valid."""
    code = normalize(code)
    if not code:
        return "未填写统一社会信用代码"
    if len(code) != 18:
        return f"长度应为18位，实际为{len(code)}位"
    bad = [c for c in code if c not in ALPHABET]
    if bad:
        return f"含有不允许的字符“{''.join(dict.fromkeys(bad))}”（不使用I、O、S、V、Z）"
    types = AUTHORITY_TYPES.get(code[0])
    if types is None:
        return f"第1位登记管理部门码“{code[0]}”不存在"
    if code[1] not in types:
        return f"第2位机构类别码“{code[1]}”与登记管理部门码“{code[0]}”不匹配"
    if not code[2:8].isdigit():
        return f"第3–8位登记管理机关行政区划码“{code[2:8]}”应为6位数字"
    expected = check_char(code[:17])
    if code[17] != expected:
        return f"校验码错误：第18位应为“{expected}”，实际为“{code[17]}”"
    return None


def is_valid(code: str) -> bool:
    return problem(code) is None


def valid_mask(codes: Sequence[str]) -> np.ndarray:
    """Vectorised validity test for many codes (same verdict as :func:`problem`, without the reason)."""
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=bool)
    joined = "".join(codes)
    if len(joined) != 18 * n or not joined.isascii():  # some codes are not 18 ASCII characters
        return np.array([problem(c) is None for c in codes], dtype=bool)
    raw = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(n, 18)
    values = _VALUE[raw]
    ok = (values >= 0).all(axis=1)
    ok &= (31 - (values[:, :17] @ WEIGHTS) % 31) % 31 == values[:, 17]
    ok &= (values[:, 2:8] < 10).all(axis=1)  # region code: six digits
    ok &= _PREFIX_OK[raw[:, 0], raw[:, 1]]  # authority and type codes
    return np.asarray(ok, dtype=bool)


def is_natural_person_code(code: str) -> bool:
    """个体工商户 (registration authority 9, type 2: 92…) codes identify a natural person."""
    return normalize(code).startswith("92")


def is_public_institution_code(code: str) -> bool:
    """机构编制部门 (1) + 事业单位 (2): a 12… code belongs to a public institution, not a service firm."""
    return normalize(code).startswith("12")
