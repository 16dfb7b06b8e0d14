"""Benchmark (issue #15): start-up of the `zonegeo` command — `zonegeo --help`, `zonegeo check --help`,
`zonegeo due --help`, `zonegeo zones --help` — and real runs of commands — `zonegeo check` on the demo zone's four
files, `zonegeo due --from 2026-01-05 --working-days 15` and, on a throwaway database migrated with the project's
Alembic migrations and holding the demo zone, `zonegeo zones` — each a fresh process, against the floor
`python -c "import zonegeo"`.

Each round runs the floor and every command once, in turn (alternating, so a change of machine load touches them
alike); the figure is the median wall time over the rounds. Start-up is the command's own wall time (target
≤ 0.3 s, for the help screens and for the real runs of `due` and `zones`, whose work is a date computation and one
query; `check` reads and checks files: bench/check_zone.py holds its target, here it is reported against the floor
only); the note gives its difference to the floor, the median CPU time (user + system) of the process, which a busy
machine inflates far less than the wall time, and, for real runs, the heavy libraries the run loaded (found once,
untimed, by running the command in an interpreter that lists its modules after); the ratio is start-up / floor.

With --plain-help the commands run with TYPER_USE_RICH=0 (typer's plain help, without rich panels): what the rich
help screens cost, for comparison; the project's own help is the rich one. --help-only leaves the real runs out;
--no-db leaves `zonegeo zones` out (it needs PostgreSQL: $ZONEGEO_DATABASE_URL's server, default the local one).

Run: .venv/bin/python bench/cli_startup.py [--repeat N] [--quick] [--json] [--plain-help] [--help-only] [--no-db]
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from benchlib import throwaway_database

TARGET_S = 0.3
TARGET = "CLI start-up ≤ 0.3 s (wall time of the command's process)"
ROOT = Path(__file__).resolve().parents[1]
DEMO = Path("data") / "demo"  # relative to ROOT, where the commands run
DEFAULT_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
CHECK_TARGET = "— (reads and checks files: bench/check_zone.py holds check's target); reported against the floor"
# Libraries a real run's note names when the run loaded them (what the time goes to, beyond the floor).
HEAVY = ("geopandas", "pandas", "pyogrio", "openpyxl", "folium", "fastapi", "jinja2", "sqlalchemy", "geoalchemy2",
         "psycopg2", "shapely", "pyproj", "numpy", "pydantic_settings", "orjson", "chinese_calendar", "alembic")


@dataclass(frozen=True)
class Command:
    name: str
    args: list[str]
    real: bool = False  # a real run (not a help screen): its note names the heavy libraries it loaded
    exit_codes: tuple[int, ...] = (0,)
    needs_db: bool = False
    target: str | None = TARGET  # None: no target here (met is null)
    env: dict[str, str] = field(default_factory=dict)


HELPS = (Command("zonegeo --help", ["--help"]), Command("zonegeo check --help", ["check", "--help"]),
         Command("zonegeo due --help", ["due", "--help"]), Command("zonegeo zones --help", ["zones", "--help"]))
REAL = (
    # the README's check of the demo zone: exit 0 (every rule passes) or 1 (a rule fails) are both a report
    Command("zonegeo check data/demo", ["check", "--boundary", str(DEMO / "boundary.geojson"), "--core",
                                        str(DEMO / "core.geojson"), "--buildings", str(DEMO / "buildings.geojson"),
                                        "--institutions", str(DEMO / "institutions.csv"), "--json"],
            real=True, exit_codes=(0, 1), target=None),
    Command("zonegeo due --from 2026-01-05 --working-days 15", ["due", "--from", "2026-01-05", "--working-days", "15"],
            real=True),
    Command("zonegeo zones", ["zones"], real=True, needs_db=True),
)

# Runs a command in this interpreter and writes the top-level names of the modules it then holds to argv[1].
MODULES_PROBE = r"""
import contextlib, io, json, sys
from zonegeo.cli import app
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    app(sys.argv[2:], prog_name="zonegeo")
with open(sys.argv[1], "w") as f:
    json.dump(sorted({m.split(".")[0] for m in sys.modules}), f)
