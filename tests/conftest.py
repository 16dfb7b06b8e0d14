"""Test fixtures: a throwaway PostGIS database per session, built by the Alembic migrations."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from zonegeo.config import PROJECT_ROOT, Settings, normalise_database_url
from zonegeo.db.migrate import upgrade
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain.rules import RuleSet
from zonegeo.ingest.rules_file import load_rules

DEMO = PROJECT_ROOT / "data" / "demo"
RULES_FILE = PROJECT_ROOT / "data" / "rules" / "jiangsu-2024.toml"
DATA = Path(__file__).resolve().parent / "data"
# Third-party real files (licence unstated) stay outside the repository, in $ZONEGEO_SHARED_DIR/real/.
SHARED = Path(os.environ.get("ZONEGEO_SHARED_DIR") or PROJECT_ROOT.parent / "shared")
REAL = SHARED / "real"
REQUIRE_REAL = os.environ.get("ZONEGEO_REQUIRE_REAL", "").strip() not in ("", "0")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
DEFAULT_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def demo_copy(tmp_path: Path, prefix: str) -> tuple[Path, str]:
    """The demo folder under a new zone code (and a name of its own), for tests that write."""
    code = f"{prefix}-{uuid.uuid4().hex[:8]}"
    folder = tmp_path / f"zone-{code}"
    shutil.copytree(DEMO, folder)
    toml = folder / "zone.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("NJ-DEMO-01", code).replace("（演示数据）", f"（{code}）"),
                    encoding="utf-8")
    return folder, code


def import_demo_copy(engine: Engine, tmp_path: Path, prefix: str, *, rules: RuleSet | None = None,
                     published: bool = False) -> str:
    """A committed zone made from the demo folder; returns its code."""
    from zonegeo.domain.workdays import WorkCalendar
    from zonegeo.services.publishing import set_published
    from zonegeo.services.zones import import_zone

    folder, code = demo_copy(tmp_path, prefix)
    with transaction(session_factory(engine)) as session:
        import_zone(session=session, folder=folder, rules=rules, calendar=WorkCalendar() if rules else None)
        if published:
            set_published(session=session, code=code, published=True)
    return code


def reference(*parts: str) -> Path:
    """A reference file kept in the repository (tests/data/, see its README for the source)."""
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"reference file missing from the repository: {path}")
    return path


def real_missing_reason() -> str | None:
    """Why the third-party real files cannot be used, or None when their folder is there."""
    if REAL.is_dir():
        return None
    return (f"third-party real files not found: {REAL} is absent (their licence is unstated, so they are not in "
            "the repository; set ZONEGEO_SHARED_DIR to the folder holding real/)")


def real(*parts: str) -> Path:
    """A third-party real file: skipped when the folder is absent, failed under ZONEGEO_REQUIRE_REAL=1."""
    reason = real_missing_reason()
    if reason is not None:
        if REQUIRE_REAL:
            pytest.fail(f"ZONEGEO_REQUIRE_REAL=1: {reason}", pytrace=False)
        pytest.skip(reason)
    path = REAL.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"real file missing from {REAL}: {path}", pytrace=False)
    return path


def shared(*parts: str) -> Path:
    """Old spelling: ``shared("reference", f)`` is ``reference(f)``; ``shared("real", …)`` is ``real(…)``."""
    if parts and parts[0] == "reference":
        return reference(*parts[1:])
    if parts and parts[0] == "real":
        return real(*parts[1:])
    raise ValueError(f"unknown shared folder: {parts}")


@pytest.fixture(scope="session")
def reference_areas() -> list[dict]:
    return json.loads(reference("areas.geojson").read_text(encoding="utf-8"))["features"]


@contextmanager
def throwaway_database(prefix: str, *, migrate: bool = True) -> Iterator[str]:
    """A new database on the configured server (migrated to head unless ``migrate`` is false), dropped after."""
    server = make_url(normalise_database_url(os.environ.get("ZONEGEO_DATABASE_URL", DEFAULT_SERVER)))
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        if migrate:
            upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """The session's database, built by the Alembic migrations."""
    with throwaway_database("zonegeo_test") as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    # Tests write through one app (or the services) and read through another at once: the public cache asks
    # for the state on every read here (tests/test_public_cache.py covers the TTL a deployment runs with).
    return Settings(_env_file=None, database_url=database_url, tiles="OpenStreetMap", public_cache_ttl_s=0)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_engine(database_url, connect_args={"options": "-c jit=off"})
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return load_rules(RULES_FILE)


