"""The expert's desk rules (issue 13): the parts of an opinion (现场答辩, 实地考察) and the findings of a site visit —
statuses, labels, bounds and the reading of a photo's EXIF values. Pure: no database, no HTTP, no files."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from zonegeo.domain.measure import CGCS2000_GEOD
from zonegeo.errors import InputError

# 第二章: “省知识产权局组织专家进行评审，必要时进行现场答辩和实地考察，形成专家评审意见。”
PARTS = {"hearing": "现场答辩", "inspection": "实地考察"}
MAX_OPINION_CHARS = 2000
MAX_NOTE_CHARS = 500
MAX_USE_CHARS = 200
MAX_PAST_DAYS = 366  # a part's date, a finding's time: within the last year, never in the future
MAX_SKEW = dt.timedelta(minutes=10)  # a phone's clock ahead of the server's

STATUSES = {"present": "在位", "absent": "不在位", "unverified": "未核实"}
STATUS_ALIASES = {**{k: k for k in STATUSES}, **{v: k for k, v in STATUSES.items()}}
TARGET_KINDS = {"institution": "服务机构或平台", "building": "建筑"}
CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{7,63}$")  # a UUID, or any 8–64 URL-safe characters
RECOMMEND = {"yes": True, "no": False, "推荐": True, "不推荐": False, "true": True, "false": False}


@dataclass(frozen=True)
class OpinionPart:
    """One part of an opinion that was held: its date, the expert's opinion and whether it recommends the zone."""

    kind: str  # hearing | inspection
    on: dt.date
    opinion: str
    recommend: bool

    def to_dict(self) -> dict[str, Any]:
        return {"on": self.on.isoformat(), "opinion": self.opinion, "recommend": self.recommend,
                "label": PARTS[self.kind]}


