"""Working-day deadlines against the reference cases (chinesecalendar checked against the State Council)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import reference
from zonegeo.domain.workdays import WorkCalendar, statutory_holidays
from zonegeo.errors import ConfigError, InputError
from zonegeo.ingest.holidays import load_arrangements, load_calendar

REF = json.loads(reference("workdays.json").read_text(encoding="utf-8"))
CAL = WorkCalendar()


@pytest.mark.parametrize("case", REF["cases"], ids=lambda c: f"{c['start']}+{c['n_working_days']}")
def test_reference_due_dates(case):
    due = CAL.add_working_days(dt.date.fromisoformat(case["start"]), case["n_working_days"])
    assert due.due.isoformat() == case["due"]
    assert not due.provisional


@pytest.mark.parametrize("year", ["2024", "2025", "2026"])
def test_every_day_of_the_reference_years(year):
    ref = REF["years"][year]
    holidays = {h["date"] for h in ref["holidays"]}
    makeup = {m["date"] for m in ref["makeup_workdays"]}
    day = dt.date(int(year), 1, 1)
    working = 0
    while day.year == int(year):
        expected = day.isoformat() in makeup or (day.weekday() < 5 and day.isoformat() not in holidays)
        assert CAL.is_workday(day) is expected, day
        working += expected
        day += dt.timedelta(days=1)
    assert working == ref["n_working_days"]


def test_a_count_into_a_year_without_data_is_provisional_not_an_error():
    due = CAL.add_working_days(dt.date(2026, 12, 28), 5)
    # 12-29, 12-30, 12-31 count; 2027-01-01 is New Year's Day (statutory); 01-02/03 weekend; 01-04, 01-05.
    assert due.due == dt.date(2027, 1, 5)
    assert due.provisional and due.provisional_years == (2027,)


def test_statutory_holidays_of_2027_match_the_published_estimates():
    estimates = {d for d, name in REF["pyholidays_2027_estimates"] if "observed" not in name}
    assert {d.isoformat() for d in statutory_holidays(2027)} == estimates


def test_a_holiday_file_makes_a_year_official(tmp_path):
    (tmp_path / "2027.toml").write_text(
        'year = 2027\nsource = "测试"\nholidays = ["2027-01-01", "2027-01-04"]\nworkdays = ["2027-01-09"]\n',
        encoding="utf-8")
    cal = load_calendar(tmp_path)
    assert not cal.is_workday(dt.date(2027, 1, 4)) and cal.is_workday(dt.date(2027, 1, 9))
    due = cal.add_working_days(dt.date(2026, 12, 31), 3)
    assert (due.due, due.provisional) == (dt.date(2027, 1, 7), False)


def test_a_broken_holiday_file_is_a_config_error(tmp_path):
    (tmp_path / "2027.toml").write_text('year = 2027\nholidays = ["2028-01-01"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_arrangements(tmp_path)
    assert e.value.code == "holiday_file_invalid"


def test_chinesecalendar_find_workday_counts_differently_on_holidays():
    """Why we count ourselves: find_workday starts from the next working day when the event is a holiday."""
    import chinese_calendar

    start = dt.date(2025, 1, 25)  # a Saturday
    assert chinese_calendar.find_workday(5, start) != CAL.add_working_days(start, 5).due


def test_a_negative_count_is_an_input_error_not_a_crash():
    with pytest.raises(InputError) as e:
        CAL.add_working_days(dt.date(2025, 3, 3), -1)
    assert e.value.code == "negative_working_days" and e.value.detail == {"working_days": -1}
