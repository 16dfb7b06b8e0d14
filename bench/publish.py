"""Benchmark: `zonegeo publish` with many published zones (issue #15: 200 zones; a run with nothing changed under
2 s, one changed zone made again alone), on a throwaway PostGIS database of its own.

The zones are copies of the demo zone made in bulk SQL (each moved 2 km from the last: zone, approved layout,
buildings, active institutions), then three paths are timed through ``services.publishing.publish``:

- first run: every zone's page into an empty folder; floor: the same pages rendered in memory (check, map, HTML)
  from plans already loaded — the rendering any publisher must do;
- nothing changed: floor: the queries the run needs to know that (the zones' keys, the 公告 rows, the audit head);
- one zone's register changed: floor: the nothing-changed run plus that one zone's page rendered in memory.

Run: .venv/bin/python bench/publish.py [--zones N] [--repeat R] [--quick] [--json]
(--quick: 50 zones, the first run once). Server: ZONEGEO_DATABASE_URL's, else postgres@127.0.0.1:5432.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchlib import report, throwaway_database
from sqlalchemy import Engine, create_engine, text

from zonegeo.config import PROJECT_ROOT
from zonegeo.db import repo
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain.check import check_plan
from zonegeo.domain.rules import RuleSet
from zonegeo.ingest.rules_file import load_rules
from zonegeo.maps.render import render, to_html
from zonegeo.services import announcements, disclosure
from zonegeo.services.publishing import _zone_keys, data_as_of, publish, set_published
from zonegeo.services.zones import import_zone

DEMO = PROJECT_ROOT / "data" / "demo"
DEMO_CODE = "NJ-DEMO-01"
STEP_DEG = 0.02  # about 2 km between copies, 20 to a row


def _columns(conn, table: str) -> list[str]:
    return [r[0] for r in conn.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = :t AND column_name <> 'id' "
        "ORDER BY ordinal_position"), {"t": table})]


def _copy(conn, table: str, source: str, overrides: dict[str, str]) -> None:
    """INSERT INTO table (every column but id) SELECT each column, or its override expression, FROM source."""
    cols = _columns(conn, table)
    values = ", ".join(overrides.get(c, f's."{c}"') for c in cols)
    names = ", ".join(f'"{c}"' for c in cols)
    conn.execute(text(f"INSERT INTO {table} ({names}) SELECT {values} FROM {source}"))


def make_zones(engine: Engine, n: int) -> None:
    """The demo zone imported and published, and n - 1 copies of it in bulk SQL."""
    with transaction(session_factory(engine)) as session:
        import_zone(session=session, folder=DEMO)
        set_published(session=session, code=DEMO_CODE, published=True)
    moved = "ST_Translate(s.{col}, (g.k % 20) * :step, (g.k / 20 + 1) * :step)"
    with engine.begin() as conn:
        params = {"step": STEP_DEG}
        _copy(conn, "zone", f"zone s, generate_series(1, {n - 1}) AS g(k) WHERE s.code = '{DEMO_CODE}'",
              {"code": "'BENCH-' || lpad(g.k::text, 4, '0')", "name": "s.name || '（副本' || g.k || '）'"})
        bench = "zone z, zone d, LATERAL (SELECT substr(z.code, 7)::int AS k) g"
        same = f"z.code LIKE 'BENCH-%' AND d.code = '{DEMO_CODE}'"
        cols = _columns(conn, "zone_version")
        values = ", ".join({"zone_id": "z.id", "boundary": moved.format(col="boundary"),
                            "core": moved.format(col="core")}.get(c, f's."{c}"') for c in cols)
        conn.execute(text(f"INSERT INTO zone_version ({', '.join(cols)}) SELECT {values} FROM {bench}, "
                          f"zone_version s WHERE {same} AND s.zone_id = d.id AND s.state = 'approved'"), params)
        cols = _columns(conn, "building")
        values = ", ".join({"version_id": "v.id", "footprint": moved.format(col="footprint")}.get(c, f's."{c}"')
                           for c in cols)
        conn.execute(text(f"INSERT INTO building ({', '.join(cols)}) SELECT {values} FROM {bench}, zone_version v, "
                          "zone_version dv, building s WHERE " + same + " AND v.zone_id = z.id AND dv.zone_id = d.id "
                          "AND dv.state = 'approved' AND s.version_id = dv.id"), params)
        cols = _columns(conn, "institution")
        values = ", ".join({"zone_id": "z.id", "location": moved.format(col="location")}.get(c, f's."{c}"')
                           for c in cols)
        conn.execute(text(f"INSERT INTO institution ({', '.join(cols)}) SELECT {values} FROM {bench}, institution s "
                          f"WHERE {same} AND s.zone_id = d.id AND s.left_on IS NULL"), params)


def key_queries(engine: Engine, rules: RuleSet) -> None:
    """The floor of a run with nothing to do: the queries that tell it so."""
    import hashlib

    with transaction(session_factory(engine)) as session:
        data_as_of(session)
        _zone_keys(session, hashlib.sha256(repr(rules).encode()).hexdigest())
        announcements.announcements(session=session)


def render_in_memory(plans: list[tuple[str, object]], rules: RuleSet) -> None:
    """The floor of rendering: check, map and HTML of each plan, nothing read or written."""
    for name, plan in plans:
        m = render(plan, check_plan(plan, rules), title=name, tiles="", asset_base="../assets",
                   policy=disclosure.PUBLIC)
        to_html(m, asset_base="../assets")


def load_plans(engine: Engine, codes: list[str]) -> list[tuple[str, object]]:
    with transaction(session_factory(engine)) as session:
        out = []
        for code in codes:
            zone = repo.get_zone(session, code)
            version = repo.approved_version(session, zone)
            assert version is not None
            out.append((zone.name, repo.to_domain_plan(version, repo.active_institutions(session, zone))))
        return out


def run_publish(engine: Engine, rules: RuleSet, out: Path, **kwargs) -> dict:
    with transaction(session_factory(engine)) as session:
        return publish(session=session, rules=rules, out_dir=out, tiles="", **kwargs)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def change_register(engine: Engine, code: str, k: int) -> None:
    """A register change of one zone: one institution renamed (as an approved register draft would)."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE institution SET name = :name WHERE id = (SELECT min(i.id) FROM institution i "
                          "JOIN zone z ON z.id = i.zone_id WHERE z.code = :code AND i.left_on IS NULL)"),
                     {"name": f"改名机构{k}", "code": code})


