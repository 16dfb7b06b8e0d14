"""ZONEGEO_DATABASE_URL: the plain postgresql:// form works; a bad one is a Chinese ConfigError, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import PROJECT_ROOT, bearer
from zonegeo.config import Settings
from zonegeo.errors import ConfigError

ZONEGEO = Path(sys.executable).with_name("zonegeo")


def settings_with(url: str) -> Settings:
    return Settings(_env_file=None, database_url=url)


@pytest.mark.parametrize(("given", "expected"), [
    ("postgresql://u:p@db.example:5433/zonegeo", "postgresql+psycopg2://u:p@db.example:5433/zonegeo"),
    ("postgres://u@db.example/zonegeo", "postgresql+psycopg2://u@db.example/zonegeo"),
    ("PostgreSQL://db.example/zonegeo", "postgresql+psycopg2://db.example/zonegeo"),
    ("  postgresql:///zonegeo?host=/var/run/postgresql  ", "postgresql+psycopg2:///zonegeo?host=/var/run/postgresql"),
    ("postgresql+psycopg2://u@h/zonegeo", "postgresql+psycopg2://u@h/zonegeo"),
])
def test_plain_forms_name_the_installed_driver(given, expected):
    assert settings_with(given).database_url == expected


def test_the_environment_variable_is_normalised_too(monkeypatch):
    monkeypatch.setenv("ZONEGEO_DATABASE_URL", "postgresql://u@h:5432/zonegeo")
    assert Settings(_env_file=None).database_url == "postgresql+psycopg2://u@h:5432/zonegeo"


@pytest.mark.parametrize(("given", "code"), [
    ("not a url", "bad_database_url"),
    ("", "bad_database_url"),
    ("127.0.0.1:5432/zonegeo", "bad_database_url"),
    ("postgresql://u@h:port/zonegeo", "bad_database_url"),
    ("mysql://u:secret@h/zonegeo", "unsupported_database_driver"),
    ("sqlite:///zonegeo.db", "unsupported_database_driver"),
    ("postgresql+asyncpg://u@h/zonegeo", "unsupported_database_driver"),
])
def test_a_bad_url_is_a_config_error_in_chinese(given, code):
    with pytest.raises(ConfigError) as e:
        settings_with(given)
    assert e.value.code == code
    assert "数据库" in e.value.message
    assert e.value.detail["setting"] == "ZONEGEO_DATABASE_URL"


def test_the_password_is_not_repeated_in_the_error():
    with pytest.raises(ConfigError) as e:
        settings_with("mysql://admin:s3cr@t-pw@h/zonegeo")
    assert "s3cr" not in str(e.value) and "t-pw" not in str(e.value)
    assert "admin:***@h" in str(e.value)


def plain(database_url: str) -> str:
    """The test database's URL in libpq's plain form."""
    url = make_url(database_url).render_as_string(hide_password=False)
    assert url.startswith("postgresql+psycopg2://")
    return url.replace("postgresql+psycopg2://", "postgresql://", 1)


def test_the_app_serves_from_a_plain_url(database_url, demo_zone, tokens):
    from fastapi.testclient import TestClient

    from zonegeo.api.app import create_app

    app = create_app(Settings(_env_file=None, database_url=plain(database_url), tiles=""))
    with TestClient(app, headers=bearer(tokens, "province")) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        assert demo_zone in c.get("/api/zones").text


def test_the_engine_connects_with_a_plain_url(database_url):
    from zonegeo.db.session import make_engine

    engine = make_engine(settings_with(plain(database_url)))
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("select postgis_version()"))
    finally:
        engine.dispose()


def run(*args: str, url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ZONEGEO_DATABASE_URL": url, "COLUMNS": "400"}  # rich wraps at 80 otherwise
    return subprocess.run([str(ZONEGEO), *args], capture_output=True, text=True, cwd=PROJECT_ROOT, env=env,
                          timeout=120)


def test_the_cli_takes_a_plain_url(database_url, demo_zone, cli):
    proc = cli("zones", "--json", env={"ZONEGEO_DATABASE_URL": plain(database_url)})
    assert proc.returncode == 0, proc.stderr
    assert demo_zone in proc.stdout


def test_the_cli_says_what_is_wrong_with_the_url(cli):
    proc = cli("zones", env={"ZONEGEO_DATABASE_URL": "no scheme here", "COLUMNS": "400"})
    assert proc.returncode == 2 and "数据库地址无法解析" in proc.stderr and "bad_database_url" in proc.stderr


def test_a_real_process_prints_no_traceback_for_a_bad_url():
    proc = run("zones", url="mysql://u@h/zonegeo")
    assert proc.returncode == 2
    assert "不支持的数据库类型" in proc.stderr and "Traceback" not in proc.stderr