"""


def zonegeo_command() -> list[str]:
    """The installed console script beside this interpreter (as a user runs it), else the same entry point."""
    script = Path(sys.executable).with_name("zonegeo")
    if script.exists():
        return [str(script)]
    found = shutil.which("zonegeo")
    return [found] if found else [sys.executable, "-c", "from zonegeo.cli import app; app()"]


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wall_s(argv: list[str], extra_env: dict[str, str] | None = None, cpu: list[float] | None = None,
           exit_codes: tuple[int, ...] = (0,)) -> float:
    """The wall time of one run; its CPU time is appended to ``cpu`` when given."""
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", **(extra_env or {})}
    cpu_before = _children_cpu_s()
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    elapsed = time.perf_counter() - start
    if proc.returncode not in exit_codes:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-2000:]}")
    if cpu is not None:
        cpu.append(_children_cpu_s() - cpu_before)
    return elapsed


@contextmanager
def demo_database() -> Iterator[str]:
    """A throwaway database migrated with the project's Alembic migrations, holding the demo zone (imported with
    `zonegeo import`); dropped after."""
    with throwaway_database("zonegeo_bench_cli") as url:
        wall_s([*zonegeo_command(), "import", str(DEMO)], {"ZONEGEO_DATABASE_URL": url})
        yield url


def loaded_heavy(command: Command, extra_env: dict[str, str]) -> list[str]:
    """The heavy libraries a run of ``command`` loads (one untimed run in an interpreter that lists them)."""
    with tempfile.TemporaryDirectory(prefix="zonegeo-bench-") as tmp:
        listing = Path(tmp) / "modules.json"
        wall_s([sys.executable, "-c", MODULES_PROBE, str(listing), *command.args], {**extra_env, **command.env},
               exit_codes=command.exit_codes)
        return sorted(set(json.loads(listing.read_text())) & set(HEAVY))


def measure(repeat: int, commands: list[Command], extra_env: dict[str, str]
            ) -> tuple[float, dict[str, float], dict[str, float]]:
    """Median wall time of the floor, and median wall and CPU time of each command."""
    floor_argv = [sys.executable, "-c", "import zonegeo"]
    cmd = zonegeo_command()
    wall_s(floor_argv)  # warm the page cache and the .pyc files before the first timed round
    for c in commands:
        wall_s(cmd + c.args, {**extra_env, **c.env}, exit_codes=c.exit_codes)
    floors: list[float] = []
    floor_cpu: list[float] = []
    runs: dict[str, list[float]] = {c.name: [] for c in commands}
    cpu: dict[str, list[float]] = {c.name: [] for c in commands}
    for _ in range(repeat):
        floors.append(wall_s(floor_argv, cpu=floor_cpu))
        for c in commands:
            runs[c.name].append(wall_s(cmd + c.args, {**extra_env, **c.env}, cpu[c.name], c.exit_codes))
    cpu["floor"] = floor_cpu
    return (statistics.median(floors), {name: statistics.median(times) for name, times in runs.items()},
            {name: statistics.median(times) for name, times in cpu.items()})


def load_note() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return ""
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=None, help="rounds (default 11; 3 with --quick)")
    parser.add_argument("--quick", action="store_true", help="3 rounds (bench/run_all.py): < 60 s on an idle machine")
    parser.add_argument("--json", action="store_true", help="one JSON object per line per measured path")
    parser.add_argument("--plain-help", action="store_true", help="run the commands with TYPER_USE_RICH=0")
    parser.add_argument("--help-only", action="store_true", help="the help screens only, no real runs")
    parser.add_argument("--no-db", action="store_true", help="leave out `zonegeo zones` (needs PostgreSQL)")
    args = parser.parse_args()
    repeat = max(args.repeat or (3 if args.quick else 11), 1)
    extra_env = {"TYPER_USE_RICH": "0"} if args.plain_help else {}
    suffix = " (TYPER_USE_RICH=0)" if args.plain_help else ""
    real = [] if args.help_only else [c for c in REAL if not (c.needs_db and args.no_db)]
    with contextlib.ExitStack() as stack:
        if any(c.needs_db for c in real):
            try:
                url = stack.enter_context(demo_database())
            except Exception as exc:  # no server: the other paths are still measured, and the skip is said
                print(f"zonegeo zones left out: no throwaway database ({type(exc).__name__}: {exc})"[:500],
                      file=sys.stderr)
                real = [c for c in real if not c.needs_db]
            else:
                real = [replace(c, env={"ZONEGEO_DATABASE_URL": url}) if c.needs_db else c for c in real]
        commands = [*HELPS, *real]
        heavy = {c.name: loaded_heavy(c, extra_env) for c in real}
        load_before = load_note()
        floor, medians, cpu = measure(repeat, commands, extra_env)
    load = f"{load_before} before, {load_note()} after"
    if args.json:
        for c in commands:
            value = medians[c.name]
            met = None if c.target is None else value <= TARGET_S
            loads = f"; loads {', '.join(heavy[c.name]) or 'no heavy library'}" if c.real else ""
            print(json.dumps({"path": c.name + suffix, "zonegeo": round(value, 4), "floor": round(floor, 4),
                              "unit": "s", "ratio": round(value / floor, 2), "target": c.target or CHECK_TARGET, "met": met,
                              "note": f"median of {repeat}; run − floor = {value - floor:+.3f} s; CPU "
                                      f"{cpu[c.name]:.3f} s (floor {cpu['floor']:.3f} s){loads}; {load}"},
                             ensure_ascii=False))
        return
    width = max(len(c.name) for c in commands) + 2
    print(f"CLI start-up and real runs{suffix}, median wall time of {repeat} alternating rounds ({load})")
    print(f"{'path':<{width}}{'wall s':>9}{'− floor s':>11}{'CPU s':>8}{'target':>9}  met  loads")
    print(f"{'python -c import zonegeo':<{width}}{floor:>9.3f}{'':>11}{cpu['floor']:>8.3f}")
    for c in commands:
        value = medians[c.name]
        target, verdict = ("—", "—") if c.target is None else (f"{TARGET_S:.1f}", "yes" if value <= TARGET_S else "NO")
        print(f"{c.name:<{width}}{value:>9.3f}{value - floor:>+11.3f}{cpu[c.name]:>8.3f}{target:>9}  {verdict:<4} "
              f"{', '.join(heavy[c.name]) if c.real else ''}")


if __name__ == "__main__":
    main()
