"""Two app processes on one database, as behind a load balancer (issue #15: the app is stateless): a login made
through one is valid on the other, with its CSRF token; a write through one is seen by the other's public cache
within its TTL; a logout through one ends the session on both; login failures count on every process.

What stays per process, by design: the public cache's responses (keyed by the newest audit id, read from the
database at most once per TTL, so safe to lose), the header's to-do counts (a minute at most), and admission
control (api/admission.py: it guards the process's own database pool). Sessions, CSRF tokens (in the signed
cookie, the key shared through ZONEGEO_SECRET_KEY), login and objection throttles live in PostgreSQL."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator

import httpx
import pytest

from tests import formats
from tests.conftest import PASSWORD, app_process, import_demo_copy
from zonegeo.db.session import session_factory, transaction

pytestmark = pytest.mark.slow  # two real server processes

TTL_S = 1.0  # the public cache's TTL in both processes (the deployment default)
COOKIE = "zonegeo_session"


@pytest.fixture(scope="module")
def servers(database_url, tokens) -> Iterator[tuple[str, str]]:
    """Two uvicorn processes on two ports (so each answer names its process), on the session's database, with
    one secret key between them, as every host behind a load balancer must have."""
    env = {"ZONEGEO_DATABASE_URL": database_url, "ZONEGEO_SECRET_KEY": secrets.token_hex(32),
           "ZONEGEO_PUBLIC_CACHE_TTL_S": str(TTL_S)}
    with app_process(env) as a_url, app_process(env) as b_url:
        yield a_url, b_url


def _form_token(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None, page[:500]
    return match.group(1)


def _client(url: str) -> httpx.Client:
    # Origin names the host the request goes to, as a browser behind one public name would send it
    return httpx.Client(base_url=url, headers={"Origin": url}, follow_redirects=False, timeout=60)


def _log_in(c: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    return c.post("/login", data={"username": username, "password": password,
                                  "csrf": _form_token(c.get("/login").text)})


def _hand_over(source: httpx.Client, target: httpx.Client) -> None:
    """The session cookie of one process's client given to the other's (a load balancer's next request)."""
    target.cookies.set(COOKIE, source.cookies[COOKIE])


def test_a_login_and_its_csrf_token_hold_on_the_other_worker(servers, tmp_path, engine):
    a_url, b_url = servers
    code = import_demo_copy(engine, tmp_path, "TWOW", published=True)
    with _client(a_url) as a, _client(b_url) as b:
        assert _log_in(a, "province-bureau").status_code == 303
        token = _form_token(a.get("/worklist").text)
        _hand_over(a, b)
        assert b.get("/worklist").status_code == 200  # logged in on the other process
        path = formats.write_geojson(tmp_path / "draft.geojson")
        upload = {"files": [("files", (path.name, path.read_bytes()))], "data": {"roles": ["boundary"]}}
        refused = b.post(f"/api/zones/{code}/uploads", **upload)
        assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
        done = b.post(f"/api/zones/{code}/uploads", headers={"X-CSRF-Token": token}, **upload)
        assert done.status_code == 201, done.text
        assert done.json()["version"] == 2 and done.json()["state"] == "draft"
        # the draft uploaded through one process is on the zone's page of the other
        assert [v["number"] for v in a.get(f"/api/zones/{code}").json()["versions"]] == [1, 2]
        # a logout through one process ends the session on both (sessions are rows in PostgreSQL)
        _hand_over(b, a)
        assert a.post("/logout", data={"csrf": token}).status_code == 303
        after, nobody = b.get("/worklist"), httpx.get(f"{b_url}/worklist", follow_redirects=False)
        assert after.status_code == nobody.status_code != 200  # as for a visitor who never logged in


def test_the_public_cache_of_one_worker_sees_a_write_made_through_the_other(servers, tmp_path, engine):
    a_url, b_url = servers
    code = import_demo_copy(engine, tmp_path, "TWOC", published=True)
    with _client(a_url) as a, httpx.Client(base_url=b_url, timeout=60) as public:
        first = public.get(f"/api/zones/{code}")
        assert first.status_code == 200 and first.json()["version"] == 1
        etag = first.headers["etag"]
        assert public.get(f"/api/zones/{code}", headers={"If-None-Match": etag}).status_code == 304  # cached
        assert _log_in(a, "province-bureau").status_code == 303
        token = _form_token(a.get("/worklist").text)
        path = formats.write_geojson(tmp_path / "draft.geojson")
        writes = {"headers": {"X-CSRF-Token": token}}
        assert a.post(f"/api/zones/{code}/uploads", files=[("files", (path.name, path.read_bytes()))],
                      data={"roles": ["boundary"]}, **writes).status_code == 201
        assert a.post(f"/api/zones/{code}/versions/2/submit", json={}, **writes).status_code == 200
        approved = a.post(f"/api/zones/{code}/versions/2/approve", json={}, **writes)
        assert approved.status_code == 200, approved.text
        written = time.monotonic()
        while True:  # the other process trusts its cached state for TTL_S at most, then reads it again
            seen = public.get(f"/api/zones/{code}")
            if seen.json()["version"] == 2:
                break
            assert time.monotonic() - written < TTL_S + 10, "the other process kept serving the old version"
            time.sleep(0.1)
        assert seen.headers["etag"] != etag


def test_login_failures_count_on_every_worker(servers, engine):
    """Five failed logins spread over both processes lock the account on both (the throttle is a table)."""
    from zonegeo.services import auth

    username = f"two-workers-{secrets.token_hex(3)}"
    with transaction(session_factory(engine)) as session:
        auth.add_user(session=session, username=username, password=PASSWORD, role="province")
    a_url, b_url = servers
    with _client(a_url) as a, _client(b_url) as b:
        for k in range(auth.ACCOUNT_LIMIT):
            r = _log_in(a if k % 2 else b, username, "wrong password")
            assert r.status_code in (401, 429), r.text
        locked = _log_in(a, username)
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
        assert _log_in(b, username).status_code == 429
