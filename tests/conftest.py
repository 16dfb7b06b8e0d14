"""Test fixtures: a throwaway PostGIS database per session, built by the Alembic migrations."""

from __future__ import annotations

import copy
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.cookiejar import Cookie
from pathlib import Path
from types import SimpleNamespace

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from zonegeo.config import PROJECT_ROOT, Settings, normalise_database_url
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain.rules import RuleSet
from zonegeo.ingest.rules_file import load_rules
from zonegeo.services import auth as _auth

# Argon2id at its lowest cost in this process: every test user is hashed and every web login verified, and at the
# production parameters (argon2-cffi's defaults, services/auth.py) each costs ~0.1 s of CPU. Hashes stay Argon2id
# and verifying still checks the password; the CLI run as a subprocess keeps the production cost.
_auth._HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_auth._DUMMY_HASH = _auth._HASHER.hash("zonegeo: no such user")

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


def approve_moved_boundary(client, code: str, **approve) -> int:
    """A new layout through the API by ``client`` (the province): the demo boundary moved by a hair, uploaded,
    submitted and approved (``approve``: the approval's JSON); returns the new version's number."""
    boundary = (DEMO / "boundary.geojson").read_bytes().replace(b"118.7", b"118.70001")
    up = client.post(f"/api/zones/{code}/uploads", data={"roles": ["boundary"]},
                     files=[("files", ("boundary.geojson", boundary, "application/geo+json"))])
    assert up.status_code == 201, up.text
    number = up.json()["version"]
    assert client.post(f"/api/zones/{code}/versions/{number}/submit", json={}).status_code == 200
    approved = client.post(f"/api/zones/{code}/versions/{number}/approve", json=approve)
    assert approved.status_code == 200, approved.text
    return number


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


def _migrations_digest() -> str:
    """A name for the schema the migrations build: their files' bytes, hashed."""
    import hashlib

    digest = hashlib.sha256((PROJECT_ROOT / "alembic.ini").read_bytes())
    for path in sorted((PROJECT_ROOT / "migrations").rglob("*.py")):
        digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def _migrated_template(admin: Engine, server) -> str:
    """A database migrated to head once per version of the migrations, kept on the server as a template that every
    throwaway database is copied from (``CREATE DATABASE … TEMPLATE``: a file copy instead of 14 migrations). Made
    under an advisory lock, so that parallel workers make it once; templates of older migrations are dropped."""
    from zonegeo.db.migrate import upgrade  # alembic: only when a template is made

    name = f"zonegeo_tpl_{_migrations_digest()}"
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(hashtext('zonegeo test template'))"))
        try:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if exists is None:
                building = f"zonegeo_tplnew_{uuid.uuid4().hex[:10]}"
                conn.execute(text(f'CREATE DATABASE "{building}"'))
                try:
                    upgrade(server.set(database=building).render_as_string(hide_password=False))
                    conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{name}"'))
                except BaseException:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
                    raise
                conn.execute(text(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false'))
                stale = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE 'zonegeo\\_tpl%' "
                                          "AND datname <> :n"), {"n": name}).scalars().all()
                for old in stale:
                    conn.execute(text(f'ALTER DATABASE "{old}" WITH IS_TEMPLATE false'))
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)'))
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(hashtext('zonegeo test template'))"))
    return name


@contextmanager
def throwaway_database(prefix: str, *, migrate: bool = True) -> Iterator[str]:
    """A new database on the configured server (at the migrations' head unless ``migrate`` is false: a copy of the
    migrated template, see ``_migrated_template``), dropped after."""
    server = make_url(normalise_database_url(os.environ.get("ZONEGEO_DATABASE_URL", DEFAULT_SERVER)))
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    template = f' TEMPLATE "{_migrated_template(admin, server)}"' if migrate else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{template}'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
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


def _settings_for(database_url: str) -> Iterator[Settings]:
    # Tests write through one app (or the services) and read through another at once: the public cache asks
    # for the state on every read here (tests/test_public_cache.py covers the TTL a deployment runs with).
    made = Settings(_env_file=None, database_url=database_url, tiles="OpenStreetMap", public_cache_ttl_s=0)
    _SESSION_SETTINGS.append(made)
    yield made
    _SESSION_SETTINGS[:] = [other for other in _SESSION_SETTINGS if other is not made]
    shared_app = _SHARED.pop(id(made), None)
    if shared_app is not None:  # before the database is dropped
        shared_app.close()


def _engine_for(database_url: str) -> Iterator[Engine]:
    eng = create_engine(database_url, connect_args={"options": "-c jit=off"})
    yield eng
    eng.dispose()


def _import_demo(engine: Engine) -> str:
    from zonegeo.services.zones import import_zone

    with transaction(session_factory(engine)) as session:
        import_zone(session=session, folder=DEMO)
    return "NJ-DEMO-01"


