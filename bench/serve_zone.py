"""Request paths against a bare FastAPI floor, and the load test of the public mix (issue #15).

    .venv/bin/python bench/serve_zone.py [--quick] [--json] [--workers N] [--seconds S] [--load]

Builds a throwaway migrated database with the demo zone imported (its layout approved) and published, a province
user with a web session, and the public site written by `zonegeo publish`; serves the app with uvicorn in a child
process; fetches the report JSON, the zone page and the map HTML of the demo zone once (anonymous and logged in),
then serves those same bytes from a bare FastAPI app in another child (the floor) and drives both with wrk
(Debian's `wrk`, 32 connections), alternating, median of 3 runs. A file of the public site (`maps/`) is measured
the same way against `python -m http.server`. `--load`: the public mix of bench/load_public.py at 200 connections
for 60 s (--quick: 15 s), with wrk: errors, timeouts, p99.

Everything runs on loopback; every server is a child of this script and is stopped when it ends. Prints figures
and asserts nothing. The floor runs with the same uvicorn options and worker count as the app."""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchlib import report, throwaway_database

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
ZONE = "NJ-DEMO-01"
PATHS = {"report JSON": f"/api/zones/{ZONE}/report", "zone page": f"/zones/{ZONE}", "map HTML": f"/zones/{ZONE}/map"}
DEFAULT_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


# ---- the floor: bare FastAPI returning stored bytes ----------------------------------------------------------

def floor_app():  # uvicorn factory
    """Bare FastAPI: each stored (path, body, content type) of $ZONEGEO_BENCH_FLOOR answered as it is."""
    from fastapi import FastAPI
    from fastapi.responses import Response

    app = FastAPI()
    folder = Path(os.environ["ZONEGEO_BENCH_FLOOR"])

    def answering(body: bytes, media_type: str):
        async def handler() -> Response:  # async: no thread pool, no parameters
            return Response(body, media_type=media_type)

        return handler

    for k, entry in enumerate(json.loads((folder / "index.json").read_text())):
        app.add_api_route(entry["path"], answering((folder / entry["file"]).read_bytes(), entry["media_type"]),
                          methods=["GET"], name=f"r{k}")
    return app


# ---- set-up ----------------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_demo(url: str, secret_key: str) -> str:
    """The demo zone (approved layout), published; a province user; returns a signed session cookie of that
    user, made the way SessionMiddleware makes one (services/sessions.py keeps the session on the server)."""
    from itsdangerous import TimestampSigner
    from sqlalchemy import create_engine

    from zonegeo.db.session import session_factory, transaction
    from zonegeo.services import auth, sessions, zones
    from zonegeo.services.publishing import set_published

    engine = create_engine(url)
    with transaction(session_factory(engine)) as session:
        zones.import_zone(session=session, folder=ROOT / "data" / "demo")
        set_published(session=session, code=ZONE, published=True)
        user = auth.add_user(session=session, username="bench-province", password=secrets.token_hex(16),
                             role="province", city=None)
        token = sessions.start(session=session, user=user, address="127.0.0.1", user_agent="bench")
    engine.dispose()
    data = base64.b64encode(json.dumps({"sid": token, "csrf": secrets.token_urlsafe(24)}).encode())
    return "zonegeo_session=" + TimestampSigner(secret_key).sign(data).decode()


def publish_site(env: dict[str, str], out: Path) -> None:
    subprocess.run([str(ROOT / ".venv" / "bin" / "zonegeo"), "publish", "-o", str(out)], env=env, check=True,
                   capture_output=True, timeout=300)


@contextmanager
def server(args: list[str], env: dict[str, str], port: int, probe: str = "/") -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=5):
                    break
            except OSError:
                if proc.poll() is not None:
                    stderr = (proc.stderr.read() if proc.stderr else b"").decode()[-2000:]
                    raise RuntimeError(f"server exited: {stderr}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server on port {port} did not start") from None
                time.sleep(0.3)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