def _date(value: str, field: str, label: str, today: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InputError("bad_date", f"{label}的日期“{value}”不正确，应为YYYY-MM-DD", {"field": field, "value": value}) from None
    if day > today:
        raise InputError("date_in_future", f"{label}的日期{day}晚于今天（{today}）", {"field": field, "value": value})
    if (today - day).days > MAX_PAST_DAYS:
        raise InputError("date_too_old", f"{label}的日期{day}早于一年前，请核对", {"field": field, "value": value})
    return day


def check_text(value: str, *, field: str, label: str, limit: int, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InputError("missing_input", f"请填写{label}", {"field": field})
    if len(text) > limit:
        raise InputError("text_too_long", f"{label}不能超过{limit}个字（现为{len(text)}个字）",
                         {"field": field, "max": limit, "length": len(text)})
    return text


def check_recommend(value: str, *, field: str, label: str) -> bool:
    key = (value or "").strip().lower()
    if key not in RECOMMEND:
        raise InputError("missing_recommend", f"请选择{label}是否推荐（推荐或不推荐）",
                         {"field": field, "value": value, "allowed": ["yes", "no"]})
    return RECOMMEND[key]


def check_part(kind: str, *, on: str, opinion: str, recommend: str, today: dt.date) -> OpinionPart | None:
    """A part as the form gives it: all empty (not held), or date, opinion and recommendation together."""
    label = PARTS[kind]
    if not (on.strip() or opinion.strip() or recommend.strip()):
        return None
    missing = [name for name, value in (("日期", on), ("意见", opinion), ("是否推荐", recommend)) if not value.strip()]
    if missing:
        raise InputError("incomplete_part", f"{label}：请填写{'、'.join(missing)}（未进行{label}时三项都留空）",
                         {"part": kind, "missing": missing})
    return OpinionPart(kind, _date(on, f"{kind}_on", label, today),
                       check_text(opinion, field=f"{kind}_opinion", label=f"{label}意见", limit=MAX_OPINION_CHARS,
                                  required=True),
                       check_recommend(recommend, field=f"{kind}_recommend", label=label))


# ---- site-visit findings ----

@dataclass(frozen=True)
class Finding:
    """A finding as the phone sends it, checked: which target, what was seen, when (the phone's clock)."""

    client_id: str
    target_kind: str
    target_id: int
    status: str  # present | absent | unverified for institutions; '' for buildings
    observed_use: str
    note: str
    observed_at: dt.datetime


def check_finding(*, client_id: str, target_kind: str, target_id: Any, status: str, observed_use: str, note: str,
                  observed_at: str, now: dt.datetime) -> Finding:
    """Bounds and vocabulary of one finding; ``now`` is the server's time (aware)."""
    client_id = (client_id or "").strip()
    if not CLIENT_ID.match(client_id):
        raise InputError("bad_client_id", "记录编号（client_id）应为8–64个字母、数字、连字符或下划线（由页面生成）",
                         {"field": "client_id", "value": client_id[:80]})
    if target_kind not in TARGET_KINDS:
        raise InputError("bad_target_kind",
                         f"考察对象类型“{target_kind}”不正确，应为：institution（机构或平台）、building（建筑）",
                         {"field": "target_kind", "value": target_kind, "allowed": list(TARGET_KINDS)})
    try:
        target = int(str(target_id).strip())
    except ValueError:
        raise InputError("bad_target", f"考察对象编号“{target_id}”不是整数",
                         {"field": "target_id", "value": str(target_id)[:40]}) from None
    use = check_text(observed_use, field="observed_use", label="建筑实际用途", limit=MAX_USE_CHARS)
    text = check_text(note, field="note", label="说明", limit=MAX_NOTE_CHARS)
    if target_kind == "institution":
        key = STATUS_ALIASES.get((status or "").strip())
        if key is None:
            raise InputError("bad_status", f"核查结果“{status}”不正确，应为：在位、不在位、未核实",
                             {"field": "status", "value": status, "allowed": list(STATUSES)})
        if use:
            raise InputError("use_for_institution", "建筑实际用途只对建筑填写", {"field": "observed_use"})
    else:
        key = ""
        if not use:
            raise InputError("missing_use", "请填写建筑的实际用途（如：知识产权服务机构办公、商业、空置）",
                             {"field": "observed_use"})
    return Finding(client_id, target_kind, target, key, use, text, check_observed_at(observed_at, now))


def check_observed_at(value: str, now: dt.datetime) -> dt.datetime:
    """The phone's time of the finding (ISO 8601 with an offset); kept when sent later, never in the future."""
    try:
        at = dt.datetime.fromisoformat((value or "").strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError("bad_observed_at", f"记录时间“{value}”不正确，应为带时区的ISO 8601时间",
                         {"field": "observed_at", "value": str(value)[:40]}) from None
    if at.tzinfo is None:
        raise InputError("bad_observed_at", f"记录时间“{value}”缺少时区", {"field": "observed_at", "value": value})
    if at > now + MAX_SKEW:
        raise InputError("observed_in_future", f"记录时间{value}晚于服务器时间，请检查手机时钟",
                         {"field": "observed_at", "value": value})
    if (now - at).days > MAX_PAST_DAYS:
        raise InputError("observed_too_old", f"记录时间{value}早于一年前", {"field": "observed_at", "value": value})
    return at


# ---- a photo's EXIF values (decoded by the service; read here) ----

def _ratio(value: Any) -> float:
    """An EXIF rational: Pillow's IFDRational, a (numerator, denominator) pair or a number."""
    if isinstance(value, tuple) and len(value) == 2:
        num, den = value
        return float(num) / float(den) if den else float("nan")
    return float(value)


def gps_degrees(dms: Any, ref: str) -> float | None:
    """Degrees from EXIF's (degrees, minutes, seconds) and its N/S/E/W reference; None when unreadable."""
    try:
        d, m, s = (_ratio(v) for v in dms)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = d + m / 60 + s / 3600
    if value != value or not 0 <= value <= 180:  # NaN or out of range
        return None
    return -value if str(ref).strip().upper() in ("S", "W") else value


def exif_position(gps: dict[int, Any]) -> tuple[float, float] | None:
    """(lon, lat) from a GPS IFD (tags 1–4), or None when absent or out of range."""
    if not all(tag in gps for tag in (1, 2, 3, 4)):
        return None
    lat, lon = gps_degrees(gps[2], gps[1]), gps_degrees(gps[4], gps[3])
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    return lon, lat


def exif_time(value: Any) -> dt.datetime | None:
    """DateTimeOriginal (“2026:11:26 10:15:00”, the camera's local time) as a naive datetime, or None."""
    try:
        return dt.datetime.strptime(str(value).strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance on the CGCS2000 ellipsoid (GPS WGS84 positions taken as equal to it)."""
    return float(CGCS2000_GEOD.inv(lon1, lat1, lon2, lat2)[2])


def latest_by_target(findings: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    """The finding that counts for each target: the latest observed (ties: the later received)."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for f in sorted(findings, key=lambda f: (f["observed_at"], f["id"])):
        out[(f["target_kind"], f["target_id"])] = f
    return out
