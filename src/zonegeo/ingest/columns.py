"""Accepted column names (Chinese or English, case-insensitive) and value vocabularies of input tables."""

from __future__ import annotations

import re
from collections.abc import Iterable

from zonegeo.domain.model import ChainLink, InstitutionKind

BUILDING_COLUMNS = {
    "name": ("名称", "name", "建筑名称", "楼栋"),
    "floors": ("层数", "floors"),
    # .dbf names are cut at 10 bytes: a UTF-8 使用层数 arrives as 使用层
    "floors_used": ("使用层数", "floors_use", "floors_used", "使用层"),
    "floor_area": ("建筑面积", "floor_area", "floor_area_m2", "floor_are", "建筑面"),
}
INSTITUTION_COLUMNS = {
    "name": ("名称", "name", "机构名称"),
    "credit_code": ("统一社会信用代码", "credit_code", "信用代码"),
    "lon": ("经度", "lon", "lng", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
    "services": ("服务类型", "services"),
    "chain": ("链条环节", "chain"),
    "kind": ("类型", "kind"),
    "address": ("地址", "address"),
    "building": ("楼栋", "building", "所在楼栋", "楼宇", "楼号", "栋号"),
    "floor": ("楼层", "floor", "所在楼层"),
    "room": ("房间", "房间号", "房号", "room"),
}

# Surveyors' 界址点成果表 write X坐标(m), X(m), 纵坐标X, 北坐标X …: units in brackets are dropped before matching
# (see ``header_key``); 序号 and 边长 columns are not read (序号 counts rows, it is not the point's name).
BOUNDARY_POINT_COLUMNS = {
    "point": ("点号", "point", "界址点号", "界址点", "点名"),
    "x": ("x", "x坐标", "北坐标", "纵坐标", "纵坐标x", "北坐标x", "x坐标(北)", "x(北)", "x（北）"),
    "y": ("y", "y坐标", "东坐标", "横坐标", "横坐标y", "东坐标y", "y坐标(东)", "y(东)", "y（东）"),
    "lon": ("经度", "lon", "lng", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
    "ring": ("圈号", "ring", "环号"),
    "part": ("地块", "part", "地块编号", "地块号", "宗地号", "parcel"),
}

KIND_ALIASES = {
    "": InstitutionKind.INSTITUTION,
    "服务机构": InstitutionKind.INSTITUTION,
    "知识产权服务机构": InstitutionKind.INSTITUTION,
    "institution": InstitutionKind.INSTITUTION,
    "知识产权保护中心": InstitutionKind.PROTECTION_CENTER,
    "保护中心": InstitutionKind.PROTECTION_CENTER,
    "protection_center": InstitutionKind.PROTECTION_CENTER,
    "快速维权中心": InstitutionKind.RAPID_RIGHTS_CENTER,
    "知识产权快速维权中心": InstitutionKind.RAPID_RIGHTS_CENTER,
    "rapid_rights_center": InstitutionKind.RAPID_RIGHTS_CENTER,
    "知识产权业务窗口": InstitutionKind.SERVICE_WINDOW,
    "业务窗口": InstitutionKind.SERVICE_WINDOW,
    "service_window": InstitutionKind.SERVICE_WINDOW,
    "other_platform": InstitutionKind.OTHER_PLATFORM,
    "其他公共服务平台": InstitutionKind.OTHER_PLATFORM,
}
CHAIN_ALIASES = {
    "创造": ChainLink.CREATION, "creation": ChainLink.CREATION,
    "运用": ChainLink.UTILIZATION, "utilization": ChainLink.UTILIZATION, "utilisation": ChainLink.UTILIZATION,
    "保护": ChainLink.PROTECTION, "protection": ChainLink.PROTECTION,
    "人才": ChainLink.TALENT, "talent": ChainLink.TALENT,
}

_SPLIT = re.compile(r"[、，,;；/\s]+")
# A kind the vocabulary does not know is a platform when its words say so (…中心, …网点, …窗口, …平台, …工作站),
# else an institution: the regulation's platform list ends with “等” (知识产权信息公共服务网点 is one more).
PLATFORM_WORDS = ("中心", "网点", "窗口", "平台", "工作站")


def read_kind(cell: object) -> tuple[InstitutionKind, str]:
    """(kind, the cell's text when the vocabulary does not know it, else "")."""
    text = "" if cell is None else str(cell).strip()
    known = KIND_ALIASES.get(text.lower())
    if known is not None:
        return known, ""
    if any(word in text for word in PLATFORM_WORDS):
        return InstitutionKind.OTHER_PLATFORM, text
    return InstitutionKind.INSTITUTION, text


def read_chain(cell: object) -> tuple[tuple[ChainLink, ...], tuple[str, ...]]:
    """(the named links, the other links as written), each once, in the cell's order."""
    values = split_values(cell)
    known = tuple(dict.fromkeys(CHAIN_ALIASES[v.lower()] for v in values if v.lower() in CHAIN_ALIASES))
    other = tuple(dict.fromkeys(v for v in values if v.lower() not in CHAIN_ALIASES))
    return known, other


def split_values(cell: object) -> list[str]:
    """Split a multi-valued cell on 、，,;；/ and spaces."""
    if cell is None:
        return []
    return [v for v in _SPLIT.split(str(cell).strip()) if v]


_UNIT = re.compile(r"[(（](?:m|米|公尺|㎡|m2|m²|平方米|层|个|度|°)[)）]$")
_BLANKS = re.compile(r"[\s\u3000]+")


def header_key(text: object) -> str:
    """A header cell as matched: case and blanks ignored, a trailing unit in brackets (“(m)”, “（米）”) dropped."""
    key = _BLANKS.sub("", str(text)).lower()
    return _UNIT.sub("", key) or key


def match_columns(header: Iterable[str], spec: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Map each canonical field to the header column naming it (first alias that matches)."""
    by_key: dict[str, str] = {}
    for h in header:
        by_key.setdefault(str(h).strip().lower(), h)
        by_key.setdefault(header_key(h), h)
    found: dict[str, str] = {}
    for field_name, aliases in spec.items():
        for alias in aliases:
            if alias.lower() in by_key:
                found[field_name] = by_key[alias.lower()]
                break
    return found


# 层数 as people write them: 18, 18层, 5F, 十二层, 地上12层，地下2层, 地上12/地下2. Basements are not counted
# (see data/rules/jiangsu-2024.toml, [rules.floor_area] basements): 层数 and 使用层数 are above-ground floors.
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = r"[零〇一二两三四五六七八九十百]+"
_FLOOR_NUMBER = rf"(\d+(?:\.0+)?|{_CN_NUMBER})"
_BELOW = re.compile(rf"(?:地下|负)\s*(?:室\s*)?{_FLOOR_NUMBER}\s*(?:层|f|F)?|[bB]\s*(\d+)")
_ABOVE = re.compile(rf"地上\s*{_FLOOR_NUMBER}\s*(?:层|f|F)?")
_PLAIN = re.compile(rf"^\s*(?:[fF]\s*)?{_FLOOR_NUMBER}\s*(?:层|楼|f|F|fl)?\s*$")


def chinese_number(text: str) -> int | None:
    """十二 → 12, 二十三 → 23, 一百零五 → 105, 两 → 2; None when ``text`` is not a Chinese numeral."""
    if not text or any(c not in _CN_DIGITS and c not in "十百" for c in text):
        return None
    total, digit = 0, 0
    for c in text:
        if c == "百":
            total += (digit or 1) * 100
            digit = 0
        elif c == "十":
            total += (digit or 1) * 10
            digit = 0
        else:
            digit = _CN_DIGITS[c]
    return total + digit


def _floor_number(text: str) -> float | None:
    if text[0].isdigit():
        return float(text)
    value = chinese_number(text)
    return None if value is None else float(value)


def parse_floors(cell: object) -> tuple[float | None, float]:
    """(above-ground floors, basement floors) of a 层数 cell; (None, 0) when it cannot be read or is empty."""
    if cell is None:
        return None, 0.0
    if isinstance(cell, (int, float)):
        return (None, 0.0) if cell != cell else (float(cell), 0.0)
    text = str(cell).strip().replace(",", "")
    if not text or text.lower() in ("nan", "none", "null"):
        return None, 0.0
    try:
        return float(text), 0.0
    except ValueError:
        pass
    below = sum((_floor_number(m.group(1) or m.group(2)) or 0.0) for m in _BELOW.finditer(text))
    above = _ABOVE.search(text)
    if above:
        return _floor_number(above.group(1)), below
    rest = re.sub(r"[(（]\s*[)）]", "", _BELOW.sub("", text)).strip(" ，,、；;/+")
    plain = _PLAIN.match(rest) if rest else None
    if plain:
        return _floor_number(plain.group(1)), below
    return None, below
