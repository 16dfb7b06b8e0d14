"""China's working-day calendar (工作日) and deadlines counted in working days.

Sources, in order: the State Council's arrangement for the year (data/holidays/YYYY.toml, read by
:mod:`zonegeo.ingest.holidays` and given to :class:`WorkCalendar` as :class:`YearArrangement` objects), then
``chinesecalendar`` for the years it knows; beyond both, weekends plus the statutory holidays of
《全国年节及纪念日放假办法》 (as amended in 2024) with lunar dates computed, and the result marked provisional.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import chinese_calendar
from lunardate import LunarDate

from zonegeo.errors import ConfigError, InputError


@dataclass(frozen=True)
class YearArrangement:
    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]  # weekend days that are worked (调休)
    source: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str = "") -> YearArrangement:
        """The arrangement of a parsed holiday file (``year``, ``holidays``, ``workdays``, ``source``); a missing
        year, a malformed date or a date of another year is a configuration error naming ``file``."""
        try:
            year = int(data["year"])
            holidays = frozenset(dt.date.fromisoformat(d) for d in data.get("holidays", []))
            workdays = frozenset(dt.date.fromisoformat(d) for d in data.get("workdays", []))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError("holiday_file_invalid", f"节假日文件格式错误：{file}（{exc}）", {"file": file}) from exc
        if any(d.year != year for d in holidays | workdays):
            raise ConfigError("holiday_file_invalid", f"节假日文件{file}中有不属于{year}年的日期", {"file": file})
        return cls(year, holidays, workdays, str(data.get("source", "")))


@dataclass(frozen=True)
class Due:
    """A deadline: the N-th working day after the event (the event's own day is not counted)."""

    start: dt.date
    working_days: int
    due: dt.date
    provisional: bool  # some day of the count lies in a year with no published arrangement
    provisional_years: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "working_days": self.working_days, "due": self.due.isoformat(),
                "provisional": self.provisional, "provisional_years": list(self.provisional_years)}


@dataclass(frozen=True)
class Deadline:
    """The end of a period counted in calendar days, months or years: ``nominal`` by the count, ``due`` after
    moving off rest days; provisional while the year of the nominal day has no published arrangement."""

    nominal: dt.date
    due: dt.date
    provisional: bool

    def to_dict(self) -> dict[str, Any]:
        return {"nominal": self.nominal.isoformat(), "due": self.due.isoformat(), "provisional": self.provisional}


@functools.cache
def statutory_holidays(year: int) -> frozenset[dt.date]:
    """The days off fixed by 《全国年节及纪念日放假办法》 (2024 amendment) for ``year``, without the State
    Council's bridging and make-up days: 元旦 1, 春节 除夕–初三, 清明 1, 劳动节 5.1–5.2, 端午 1, 中秋 1, 国庆 10.1–10.3."""
    new_year_lunar = LunarDate(year, 1, 1).to_solar_date()
    spring = [new_year_lunar + dt.timedelta(days=k) for k in range(-1, 3)]  # eve (last day of month 12) to day 3
    qingming = next(d for d, name in chinese_calendar.get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 10))
                    if name == "清明")
    return frozenset([
        dt.date(year, 1, 1), *spring, qingming, dt.date(year, 5, 1), dt.date(year, 5, 2),
        LunarDate(year, 5, 5).to_solar_date(), LunarDate(year, 8, 15).to_solar_date(),
        dt.date(year, 10, 1), dt.date(year, 10, 2), dt.date(year, 10, 3),
    ])


def _chinesecalendar_years() -> range:
    return range(min(chinese_calendar.constants.holidays).year, max(chinese_calendar.constants.holidays).year + 1)


@dataclass
class WorkCalendar:
    """Answers 'is this a working day?' and whether the answer is official or provisional."""

    arrangements: dict[int, YearArrangement] = field(default_factory=dict)

    def is_official(self, year: int) -> bool:
        return year in self.arrangements or year in _chinesecalendar_years()

    def is_workday(self, day: dt.date) -> bool:
        arrangement = self.arrangements.get(day.year)
        if arrangement is not None:
            if day in arrangement.holidays:
                return False
            return day in arrangement.workdays or day.weekday() < 5
        if day.year in _chinesecalendar_years():
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5 and day not in statutory_holidays(day.year)

    def add_working_days(self, start: dt.date, n: int) -> Due:
        """The ``n``-th working day strictly after ``start`` (the event day is never counted)."""
        if n < 0:
            raise InputError("negative_working_days", f"工作日数（{n}）不能为负数", {"working_days": n})
        day, counted = start, 0
        provisional: set[int] = set()
        while counted < n:
            day += dt.timedelta(days=1)
            if not self.is_official(day.year):
                provisional.add(day.year)
            if self.is_workday(day):
                counted += 1
        return Due(start, n, day, bool(provisional), tuple(sorted(provisional)))

    def roll_forward(self, day: dt.date) -> Deadline:
        """The last day of a period counted in days, months or years: moved to the next working day when it
        falls on a rest day or a holiday (民法典 第二百零三条：期间的最后一日是法定休假日的，
        以法定休假日结束的次日为期间的最后一日)."""
        due, provisional = day, not self.is_official(day.year)
        while not self.is_workday(due):
            due += dt.timedelta(days=1)
            provisional = provisional or not self.is_official(due.year)
        return Deadline(day, due, provisional)
