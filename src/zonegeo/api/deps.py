"""Dependencies as types: what a route needs is visible in its signature."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from zonegeo.config import Settings
from zonegeo.db.session import transaction
from zonegeo.domain.rules import RuleSet
from zonegeo.domain.workdays import WorkCalendar


def get_session(request: Request) -> Iterator[Session]:
    with transaction(request.app.state.sessions) as session:
        yield session


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_rules(request: Request) -> RuleSet:
    return request.app.state.rules


def get_calendar(request: Request) -> WorkCalendar:
    return request.app.state.calendar


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RulesDep = Annotated[RuleSet, Depends(get_rules)]
CalendarDep = Annotated[WorkCalendar, Depends(get_calendar)]
