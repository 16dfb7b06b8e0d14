"""Run every benchmark in bench/ and print one table: script, path, zonegeo, floor, unit, ratio, target, met.

Each ``bench/*.py`` that takes ``--json`` (it says so in its text) runs in a subprocess of its own, one after
another (the machine's cores are the benchmarks' to measure), with ``--quick`` unless ``--full``, under a timeout;
its stdout lines that are JSON objects with a "path" are its figures (one per measured path). A script without
``--json``, one that fails or one that runs out of time is a row saying so.

Run: .venv/bin/python bench/run_all.py [--full] [--timeout S] [--only NAME …] [--json]
Exit status 1 when a benchmark failed or timed out (not when a target is not met: benchmarks assert nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


@dataclass
class Outcome:
    script: str
    status: str  # ok | not supported | failed | timed out
    seconds: float = 0.0
    rows: list[dict[str, Any]] = field(default_factory=list)
    detail: str = ""


def scripts(only: list[str]) -> list[Path]:
    found = sorted(p for p in BENCH.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_"))
    return [p for p in found if not only or any(o in p.stem for o in only)]


def supports_json(path: Path) -> bool:
    return "--json" in path.read_text(encoding="utf-8")


def figures(stdout: str) -> list[dict[str, Any]]:
    """The JSON lines of a benchmark's output that name a measured path; anything else it printed is ignored."""
    rows = []
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and "path" in row:
            rows.append(row)
    return rows


def run(path: Path, *, full: bool, timeout_s: float) -> Outcome:
    name = path.relative_to(ROOT).as_posix()
    if not supports_json(path):
        return Outcome(name, "not supported", detail="no --json option")
    cmd = [sys.executable, str(path), "--json", *([] if full else ["--quick"])]
    started = time.perf_counter()
    # a session of its own: a benchmark that starts servers loses them with it on a timeout
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        return Outcome(name, "timed out", time.perf_counter() - started, figures(stdout or ""),
                       f"after {timeout_s:.0f} s")
    seconds = time.perf_counter() - started
    rows = figures(stdout)
    if proc.returncode != 0:
        tail = (stderr or stdout or "").strip().splitlines()[-1:] or [""]
        return Outcome(name, "failed", seconds, rows, f"exit {proc.returncode}: {tail[0][:200]}")
    if not rows:
        return Outcome(name, "failed", seconds, detail="no JSON figures printed")
    return Outcome(name, "ok", seconds, rows)


def _number(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if unit == "B" or (isinstance(value, int) and abs(value) >= 10_000):
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _met(value: Any) -> str:
    return {True: "[green]met[/]", False: "[red]not met[/]"}.get(value, "—") if isinstance(value, bool | None) \
        else str(value)


def table(outcomes: list[Outcome], *, full: bool) -> Table:
    t = Table(title=f"zonegeo benchmarks ({'full' if full else '--quick'})", show_lines=False)
    for column, justify in (("script", "left"), ("path", "left"), ("zonegeo", "right"), ("floor", "right"),
                            ("unit", "left"), ("ratio", "right"), ("target", "left"), ("met", "left"),
                            ("note", "left")):
        t.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for o in outcomes:
        for row in o.rows:
            unit = str(row.get("unit", ""))
            t.add_row(o.script, str(row["path"]), _number(row.get("zonegeo"), unit), _number(row.get("floor"), unit),
                      unit, _number(row.get("ratio")), str(row.get("target", "")), _met(row.get("met")),
                      str(row.get("note", "")))
        if o.status != "ok":
            t.add_row(o.script, f"[yellow]{o.status}[/]", "", "", "", "", "", "—", o.detail)
    return t


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the issue's sizes (no --quick): much longer")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per script (default 300, --full 3600)")
    parser.add_argument("--only", nargs="*", default=[], help="run the scripts whose name contains one of these")
    parser.add_argument("--json", action="store_true", help="also print every figure as a JSON line (with its script)")
    args = parser.parse_args()
    timeout_s = args.timeout or (3600.0 if args.full else 300.0)
    console = Console(stderr=True)
    outcomes = []
    for path in scripts(args.only):
        console.print(f"running {path.name} …", style="dim")
        outcome = run(path, full=args.full, timeout_s=timeout_s)
        console.print(f"  {outcome.status} in {outcome.seconds:.1f} s" + (f": {outcome.detail}" if outcome.detail else ""),
                      style="dim")
        outcomes.append(outcome)
    if args.json:
        for o in outcomes:
            for row in o.rows:
                print(json.dumps({"script": o.script, **row}, ensure_ascii=False))
            if o.status != "ok":
                print(json.dumps({"script": o.script, "status": o.status, "detail": o.detail}, ensure_ascii=False))
    out = Console(width=max(Console().width, 160), stderr=args.json)  # with --json, stdout holds JSON lines only
    out.print(table(outcomes, full=args.full))
    load = os.getloadavg()
    out.print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores; "
          f"total {sum(o.seconds for o in outcomes):.0f} s")
    return 1 if any(o.status in ("failed", "timed out") for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
