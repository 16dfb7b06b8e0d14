"""Anonymous public reads are served from memory with an ETag until something is written; logged-in reads never."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import event

from tests.conftest import app_client, bearer, import_demo_copy
from zonegeo.api.app import create_app
from zonegeo.db.session import session_factory, transaction
from zonegeo.services.publishing import set_published


def statements(app):
    """Count the SQL statements the app's engine runs from now on."""
    seen: list[str] = []
    event.listen(app.state.uow.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_a_repeated_public_read_does_no_work_and_answers_304(settings, engine, tmp_path, tokens):
    code = import_demo_copy(engine, tmp_path, "CACHE", published=True)
    app = create_app(settings.model_copy(update={"public_cache_ttl_s": 60}))
    with TestClient(app) as anon:
        first = anon.get(f"/api/zones/{code}/report")
        assert first.status_code == 200 and first.headers["etag"]
        seen = statements(app)
        again = anon.get(f"/api/zones/{code}/report")
        assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
        assert seen == []  # no query, no check, no rendering
        assert again.headers["x-request-id"] != first.headers["x-request-id"]
        assert "content-security-policy" in again.headers
        cond = anon.get(f"/api/zones/{code}/report", headers={"If-None-Match": first.headers["etag"]})
        assert cond.status_code == 304 and cond.content == b""
        page = anon.get(f"/zones/{code}")
        assert page.status_code == 200 and anon.get(f"/zones/{code}").text == page.text


def test_a_write_changes_what_the_public_sees_at_once(settings, engine, tmp_path, tokens):
    code = import_demo_copy(engine, tmp_path, "CACHEW", published=True)
    with TestClient(create_app(settings.model_copy(update={"public_cache_ttl_s": 0}))) as anon:
        before = anon.get(f"/api/zones/{code}")
        assert before.status_code == 200
        with transaction(session_factory(engine)) as session:
            set_published(session=session, code=code, published=False)
        after = anon.get(f"/api/zones/{code}", headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 404  # unpublished: neither the cached body nor a 304


def test_logged_in_reads_bypass_the_cache(settings, engine, tmp_path, tokens):
    code = import_demo_copy(engine, tmp_path, "CACHEL", published=True)
    with app_client(settings, headers=bearer(tokens, "province")) as c:
        r = c.get(f"/api/zones/{code}/report")
        assert r.status_code == 200 and "etag" not in r.headers


def test_within_the_ttl_a_write_through_the_same_process_still_shows_at_once(settings, engine, tmp_path, tokens):
    code = import_demo_copy(engine, tmp_path, "CACHET", published=True)
    app = create_app(settings.model_copy(update={"public_cache_ttl_s": 3600}))
    with TestClient(app) as c:
        assert c.get(f"/api/zones/{code}").status_code == 200  # cached, state trusted for an hour
        r = c.post(f"/api/zones/{code}/changes", json={"kind": "other", "occurred_on": "2026-03-02"},
                   headers=bearer(tokens, "province"))
        assert r.status_code == 201
        seen = statements(app)
        c.get(f"/api/zones/{code}")
        assert any("audit_log" in s for s in seen)  # the write made this process ask for the state again


def test_a_session_cookie_written_with_a_space_is_a_session_never_the_publics_answer(settings, web_as, anon,
                                                                                      demo_zone):
    """``Cookie: zonegeo_session =…`` logs the user in (the session middleware strips the space): what that user
    sees must never be kept as the public's answer."""
    cookie = web_as("province-bureau").cookies.get("zonegeo_session")
    with app_client(settings) as crafted:
        seen = crafted.get("/api/zones", headers={"Cookie": f"zonegeo_session ={cookie}"})
    assert seen.status_code == 200 and demo_zone in [z["code"] for z in seen.json()["data"]]  # logged in
    public = anon.get("/api/zones")
    assert public.status_code == 200 and demo_zone not in [z["code"] for z in public.json()["data"]]
