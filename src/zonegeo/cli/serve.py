"""`zonegeo serve`: the web pages and the API."""

from __future__ import annotations

from typing import Annotated

import typer

from zonegeo.cli import app, handles_errors, settings


@app.command()
@handles_errors
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """启动网页和API服务。"""
    import uvicorn

    from zonegeo.api.app import create_app

    uvicorn.run(create_app(settings()), host=host or settings().host, port=port or settings().port)