NGINX_CONF = """worker_processes %(workers)d;
daemon off;
pid %(tmp)s/nginx.pid;
error_log %(tmp)s/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    include /etc/nginx/mime.types;
    client_body_temp_path %(tmp)s/body; proxy_temp_path %(tmp)s/proxy; fastcgi_temp_path %(tmp)s/fastcgi;
    uwsgi_temp_path %(tmp)s/uwsgi; scgi_temp_path %(tmp)s/scgi;
    server { listen 127.0.0.1:%(port)d; root %(root)s; }
}
"""


def static_server(site: Path, port: int, workers: int, tmp: Path) -> tuple[list[str], str]:
    """The static floor: nginx (Debian's nginx-light) when installed, as the deployment would put in front;
    else Python's http.server speaking HTTP/1.1 (keep-alive), a much weaker floor."""
    nginx = shutil.which("nginx") or (shutil.which("nginx", path="/usr/sbin"))
    if nginx:
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF % {"workers": workers, "tmp": tmp, "port": port, "root": site})
        return [nginx, "-c", str(conf), "-e", str(tmp / "nginx-error.log")], "nginx"
    code = ("import functools, http.server as h, sys; h.SimpleHTTPRequestHandler.protocol_version = 'HTTP/1.1'; "
            "h.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), functools.partial("
            "h.SimpleHTTPRequestHandler, directory=sys.argv[2])).serve_forever()")
    return [PYTHON, "-c", code, str(port), str(site)], "python http.server (HTTP/1.1)"


def uvicorn_args(target: str, port: int, workers: int) -> list[str]:
    return [PYTHON, "-m", "uvicorn", target, "--factory", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--no-access-log", "--log-level", "warning"]


def fetch(url: str, cookie: str = "") -> tuple[bytes, str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=60) as r:
        return r.read(), r.headers.get("content-type", "application/octet-stream")


# ---- wrk -------------------------------------------------------------------------------------------------------

WRK_DONE = """
done = function(summary, latency, requests)
  io.write(string.format("WRK %d %f %f %d %d %d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(99) / 1e3, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout))
end
"""


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def wrk(url: str, seconds: float, connections: int = 32, cookie: str = "") -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_DONE)
        script.flush()
        cmd = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout=10s", "-s", script.name]
        if cookie:
            cmd += ["-H", f"Cookie: {cookie}"]
        out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 60).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    n, duration, p99_ms, bad, sock, timeouts = line.split()[1:]
    return {"rps": int(n) / float(duration), "p99_s": float(p99_ms) / 1000, "errors": int(bad) + int(sock),
            "timeouts": int(timeouts)}


def alternate(ours: str, floor: str, seconds: float, repeats: int, cookie: str = "") -> tuple[float, float, int]:
    """Median req/s of the app and of the floor, run one after the other ``repeats`` times; errors seen."""
    a: list[float] = []
    b: list[float] = []
    errors = 0
    for _ in range(repeats):
        for target, into in ((ours, a), (floor, b)):
            row = wrk(target, seconds, cookie=cookie)
            into.append(row["rps"])
            errors += int(row["errors"] + row["timeouts"])
    return statistics.median(a), statistics.median(b), errors


