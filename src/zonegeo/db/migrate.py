"""Running the Alembic migrations in migrations/ from code: `zonegeo db upgrade` (through
services/unit_of_work.upgrade_schema) and the tests. The web app does not migrate at start-up: run `zonegeo db upgrade`
(scripts/demo does) before `zonegeo serve`."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from zonegeo.config import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