def _role_users(engine: Engine, demo_zone: str) -> dict[str, str]:
    from zonegeo.services import access, auth

    out = {}
    with transaction(session_factory(engine)) as session:
        for role, (username, city) in ROLE_USERS.items():
            auth.add_user(session=session, username=username, password=PASSWORD, role=role, city=city)
            out[role] = auth.create_token(session=session, username=username)
        access.add_member(session=session, code=demo_zone, username="demo-applicant", relation_="applicant")
        access.add_member(session=session, code=demo_zone, username="expert-wang", relation_="expert")
    return out


@pytest.fixture(scope="session")
def settings(database_url: str) -> Iterator[Settings]:
    yield from _settings_for(database_url)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    yield from _engine_for(database_url)


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return load_rules(RULES_FILE)


PASSWORD = "correct horse battery staple"
ROLE_USERS = {"applicant": ("demo-applicant", None), "city": ("nanjing-bureau", "南京市"),
              "province": ("province-bureau", None), "expert": ("expert-wang", None)}


@pytest.fixture(scope="session")
def demo_zone(engine: Engine) -> str:
    """The demo zone, imported (committed) once for the read-only API, map and browser tests."""
    return _import_demo(engine)


@pytest.fixture(scope="session")
def tokens(engine: Engine, demo_zone: str) -> dict[str, str]:
    """One user and bearer token per role; the applicant owns and the expert reviews the demo zone."""
    return _role_users(engine, demo_zone)


def database_of_its_own(prefix: str) -> tuple:
    """Module-scoped ``database_url``, ``settings``, ``engine``, ``demo_zone`` and ``tokens`` on a database of the
    module's own (``database_url, settings, engine, demo_zone, tokens = database_of_its_own("…")`` at the top of a
    test module), for tests whose results depend on every zone in the database, which the session's database
    fills with the other tests' zones. The other fixtures (``client``, ``web_as``, ``session``…) follow."""

    @pytest.fixture(scope="module", name="database_url")
    def own_database_url() -> Iterator[str]:
        with throwaway_database(prefix) as url:
            yield url

    @pytest.fixture(scope="module", name="settings")
    def own_settings(database_url: str) -> Iterator[Settings]:
        yield from _settings_for(database_url)

    @pytest.fixture(scope="module", name="engine")
    def own_engine(database_url: str) -> Iterator[Engine]:
        yield from _engine_for(database_url)

    @pytest.fixture(scope="module", name="demo_zone")
    def own_demo_zone(engine: Engine) -> str:
        return _import_demo(engine)

    @pytest.fixture(scope="module", name="tokens")
    def own_tokens(engine: Engine, demo_zone: str) -> dict[str, str]:
        return _role_users(engine, demo_zone)

    return own_database_url, own_settings, own_engine, own_demo_zone, own_tokens


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
    with app_client(settings, headers=bearer(tokens, "province")) as c:
        yield c


def role_clients(settings: Settings, tokens: dict[str, str]) -> Iterator[Callable[[str], TestClient]]:
    """For a fixture of any scope (``yield from role_clients(settings, tokens)``): ``get(role)`` gives a TestClient
    with that role's bearer token (``"public"`` has none), one per role, on the session's shared app where
    ``settings`` is the session's; all closed when the fixture ends."""
    clients: dict[str, TestClient] = {}

    def get(role: str) -> TestClient:
        if role not in clients:
            clients[role] = app_client(settings, headers=bearer(tokens, role)).__enter__()
        return clients[role]

    yield get
    for c in clients.values():
        c.__exit__(None, None, None)


@pytest.fixture
def as_role(settings: Settings, tokens: dict[str, str]) -> Iterator[Callable[[str], TestClient]]:
    """``as_role("city")``: the API as that role, for one test (see ``role_clients``)."""
    yield from role_clients(settings, tokens)