def row(path: str, ours: float, floor: float, unit: str, ratio: float, target: str, met: bool, note: str) -> dict:
    return {"path": path, "zonegeo": round(ours, 3), "floor": round(floor, 3), "unit": unit, "ratio": round(ratio, 3),
            "target": target, "met": met, "note": note}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 s per wrk run, load 15 s (under a minute)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of the app and of the floor")
    parser.add_argument("--seconds", type=float, default=None, help="per wrk run (default 10; --quick 1)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--load", action="store_true", help="the 200-connection load test of the public mix only")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    seconds = args.seconds or (1.0 if args.quick else 10.0)
    secret_key = secrets.token_hex(32)
    rows: list[dict] = []
    with throwaway_database("zonegeo_bench_serve") as url, tempfile.TemporaryDirectory(prefix="zonegeo-bench-") as tmp:
        progress("database migrated")
        cookie = load_demo(url, secret_key)
        progress("demo zone loaded")
        site, floor_dir = Path(tmp) / "maps", Path(tmp) / "floor"
        env = {**os.environ, "ZONEGEO_DATABASE_URL": url, "ZONEGEO_SECRET_KEY": secret_key,
               "ZONEGEO_MAPS_DIR": str(site), "ZONEGEO_TILES": "OpenStreetMap", "PYTHONPATH": str(ROOT / "bench")}
        publish_site(env, site)
        progress("public site written")
        port, floor_port, static_port = free_port(), free_port(), free_port()
        with server(uvicorn_args("zonegeo.api.app:create_app_from_environment", port, args.workers), env, port):
            base = f"http://127.0.0.1:{port}"
            progress("app serving")
            if args.load:
                rows.append(load_test(base, 15.0 if args.quick else 60.0))
            else:
                floor_dir.mkdir()
                index: list[dict[str, Any]] = []
                for k, (name, path) in enumerate(PATHS.items()):
                    for who, sent in (("anonymous", ""), ("logged in", cookie)):
                        body, media_type = fetch(base + path, sent)
                        floor_path = f"/f{k}/{'a' if not sent else 'l'}"
                        (floor_dir / f"{k}{who[0]}").write_bytes(body)
                        index.append({"path": floor_path, "file": f"{k}{who[0]}", "media_type": media_type,
                                      "name": name, "who": who, "ours": path, "cookie": sent, "bytes": len(body)})
                (floor_dir / "index.json").write_text(json.dumps(index))
                static_file = next(p for p in sorted(site.rglob("*.html")) if p.name != "index.html")
                static_path = "/" + static_file.relative_to(site).as_posix()
                floor_env = {**env, "ZONEGEO_BENCH_FLOOR": str(floor_dir)}
                os.chmod(tmp, 0o755)  # nginx's workers read the site as another user
                static_cmd, static_name = static_server(site, static_port, args.workers, Path(tmp))
                with server(uvicorn_args("serve_zone:floor_app", floor_port, args.workers), floor_env, floor_port,
                            probe=index[0]["path"]), server(static_cmd, env, static_port, probe=static_path):
                    progress("floors serving")
                    for entry in index:
                        progress(f"{entry['name']} ({entry['who']})")
                        ours, floor, errors = alternate(base + entry["ours"], f"http://127.0.0.1:{floor_port}"
                                                        + entry["path"], seconds, args.repeats, entry["cookie"])
                        rows.append(row(f"{entry['name']} ({entry['who']})", ours, floor, "req/s", ours / floor,
                                        ">= 30 % of bare FastAPI returning the same bytes (wrk, 32 connections)",
                                        ours / floor >= 0.30 and errors == 0,
                                        f"{entry['bytes']} bytes; median of {args.repeats} x {seconds:g} s; "
                                        f"{args.workers} worker(s) each; errors {errors}"))
                    ours, floor, errors = alternate(base + "/public" + static_path,
                                                    f"http://127.0.0.1:{static_port}{static_path}", seconds,
                                                    args.repeats)
                    rows.append(row("maps/ file (public site)", ours, floor, "req/s", ours / floor,
                                    ">= 50 % of a static server, or served by the web server in front",
                                    ours / floor >= 0.50 and errors == 0,
                                    f"{static_path} ({static_file.stat().st_size} bytes) via the app's /public "
                                    f"mount vs {static_name}; errors {errors}; deployed: nginx in front serves maps/ (README)"))
    report(rows, args.json)


def load_test(base: str, seconds: float) -> dict:
    """The public mix of bench/load_public.py at 200 connections, driven by wrk."""
    sys.path.insert(0, str(ROOT / "bench"))
    from load_public import mix, run_level_wrk

    wrk_row = run_level_wrk(base, mix(ZONE), 200, seconds, 10.0)
    met = wrk_row["errors"] == 0 and wrk_row["timeouts"] == 0 and wrk_row["p99_s"] < 1.0
    return row("public mix, 200 connections", wrk_row["p99_s"], 1.0, "s", wrk_row["p99_s"] / 1.0,
               "200 connections for 60 s: 0 errors, 0 timeouts, p99 < 1 s", met,
               f"{seconds:g} s; {wrk_row['requests']} requests, {wrk_row['rps']:.0f} req/s, p50 "
               f"{wrk_row['p50_s'] * 1000:.0f} ms, errors {wrk_row['errors']}, timeouts {wrk_row['timeouts']}")


if __name__ == "__main__":
    main()
