"""Benchmark (issue #15): start-up of the `zonegeo` command — `zonegeo --help`, `zonegeo check --help`,
`zonegeo due --help`, `zonegeo zones --help` — each a fresh process, against the floor `python -c "import zonegeo"`.

Each round runs the floor and every command once, in turn (alternating, so a change of machine load touches them
alike); the figure is the median wall time over the rounds. Start-up is the command's own wall time (target
≤ 0.3 s); the note gives its difference to the floor, and the median CPU time (user + system) of the process, which
a busy machine inflates far less than the wall time; the ratio is start-up / floor.

With --plain-help the commands run with TYPER_USE_RICH=0 (typer's plain help, without rich panels): what the rich
help screens cost, for comparison; the project's own help is the rich one.

Run: .venv/bin/python bench/cli_startup.py [--repeat N] [--quick] [--json] [--plain-help]
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wall_s(argv: list[str], extra_env: dict[str, str] | None = None, cpu: list[float] | None = None) -> float:
    """The wall time of one run; its CPU time is appended to ``cpu`` when given."""
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", **(extra_env or {})}
    cpu_before = _children_cpu_s()
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-2000:]}")
    if cpu is not None:
        cpu.append(_children_cpu_s() - cpu_before)
    return elapsed


def measure(repeat: int, extra_env: dict[str, str]) -> tuple[float, dict[str, float], dict[str, float]]:
    """Median wall time of the floor, and median wall and CPU time of each command."""
    floor_argv = [sys.executable, "-c", "import zonegeo"]
    cmd = zonegeo_command()
    wall_s(floor_argv)  # warm the page cache and the .pyc files before the first timed round
    for _, args in COMMANDS:
        wall_s(cmd + args, extra_env)
    floors: list[float] = []
    floor_cpu: list[float] = []
    runs: dict[str, list[float]] = {name: [] for name, _ in COMMANDS}
    cpu: dict[str, list[float]] = {name: [] for name, _ in COMMANDS}
    for _ in range(repeat):
        floors.append(wall_s(floor_argv, cpu=floor_cpu))
        for name, args in COMMANDS:
            runs[name].append(wall_s(cmd + args, extra_env, cpu[name]))
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
    parser.add_argument("--repeat", type=int, default=None, help="rounds (default 11; 5 with --quick)")
    parser.add_argument("--quick", action="store_true", help="5 rounds (bench/run_all.py)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line per measured path")
    parser.add_argument("--plain-help", action="store_true", help="run the commands with TYPER_USE_RICH=0")
    args = parser.parse_args()
    repeat = max(args.repeat or (5 if args.quick else 11), 1)
    extra_env = {"TYPER_USE_RICH": "0"} if args.plain_help else {}
    suffix = " (TYPER_USE_RICH=0)" if args.plain_help else ""
    load_before = load_note()
    floor, medians, cpu = measure(repeat, extra_env)
    load = f"{load_before} before, {load_note()} after"
    if args.json:
        for name, value in medians.items():
            print(json.dumps({"path": name + suffix, "zonegeo": round(value, 4), "floor": round(floor, 4), "unit": "s",
                              "ratio": round(value / floor, 2), "target": TARGET, "met": value <= TARGET_S,
                              "note": f"median of {repeat}; start-up − floor = {value - floor:+.3f} s; CPU {cpu[name]:.3f} s "
                                      f"(floor {cpu['floor']:.3f} s); {load}"},
                             ensure_ascii=False))
        return
    print(f"CLI start-up{suffix}, median wall time of {repeat} alternating rounds ({load})")
    print(f"{'path':<24}{'wall s':>9}{'− floor s':>11}{'CPU s':>8}{'target':>9}  met")
    print(f"{'python -c import zonegeo':<24}{floor:>9.3f}{'':>11}{cpu['floor']:>8.3f}")
    for name, value in medians.items():
        print(f"{name:<24}{value:>9.3f}{value - floor:>+11.3f}{cpu[name]:>8.3f}{TARGET_S:>9.1f}  "
              f"{'yes' if value <= TARGET_S else 'NO'}")


if __name__ == "__main__":
    main()