def measure(n_zones: int, repeat: int, first_repeat: int) -> list[dict]:
    rules = load_rules(PROJECT_ROOT / "data" / "rules" / "jiangsu-2024.toml")
    with throwaway_database("zonegeo_bench_publish") as url, tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(url, connect_args={"options": "-c jit=off"})
        made, _ = timed(lambda: make_zones(engine, n_zones))
        print(f"# {n_zones} zones made in bulk SQL in {made:.1f} s", file=sys.stderr)
        codes = _all_codes(engine)
        plans = load_plans(engine, codes)
        out = Path(tmp) / "site"
        first, floor_first = [], []
        for k in range(first_repeat):  # alternating: ours into an empty folder, then the bare rendering
            seconds, result = timed(lambda k=k: run_publish(engine, rules, Path(tmp) / f"first{k}"))
            first.append(seconds)
            floor_first.append(timed(lambda: render_in_memory(plans, rules))[0])
        run_publish(engine, rules, out)
        same, floor_same, rendered_same = [], [], []
        for _ in range(repeat):
            seconds, result = timed(lambda: run_publish(engine, rules, out))
            same.append(seconds)
            rendered_same.append(len(result["rendered"]))
            floor_same.append(timed(lambda: key_queries(engine, rules))[0])
        one, floor_one, rendered_one = [], [], []
        changed = codes[len(codes) // 2]
        changed_plan = plans[len(codes) // 2]
        for k in range(repeat):
            change_register(engine, changed, k)
            seconds, result = timed(lambda: run_publish(engine, rules, out))
            one.append(seconds)
            rendered_one.append(result["rendered"])
            floor_one.append(timed(lambda: run_publish(engine, rules, out))[0]
                             + timed(lambda: render_in_memory([changed_plan], rules))[0])
        engine.dispose()
    med = statistics.median
    return [
        {"path": f"publish {n_zones} zones: first run", "zonegeo": round(med(first), 3),
         "floor": round(med(floor_first), 3), "unit": "s", "ratio": round(med(first) / med(floor_first), 2),
         "target": "none in the issue (every page is rendered); reference", "met": None,
         "note": f"floor: the same pages rendered in memory; median of {first_repeat}"},
        {"path": f"publish {n_zones} zones: nothing changed", "zonegeo": round(med(same), 3),
         "floor": round(med(floor_same), 3), "unit": "s", "ratio": round(med(same) / med(floor_same), 2),
         "target": "< 2 s, nothing made again", "met": med(same) < 2.0 and not any(rendered_same),
         "note": f"floor: the key queries alone; pages made again: {max(rendered_same)}; median of {repeat}"},
        {"path": f"publish {n_zones} zones: one register changed", "zonegeo": round(med(one), 3),
         "floor": round(med(floor_one), 3), "unit": "s", "ratio": round(med(one) / med(floor_one), 2),
         "target": "only that zone made again", "met": all(r == [changed] for r in rendered_one),
         "note": f"floor: a nothing-changed run + that zone rendered in memory; median of {repeat}"},
    ]


def _all_codes(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT code FROM zone WHERE published ORDER BY city, code"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--zones", type=int, default=None, help="zones on the site (default 200, --quick 50)")
    parser.add_argument("--repeat", type=int, default=5, help="repeats of the incremental runs (median)")
    parser.add_argument("--quick", action="store_true", help="50 zones, the first run once (under a minute)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line per measured path")
    args = parser.parse_args()
    n_zones = args.zones or (50 if args.quick else 200)
    rows = measure(n_zones, max(args.repeat, 3), 1 if args.quick else 3)
    report(rows, args.json)


if __name__ == "__main__":
    main()