@pytest.fixture
def anon(settings: Settings, demo_zone: str, tokens: dict[str, str]):
    with app_client(settings) as c:
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
    login throttle of one test never meets another's); ``.csrf`` is its form token, renewed at login. On the
    session's settings the login is made once per user and its cookie handed to every later test in the state it
    had right after the login (no flash message, the same form token), unless the session has ended since."""
    if _is_session_settings(settings):
        return _shared_app(settings).login(username)
    from zonegeo.api.app import create_app

    c = TestClient(create_app(settings), client=_new_address())
    c.__enter__()
    _log_in(c, username)
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


# ---- one app per session ---------------------------------------------------------------------------------------
# Building an app is cheap, but its first requests are not: every template is compiled again, FastAPI builds each
# route's dependencies on its first match, and the lifespan opens a new pool and recomputes the deadlines of every
# zone in the database. Tests on the session's settings therefore share one app (its lifespan run once), each with
# TestClients of its own (cookies, headers, address). Tests that need an app of their own (other settings, the
# lifespan itself, state kept in the app) keep calling create_app.

_SESSION_SETTINGS: list[Settings] = []
_SHARED: dict[int, SharedApp] = {}


def _is_session_settings(settings: Settings) -> bool:
    return any(settings is made for made in _SESSION_SETTINGS)


def _new_address() -> tuple[str, int]:
    return (f"192.0.2.{uuid.uuid4().int % 200 + 20}", 50000)


def _form_token(page: str) -> str:
    import re

    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None, page[:500]
    return match.group(1)


def _log_in(c, username: str) -> None:
    r = c.post("/login", data={"username": username, "password": PASSWORD, "csrf": _form_token(c.get("/login").text)},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    c.csrf = _form_token(c.get("/worklist").text)


class _Guest(TestClient):
    """A TestClient on a running shared app: requests go through its event loop; ``with`` runs no lifespan."""

    csrf: str

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class SharedApp:
    """The app of the session's settings, started once; ``client()`` and ``login()`` give each test its own
    TestClient on it. In-memory caches that outlive a request (the header's to-do count, anonymous responses) are
    emptied when another test starts using the app, so that no test sees what an earlier one left."""

    def __init__(self, settings: Settings) -> None:
        from zonegeo.api.app import create_app

        self.app = create_app(settings)
        self.host = TestClient(self.app)
        self.host.__enter__()
        self.logins: dict[str, tuple[list[Cookie], str]] = {}  # username -> cookies and form token after login
        self.test = ""

    def client(self, **kwargs) -> _Guest:
        test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
        if test != self.test:
            self.test = test
            self._forget_caches()
        guest = _Guest(self.app, **kwargs)
        guest.portal = self.host.portal
        return guest

    def login(self, username: str) -> _Guest:
        c = self.client(client=_new_address())
        cached = self.logins.get(username)
        if cached is not None and self._live(cached[0]):
            for cookie in cached[0]:
                c.cookies.jar.set_cookie(copy.copy(cookie))
            c.csrf = cached[1]
            return c
        _log_in(c, username)
        self.logins[username] = ([copy.copy(cookie) for cookie in c.cookies.jar], c.csrf)
        return c

    def _live(self, cookies: list[Cookie]) -> bool:
        """Whether the cookie's web session is still live (not logged out, not ended, the user still active)."""
        import base64
        import hashlib

        from sqlalchemy import func, select

        from zonegeo.db.models import User, WebSession

        value = next(cookie.value for cookie in cookies if cookie.name == "zonegeo_session")
        sid = json.loads(base64.b64decode((value or "").split(".")[0]))["sid"]
        with self.app.state.uow() as db:
            return db.scalar(select(WebSession.id).join(User, User.id == WebSession.user_id).where(
                WebSession.token_sha256 == hashlib.sha256(sid.encode()).hexdigest(), WebSession.ended_at.is_(None),
                WebSession.expires_at > func.now(), User.active.is_(True))) is not None

    def _forget_caches(self) -> None:
        from zonegeo.api.public_cache import PublicCacheMiddleware

        self.app.state.header_cache = {}
        layer = self.app.middleware_stack
        while layer is not None:
            if isinstance(layer, PublicCacheMiddleware):
                layer.entries.clear()
                layer.size, layer._state = 0, (0.0, None)
            layer = getattr(layer, "app", None)

    def close(self) -> None:
        self.host.__exit__(None, None, None)


def _shared_app(settings: Settings) -> SharedApp:
    if id(settings) not in _SHARED:
        _SHARED[id(settings)] = SharedApp(settings)
    return _SHARED[id(settings)]


def app_client(settings: Settings, **kwargs):
    """``with app_client(settings, headers=…) as c``: a TestClient on the session's shared app when ``settings`` is
    the session's, else on an app of its own (entered and left by the ``with``), like ``TestClient(create_app(…))``."""
    if _is_session_settings(settings):
        return _shared_app(settings).client(**kwargs)
    from zonegeo.api.app import create_app

    return TestClient(create_app(settings), **kwargs)


@contextmanager
def app_process(env: dict[str, str], *, start_s: float = 90) -> Iterator[str]:
    """The app served by uvicorn in a process of its own (as `zonegeo serve` runs it) on a free local port, with
    ``env`` added to this process's environment; yields its base URL once /healthz answers, stops it after."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "zonegeo.api.app:create_app_from_environment",
                             "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            env={**os.environ, **env}, cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + start_s
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the test server at {url} did not start")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def count_statements(engine, fn) -> int:
    """How many SQL statements ``engine`` runs while ``fn()`` runs (a SQLAlchemy event hook, removed afterwards)."""
    from sqlalchemy import event

    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)
