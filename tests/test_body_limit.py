"""Request bodies are bounded before they are read: anonymous bodies stay small, every body has a cap."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from tests.conftest import bearer, import_demo_copy
from zonegeo.api.app import create_app
from zonegeo.api.body_limit import ANONYMOUS_MAX_BYTES, BodyLimitMiddleware


def run_asgi(headers: list[tuple[bytes, bytes]], *, max_bytes: int = 1000):
    """Drive the middleware directly: a body that must never be read, and the app behind it never called."""
    sent: list[dict] = []

    async def app(scope, receive, send):  # pragma: no cover - reaching it is the failure
        raise AssertionError("the app was called")

    async def receive():
        raise AssertionError("the body was read")

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/zones/X/uploads", "headers": headers}
    asyncio.run(BodyLimitMiddleware(app, max_bytes=max_bytes, session_cookie="zonegeo_session")(scope, receive, send))
    return sent[0]["status"], sent[1]["body"].decode()


def test_an_anonymous_body_over_the_small_limit_is_refused_unread():
    status, body = run_asgi([(b"content-length", str(1 << 30).encode())])
    assert status == 401 and "login_required" in body and "登录" in body


def test_a_declared_length_over_the_cap_is_refused_unread():
    status, body = run_asgi([(b"content-length", b"1001"), (b"authorization", b"Bearer t")])
    assert status == 413 and "request_too_large" in body


def test_a_declared_length_at_the_cap_passes():
    with pytest.raises(AssertionError, match="the app was called"):
        run_asgi([(b"content-length", b"1000"), (b"authorization", b"Bearer t")])


def test_a_bad_content_length_is_400():
    status, body = run_asgi([(b"content-length", b"-5"), (b"authorization", b"Bearer t")])
    assert status == 400 and "Content-Length" in body


def test_a_chunked_body_is_cut_at_the_cap_and_never_read_to_the_end():
    pulled, sent, seen_by_app = 0, [], []

    async def app(scope, receive, send):  # reads like a multipart parser: until the body ends or the client goes
        while True:
            message = await receive()
            seen_by_app.append(message["type"])
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"stored"})

    async def receive():  # a chunked 1 GiB body, 1 MiB at a time, with no Content-Length
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * (1 << 20), "more_body": pulled < 1024}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/zones/X/uploads",
             "headers": [(b"authorization", b"Bearer t"), (b"transfer-encoding", b"chunked")]}
    asyncio.run(BodyLimitMiddleware(app, max_bytes=3 << 20, session_cookie="zonegeo_session")(scope, receive, send))
    assert pulled == 4  # 4 MiB read, the cap being 3 MiB: the rest never
    assert seen_by_app[-1] == "http.disconnect"
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [413]
    assert b"stored" not in b"".join(m.get("body", b"") for m in sent)


def test_an_authenticated_upload_over_the_request_cap_is_413_and_stores_nothing(settings, tokens, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "BIG")
    small = settings.model_copy(update={"max_request_mb": 1})
    with TestClient(create_app(small), headers=bearer(tokens, "province")) as c:
        r = c.post(f"/api/zones/{code}/uploads", files=[("files", ("b.geojson", b" " * (2 << 20)))],
                   data={"roles": ["boundary"]})
        assert r.status_code == 413 and r.json()["code"] == "request_too_large"
        assert [v["number"] for v in c.get(f"/api/zones/{code}/versions").json()["data"]] == [1]


def test_small_anonymous_forms_still_work(anon):
    assert len(b"username=a&password=b") < ANONYMOUS_MAX_BYTES
    assert anon.post("/login", data={"username": "a", "password": "b", "csrf": "x"}).status_code == 403
