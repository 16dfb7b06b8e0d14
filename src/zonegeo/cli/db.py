"""`zonegeo db …`: the database schema."""

from __future__ import annotations

import typer

from zonegeo.cli import app, handles_errors, out, settings

db_app = typer.Typer(help="数据库管理", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@handles_errors
def db_upgrade() -> None:
    """执行数据库迁移到最新版本（Alembic）。"""
    from zonegeo.services.unit_of_work import upgrade_schema

    upgrade_schema(settings().database_url)
    out.print("数据库已迁移到最新版本")
