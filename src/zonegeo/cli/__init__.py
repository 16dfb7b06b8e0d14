"""The zonegeo command line (typer), one module per command group; this package holds the `app` and the helpers
every command shares.

The commands are thin shells over the services. Exit codes: 0 done (for `check`/`report`: every rule passes; for
`diff`: no material change), 1 a report was made and says no (a rule fails, a material change), 2 the input or the
configuration could not be used (a Chinese message on stderr, never a traceback).

Tests drop the cached `settings()` and `_uow()` between invocations (tests/conftest.py); every command reaches them
through this module, so there is one cache of each.

Start-up (issue #15): importing this package, and so `zonegeo --help` and every command's `--help`, loads typer, rich
and the project's light modules only (tests/test_cli_startup.py). Anything heavier — pydantic-settings, orjson,
SQLAlchemy, shapely, geopandas, folium, FastAPI … — is imported inside the command that uses it, or by the helpers
below when a command first calls them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from zonegeo.errors import ZonegeoError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from zonegeo.config import Settings
    from zonegeo.domain.rules import RuleSet
    from zonegeo.domain.workdays import WorkCalendar
    from zonegeo.ingest.safety import Limits
    from zonegeo.services.unit_of_work import UnitOfWork

app = typer.Typer(help="zonegeo：江苏省知识产权服务业集聚发展区空间登记系统", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
out = Console()
err = Console(stderr=True)


@functools.cache
def settings() -> Settings:
    from zonegeo.config import Settings  # pydantic-settings: only for commands that read the settings

    return Settings()


def _dump(data: Any) -> None:
    import orjson

    typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


def handles_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn our errors into a Chinese message on stderr and exit code 2 — never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ZonegeoError as exc:
            err.print(f"[red]错误[/red]（{exc.code}）：{exc}", highlight=False)
            for finding in exc.detail.get("findings", [])[1:]:
                err.print(f"  - {finding['message']}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper


@functools.cache
def _uow() -> UnitOfWork:
    from zonegeo.services.unit_of_work import UnitOfWork

    return UnitOfWork.from_settings(settings())


def _session() -> AbstractContextManager[Session]:
    """One unit of work per command: everything it stores is committed together, or nothing is."""
    return _uow()()


def _rules() -> RuleSet:
    from zonegeo.ingest.rules_file import load_rules

    return load_rules(settings().rules_file)


def _limits() -> Limits:
    """What one input file may cause, from the settings (ZONEGEO_MAX_FEATURES…), as for an upload."""
    from zonegeo.services.uploads import limits_from

    return limits_from(settings())[0]


def _calendar() -> WorkCalendar:
    from zonegeo.ingest.holidays import load_calendar

    return load_calendar(settings().holidays_dir)


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ZonegeoError("bad_date", f"{option}的日期“{text}”格式不正确，应为YYYY-MM-DD", {"option": option}) from None


# Each module registers its commands on `app` (or its own sub-app) when imported; the order is the order of `--help`.
from zonegeo.cli import check, zones, db, serve, versions, users, lifecycle, audit, integrity, export  # noqa: E402,F401,I001
