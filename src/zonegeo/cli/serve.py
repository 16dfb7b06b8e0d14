"""`zonegeo serve`: the web pages and the API."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from zonegeo.cli import app, handles_errors, settings


@app.command()
@handles_errors
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    workers: Annotated[int | None, typer.Option(help="工作进程数（默认 ZONEGEO_WORKERS，1）")] = None,
) -> None:
    """启动网页和API服务。"""
    import uvicorn

    from zonegeo.api.app import create_app

    host, port, workers = host or settings().host, port or settings().port, workers or settings().workers
    if workers <= 1:
        uvicorn.run(create_app(settings()), host=host, port=port)
        return
    if not settings().secret_key:
        # every worker must sign sessions with the same key, or a login made in one is unknown to the others
        import secrets

        os.environ["ZONEGEO_SECRET_KEY"] = secrets.token_hex(32)
    # each worker process builds its own app (and database pool) from the environment
    uvicorn.run("zonegeo.api.app:create_app_from_environment", factory=True, host=host, port=port, workers=workers)
