"""Bounds of request parameters, checked before anything else runs, each with a Chinese message."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from zonegeo.domain.model import ZONE_CODE

# Deadlines add up to a few years of working days, and the holiday tables cover 1900–2099: dates outside
# these bounds are typing errors, and at 9999-12-31 adding a day overflowed (a 500).
EARLIEST = dt.date(1990, 1, 1)
LATEST = dt.date(2090, 12, 31)


def _registry_date(value: dt.date) -> dt.date:
    if not EARLIEST <= value <= LATEST:
        raise PydanticCustomError("date_out_of_range", "日期{value}超出范围，应在{earliest}至{latest}之间",
                                  {"value": value.isoformat(), "earliest": EARLIEST.isoformat(),
                                   "latest": LATEST.isoformat()})
    return value


RegistryDate = Annotated[dt.date, AfterValidator(_registry_date)]


def _zone_code(value: str) -> str:
    if not ZONE_CODE.match(value):
        raise PydanticCustomError("bad_zone_code", "集聚区编号只能由字母、数字、连字符和下划线组成，以字母或数字开头，"
                                  "最长64个字符", {})
    return value


ZoneCode = Annotated[str, AfterValidator(_zone_code)]
