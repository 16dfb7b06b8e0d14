"""Load test of the public mix against a LOCAL server: pages, API reads, a report and a map, as anonymous clients.

Run a server first (e.g. `ZONEGEO_WORKERS=2 zonegeo serve --port 8000`), then:

    .venv/bin/python bench/load_public.py [--url http://127.0.0.1:8000] [--zone NJ-DEMO-01]
                                          [--connections 100 200] [--seconds 20] [--timeout 10]

Each level runs for a bounded time with that many concurrent connections (asyncio + httpx), each sending one
request after another from the mix. With `--wrk`, the load comes from wrk (Debian's `wrk` package) instead of
the Python client, which saturates near 100 req/s on a 2-core machine.
Prints throughput, p50/p99 latency, the statuses seen, errors (5xx and
failed connections) and timeouts. Loopback only: any other host is refused. Prints figures; asserts nothing
(the issue's goal: at 200 connections, 0 errors, 0 timeouts, p99 < 1 s and throughput >= that of 100)."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import random
import statistics
import sys
import time
from collections import Counter
from urllib.parse import urlparse

import httpx


def mix(zone: str) -> list[tuple[str, int]]:
    """(path, weight): what the public asks for most — list and zone pages, API reads — a report, a map."""
    return [("/", 20), (f"/zones/{zone}", 20), ("/api/zones", 20), (f"/api/zones/{zone}", 20),
            (f"/api/zones/{zone}/report", 10), (f"/zones/{zone}/map", 5), ("/public/index.html", 5)]


def loopback_only(url: str) -> None:
    host = urlparse(url).hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        sys.exit(f"refused: {host} is not a loopback address (this load test runs against a local server only)")


async def run_level(url: str, paths: list[tuple[str, int]], connections: int, seconds: float,
                    timeout: float) -> dict:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    errors = timeouts = 0
    deadline = time.monotonic() + seconds
    choices, weights = [p for p, _ in paths], [w for _, w in paths]
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)

    async def client_loop(client: httpx.AsyncClient, seed: int) -> None:
        nonlocal errors, timeouts
        rnd = random.Random(seed)
        while time.monotonic() < deadline:
            path = rnd.choices(choices, weights)[0]
            started = time.monotonic()
            try:
                r = await client.get(path)
                latencies.append(time.monotonic() - started)
                statuses[str(r.status_code)] += 1
                if r.status_code >= 500:
                    errors += 1
            except httpx.TimeoutException:
                timeouts += 1
            except httpx.HTTPError as exc:
                errors += 1
                statuses[type(exc).__name__] += 1

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as client:
        started = time.monotonic()
        await asyncio.gather(*(client_loop(client, i) for i in range(connections)))
        elapsed = time.monotonic() - started
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")

    return {"connections": connections, "requests": len(latencies), "rps": len(latencies) / elapsed,
            "p50_s": pct(0.50), "p99_s": pct(0.99), "mean_s": statistics.fmean(ordered) if ordered else float("nan"),
            "errors": errors, "timeouts": timeouts, "statuses": dict(statuses)}


WRK_SCRIPT = """
local paths = {%s}
local weights = {%s}
local bag = {}
for k, path in ipairs(paths) do for _ = 1, weights[k] do table.insert(bag, path) end end
local i = 0
request = function() i = i + 1; return wrk.format("GET", bag[(i %% #bag) + 1]) end
done = function(summary, latency, requests)
  io.write(string.format("WRK %%d %%f %%f %%f %%d %%d %%d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout))
end
"""


def run_level_wrk(url: str, paths: list[tuple[str, int]], connections: int, seconds: float, timeout: float) -> dict:
    """The same mix driven by wrk (C, Debian's package): a Python client saturates near 100 req/s on these
    2-core machines, well below what the server answers, so its latencies measure the client, not the server."""
    import subprocess
    import tempfile

    lua = WRK_SCRIPT % (", ".join(f'"{p}"' for p, _ in paths), ", ".join(str(w) for _, w in paths))
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(lua)
        script.flush()
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", f"--timeout={int(timeout)}s",
                              "-s", script.name, url], capture_output=True, text=True, timeout=seconds + 60).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    n, duration, p50_ms, p99_ms, bad_status, socket_errors, timeouts = line.split()[1:]
    return {"connections": connections, "requests": int(n), "rps": int(n) / float(duration),
            "p50_s": float(p50_ms) / 1000, "p99_s": float(p99_ms) / 1000, "errors": int(bad_status) + int(socket_errors),
            "timeouts": int(timeouts), "statuses": {"non-2xx/3xx": int(bad_status)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--zone", default="NJ-DEMO-01")
    parser.add_argument("--connections", type=int, nargs="+", default=[100, 200])
    parser.add_argument("--seconds", type=float, default=20.0, help="per level, at most 120")
    parser.add_argument("--timeout", type=float, default=10.0, help="per request")
    parser.add_argument("--wrk", action="store_true", help="drive the load with wrk (apt-get install wrk)")
    args = parser.parse_args()
    loopback_only(args.url)
    seconds = min(args.seconds, 120.0)
    paths = mix(args.zone)
    print(f"{args.url}  mix: {', '.join(p for p, _ in paths)}  {seconds:.0f} s per level")
    print(f"{'conn':>5} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'timeouts':>9}  statuses")
    for connections in args.connections:
        row = (run_level_wrk(args.url, paths, connections, seconds, args.timeout) if args.wrk
               else asyncio.run(run_level(args.url, paths, connections, seconds, args.timeout)))
        print(f"{row['connections']:>5} {row['requests']:>9} {row['rps']:>8.1f} {row['p50_s'] * 1000:>8.0f} "
              f"{row['p99_s'] * 1000:>8.0f} {row['errors']:>7} {row['timeouts']:>9}  {row['statuses']}")


if __name__ == "__main__":
    main()
