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


def _number(value: object) -> str:
    return "—" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def report(rows: list[dict], as_json: bool) -> None:
    """The figures: one JSON object a line (bench/run_all.py reads them), or a table with the targets below it."""
    import json

    if as_json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
        return
    print(f"{'path':<44} {'zonegeo':>10} {'floor':>10} {'unit':>6} {'ratio':>7}  met  note")
    for r in rows:
        met = "—" if r.get("met") is None else "yes" if r["met"] else "NO"
        print(f"{r['path']:<44} {_number(r.get('zonegeo')):>10} {_number(r.get('floor')):>10} {r.get('unit', ''):>6} "
              f"{_number(r.get('ratio')):>7}  {met:<4} {r.get('note', '')}")
    print("targets: " + "; ".join(sorted({str(r.get("target")) for r in rows})))


def wavy_square(side: float, vertices: int = 400):
    """A zone boundary as a digitised red line has it: a square of ``side`` metres whose edges wobble by 3 m,
    ``vertices`` points; returns the x and y arrays (metres from the south-west corner)."""
    import numpy as np

    t = np.linspace(0, 4, vertices + 1)[:-1]
    edge = np.floor(t).astype(int)
    f = t - edge
    wobble = 3 * np.sin(f * np.pi * 8)
    bx = np.select([edge == 0, edge == 1, edge == 2, edge == 3], [f * side, side + wobble, (1 - f) * side, wobble])
    by = np.select([edge == 0, edge == 1, edge == 2, edge == 3], [wobble, f * side, side + wobble, (1 - f) * side])
    return bx, by