PASSWORD = "correct horse battery staple"
ROLE_USERS = {"applicant": ("demo-applicant", None), "city": ("nanjing-bureau", "南京市"),
              "province": ("province-bureau", None), "expert": ("expert-wang", None)}


@pytest.fixture(scope="session")
def demo_zone(engine: Engine) -> str:
    """The demo zone, imported (committed) once for the read-only API, map and browser tests."""
    from zonegeo.services.zones import import_zone

    with transaction(session_factory(engine)) as session:
        import_zone(session=session, folder=DEMO)
    return "NJ-DEMO-01"


@pytest.fixture(scope="session")
def tokens(engine: Engine, demo_zone: str) -> dict[str, str]:
    """One user and bearer token per role; the applicant owns and the expert reviews the demo zone."""
    from zonegeo.services import access, auth

    out = {}
    with transaction(session_factory(engine)) as session:
        for role, (username, city) in ROLE_USERS.items():
            auth.add_user(session=session, username=username, password=PASSWORD, role=role, city=city)
            out[role] = auth.create_token(session=session, username=username)
        access.add_member(session=session, code=demo_zone, username="demo-applicant", relation_="applicant")
        access.add_member(session=session, code=demo_zone, username="expert-wang", relation_="expert")
    return out


def bearer(tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"} if role != "public" else {}


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (a savepoint inside an outer transaction)."""
    with engine.connect() as conn:
        outer = conn.begin()
        db = Session(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield db
        finally:
            db.close()
            outer.rollback()


@pytest.fixture
def client(settings: Settings, demo_zone: str, tokens: dict[str, str]):
    """The app as the province bureau (which may see and do everything); ``anon`` is the public."""
    from fastapi.testclient import TestClient

    from zonegeo.api.app import create_app

    with TestClient(create_app(settings), headers=bearer(tokens, "province")) as c:
        yield c


@pytest.fixture
def anon(settings: Settings, demo_zone: str, tokens: dict[str, str]):
    from fastapi.testclient import TestClient

    from zonegeo.api.app import create_app

    with TestClient(create_app(settings)) as c:
        yield c


def _drop_cli_caches() -> None:
    """The CLI reads its settings once per process and keeps one engine: forget both."""
    import zonegeo.cli as module

    uow = getattr(module, "_uow", None)
    if uow is not None and hasattr(uow, "cache_info") and uow.cache_info().currsize:
        uow().dispose()
    for name in ("settings", "_uow"):
        cached = getattr(module, name, None)
        if hasattr(cached, "cache_clear"):
            cached.cache_clear()


@pytest.fixture
def cli(monkeypatch) -> Iterator[Callable[..., SimpleNamespace]]:
    """``cli("zones", "--json", env={...})``: the CLI run in this process (typer's runner), with the environment
    given, returning ``returncode``, ``stdout`` and ``stderr`` like a subprocess. An exception that escapes the
    CLI (a traceback for the user) fails the test. Tests that need a real process keep ``subprocess``."""
    from typer.testing import CliRunner

    from zonegeo.cli import app

    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> SimpleNamespace:
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        _drop_cli_caches()
        result = runner.invoke(app, [str(a) for a in args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)

    yield invoke
    _drop_cli_caches()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests are slow wherever they are written: `-m "not slow"` leaves them all out."""
    for item in items:
        if item.get_closest_marker("browser") is not None and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.slow)


def web(settings: Settings, username: str):
    """A browser session logged in through the login form (a TestClient from an address of its own, so that the
    login throttle of one test never meets another's); ``.csrf`` is its form token, renewed at login."""
    import re

    from fastapi.testclient import TestClient

    from zonegeo.api.app import create_app

    c = TestClient(create_app(settings), client=(f"192.0.2.{uuid.uuid4().int % 200 + 20}", 50000))
    c.__enter__()
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"username": username, "password": PASSWORD, "csrf": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    c.csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/worklist").text).group(1)  # type: ignore[attr-defined]
    return c


@pytest.fixture
def web_as(settings, tokens):
    """Logged-in browser sessions by username (``web_as("nanjing-bureau")``), closed after the test."""
    opened = []

    def login(username: str):
        opened.append(web(settings, username))
        return opened[-1]

    yield login
    for client in opened:
        client.__exit__(None, None, None)
