"""Web sessions on the server (logout ends them, a replayed cookie is refused, the province lists and ends them),
login limits per account and per address with back-off, and the audit entries of logins, logouts, grants and
publishing (issue 11)."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import PASSWORD
from zonegeo.api.app import create_app
from zonegeo.db.session import session_factory, transaction

COOKIE = "zonegeo_session"


def browser(settings, address: str = "192.0.2.10", **kw) -> TestClient:
    return TestClient(create_app(settings), client=(address, 50000), **kw)


def form_token(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def log_in(c: TestClient, username: str, password: str = PASSWORD, **headers):
    token = form_token(c.get("/login").text)
    return c.post("/login", data={"username": username, "password": password, "csrf": token},
                  headers=headers, follow_redirects=False)


def new_user(engine, role: str = "applicant") -> str:
    from zonegeo.services import auth

    name = f"u-{uuid.uuid4().hex[:8]}"
    with transaction(session_factory(engine)) as session:
        auth.add_user(session=session, username=name, password=PASSWORD, role=role)
    return name


def audit_actions(client, obj: str) -> list[dict]:
    return client.get("/api/audit", params={"object": obj}).json()["data"]


def test_logout_ends_the_session_on_the_server_and_a_replayed_cookie_is_refused(settings, tokens, client):
    with browser(settings) as b:
        assert log_in(b, "province-bureau").status_code == 303
        stolen = b.cookies[COOKIE]
        page = b.get("/worklist")
        assert page.status_code == 200 and 'action="/logout"' in page.text
        assert b.post("/logout", data={"csrf": form_token(page.text)}, follow_redirects=False).status_code == 303
    with browser(settings, cookies={COOKIE: stolen}) as replay:
        r = replay.get("/api/worklist")
        assert r.status_code == 401 and r.json()["code"] == "login_required"
        assert replay.get("/worklist", headers={"Accept": "text/html"}, follow_redirects=False).status_code == 303
    entries = audit_actions(client, "user/province-bureau")
    assert entries[0]["action"] == "logout" and entries[0]["actor"] == "province-bureau"


def test_the_province_lists_and_ends_a_users_sessions(settings, engine, client, tokens):
    name = new_user(engine)
    with browser(settings, address="192.0.2.20") as b:
        assert log_in(b, name, **{"User-Agent": "TestBrowser/1.0"}).status_code == 303
        assert b.get("/api/worklist").status_code == 200
        listed = client.get(f"/api/users/{name}/sessions").json()["data"]
        assert [(s["address"], s["user_agent"], s["active"]) for s in listed] == [("192.0.2.20", "TestBrowser/1.0", True)]
        ended = client.delete(f"/api/users/{name}/sessions/{listed[0]['id']}")
        assert ended.status_code == 200 and ended.json() == {"ended": 1}
        assert b.get("/api/worklist").status_code == 401  # the same browser, the same cookie: refused now
    assert client.get(f"/api/users/{name}/sessions").json()["data"] == []
    history = client.get(f"/api/users/{name}/sessions", params={"include_ended": True}).json()["data"]
    assert history[0]["ended_by"] == "ended_by_province"
    assert audit_actions(client, f"user/{name}")[0]["action"] == "sessions_ended"
    assert client.get("/api/users/nobody-here/sessions").status_code == 404


def test_a_deactivated_user_loses_every_session(settings, engine, tokens):
    from zonegeo.services import auth

    name = new_user(engine)
    with browser(settings, address="192.0.2.21") as b:
        assert log_in(b, name).status_code == 303
        with transaction(session_factory(engine)) as session:
            auth.revoke(session=session, username=name)
        assert b.get("/api/worklist").status_code == 401
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM web_session s JOIN app_user u ON u.id = s.user_id "
                                "WHERE u.username = :n AND s.ended_at IS NULL"), {"n": name}) == 0


def expire_locks(engine, key: str) -> None:
    """The lock has run out (as if its minutes had passed); the count of failures is kept."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE login_throttle SET locked_until = now() - interval '1 second' WHERE key = :k"),
                     {"k": key})


def test_failed_logins_lock_the_account_with_back_off(settings, engine, client, tokens):
    name = new_user(engine)
    with browser(settings, address="192.0.2.30") as b:
        for _ in range(5):
            r = log_in(b, name, "wrong password")
            assert r.status_code == 401 and r.json()["code"] == "bad_credentials"
        locked = log_in(b, name)  # the right password, but locked: not even checked
        assert locked.status_code == 429 and locked.json()["code"] == "login_locked"
        assert 55 <= int(locked.headers["Retry-After"]) <= 60
        assert "连续5次" in locked.json()["message"] and "锁定" in locked.json()["message"]
        page = log_in(b, name, Accept="text/html")
        assert page.status_code == 429 and "已暂时锁定" in page.text and "连续5次" in page.text
    with browser(settings, address="192.0.2.31") as elsewhere:  # per account: another address is locked out too
        assert log_in(elsewhere, name).status_code == 429
        expire_locks(engine, name)
        assert log_in(elsewhere, name, "wrong again").status_code == 401
        doubled = log_in(elsewhere, name)
        assert doubled.status_code == 429 and 115 <= int(doubled.headers["Retry-After"]) <= 120
        expire_locks(engine, name)
        assert log_in(elsewhere, name).status_code == 303
    with engine.connect() as conn:  # a success forgets the account's failures
        assert conn.scalar(text("SELECT count(*) FROM login_throttle WHERE scope = 'account' AND key = :k"),
                           {"k": name}) == 0
    actions = [e["action"] for e in audit_actions(client, f"user/{name}")]
    assert actions[0] == "login" and actions.count("login_failed") == 6 and "login_refused" in actions
    failed = next(e for e in audit_actions(client, f"user/{name}") if e["action"] == "login_failed")
    assert failed["after"]["address"] in ("192.0.2.30", "192.0.2.31") and failed["actor"] == "anonymous"


def test_failed_logins_from_one_address_lock_that_address(settings, engine, tokens):
    address = f"198.51.100.{uuid.uuid4().int % 200 + 1}"
    with browser(settings, address=address) as b:
        for i in range(20):
            assert log_in(b, f"guess-{i}", "guess").status_code == 401
        r = log_in(b, "province-bureau")
        assert r.status_code == 429 and r.json()["detail"]["scope"] == "address"
        assert "连续20次" in r.json()["message"]
    with browser(settings, address="192.0.2.99") as other:
        assert log_in(other, "province-bureau").status_code == 303


def test_the_login_page_states_the_limit(anon):
    page = anon.get("/login")
    assert "同一账户连续5次、同一地址连续20次登录失败后暂时锁定" in page.text


@pytest.mark.parametrize("relation", ["applicant", "expert"])
def test_user_assign_is_audited(engine, cli, database_url, client, tokens, relation):
    name = new_user(engine, relation)
    result = cli("user", "assign", name, "NJ-DEMO-01", "--as", relation, env={"ZONEGEO_DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    entry = audit_actions(client, "zone/NJ-DEMO-01")[0]
    assert (entry["action"], entry["after"]) == ("member_added", {"username": name, "relation": relation})
    assert entry["actor"] == "cli"


def test_publish_is_audited(cli, database_url, client, tokens, tmp_path):
    result = cli("publish", "-o", tmp_path / "site", env={"ZONEGEO_DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    entry = audit_actions(client, "site")[0]
    assert entry["action"] == "publish" and entry["after"]["out_dir"] == str(tmp_path / "site")
