"""Benchmark (issue #15): start-up of the `zonegeo` command — `zonegeo --help`, `zonegeo check --help`,
`zonegeo due --help`, `zonegeo zones --help` — each a fresh process, against the floor `python -c "import zonegeo"`.

Each round runs the floor and every command once, in turn (alternating, so a change of machine load touches them
alike); the figure is the median wall time over the rounds. Start-up is the command's own wall time (target
≤ 0.3 s); the note gives its difference to the floor and the ratio is start-up / floor.

Run: .venv/bin/python bench/cli_startup.py [--repeat N] [--quick] [--json]
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 0.3
TARGET = "CLI start-up ≤ 0.3 s (wall time of the command's process)"
COMMANDS = (("zonegeo --help", ["--help"]), ("zonegeo check --help", ["check", "--help"]),
            ("zonegeo due --help", ["due", "--help"]), ("zonegeo zones --help", ["zones", "--help"]))
ROOT = Path(__file__).resolve().parents[1]


def zonegeo_command() -> list[str]:
    """The installed console script beside this interpreter (as a user runs it), else the same entry point."""
    script = Path(sys.executable).with_name("zonegeo")
    if script.exists():
        return [str(script)]
    found = shutil.which("zonegeo")
    return [found] if found else [sys.executable, "-c", "from zonegeo.cli import app; app()"]


def wall_s(argv: list[str]) -> float:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-2000:]}")
    return elapsed


def measure(repeat: int) -> tuple[float, dict[str, float]]:
    floor_argv = [sys.executable, "-c", "import zonegeo"]
    cmd = zonegeo_command()
    wall_s(floor_argv)  # warm the page cache and the .pyc files before the first timed round
    for _, args in COMMANDS:
        wall_s(cmd + args)
    floors: list[float] = []
    runs: dict[str, list[float]] = {name: [] for name, _ in COMMANDS}
    for _ in range(repeat):
        floors.append(wall_s(floor_argv))
        for name, args in COMMANDS:
            runs[name].append(wall_s(cmd + args))
    return statistics.median(floors), {name: statistics.median(times) for name, times in runs.items()}


def load_note() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return ""
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=None, help="rounds (default 11; 5 with --quick)")
    parser.add_argument("--quick", action="store_true", help="5 rounds (bench/run_all.py)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line per measured path")
    args = parser.parse_args()
    repeat = max(args.repeat or (5 if args.quick else 11), 1)
    load_before = load_note()
    floor, medians = measure(repeat)
    load = f"{load_before} before, {load_note()} after"
    if args.json:
        for name, value in medians.items():
            print(json.dumps({"path": name, "zonegeo": round(value, 4), "floor": round(floor, 4), "unit": "s",
                              "ratio": round(value / floor, 2), "target": TARGET, "met": value <= TARGET_S,
                              "note": f"median of {repeat}; start-up − floor = {value - floor:+.3f} s; {load}"},
                             ensure_ascii=False))
        return
    print(f"CLI start-up, median wall time of {repeat} alternating rounds ({load})")
    print(f"{'path':<24}{'wall s':>9}{'− floor s':>11}{'target':>9}  met")
    print(f"{'python -c import zonegeo':<24}{floor:>9.3f}{'':>11}{'':>9}")
    for name, value in medians.items():
        print(f"{name:<24}{value:>9.3f}{value - floor:>+11.3f}{TARGET_S:>9.1f}  {'yes' if value <= TARGET_S else 'NO'}")


if __name__ == "__main__":
    main()
