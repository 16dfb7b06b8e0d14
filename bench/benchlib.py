"""What the benchmark scripts share: a throwaway database migrated with the project's Alembic migrations."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """A new database ``{prefix}_{random}`` on the server of ``ZONEGEO_DATABASE_URL`` (default the local one),
    migrated to head; yields its URL and drops it afterwards, whatever happened."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from zonegeo.config import normalise_database_url
    from zonegeo.db.migrate import upgrade

    server = make_url(normalise_database_url(os.environ.get("ZONEGEO_DATABASE_URL", DEFAULT_SERVER)))
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
