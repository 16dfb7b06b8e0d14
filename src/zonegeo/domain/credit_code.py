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

_PREFIXES = frozenset(a + t for a, types in AUTHORITY_TYPES.items() for t in types)
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
    """Vectorised check-digit test for many codes; a False entry is explained by :func:`problem`."""
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=bool)
    ok_len = np.fromiter((len(c) == 18 for c in codes), dtype=bool, count=n)
    padded = "".join(c if len(c) == 18 else "!" * 18 for c in codes)
    raw = np.frombuffer(padded.encode("ascii", errors="replace"), dtype=np.uint8)
    if raw.size != 18 * n:  # non-ASCII content changed the length: take the slow, exact path
        return np.array([is_valid(c) for c in codes], dtype=bool)
    values = _VALUE[raw.reshape(n, 18)]
    ok = ok_len & (values >= 0).all(axis=1)
    expected = (31 - (values[:, :17] @ WEIGHTS) % 31) % 31
    ok &= expected == values[:, 17]
    ok &= (values[:, 2:8] < 10).all(axis=1)  # region code: six digits
    ok &= np.fromiter((c[:2] in _PREFIXES for c in codes), dtype=bool, count=n)
    return ok
