"""Security headers on every response, a CSP naming each inline script of the page by hash, and the session cookie
marked Secure over HTTPS (issue 11)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from tests.conftest import PASSWORD, app_client
from zonegeo.api.security_headers import script_hashes

INLINE = re.compile(r"<script\b(?![^>]*\ssrc\s*=)[^>]*>(.*?)</script", re.IGNORECASE | re.DOTALL)


def csp(response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}


@pytest.mark.parametrize("path", ["/", "/login", "/zones/NJ-DEMO-01", "/zones/NJ-DEMO-01/map", "/api/zones",
                                  "/api/zones/NJ-DEMO-01", "/no-such-page", "/healthz", "/docs", "/openapi.json"])
def test_every_response_carries_the_headers(anon, path):
    r = anon.get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    policy = csp(r)
    assert policy["frame-ancestors"] == ["'self'"]
    assert "'unsafe-inline'" not in policy.get("script-src", []) and "'unsafe-inline'" not in policy["default-src"]


def test_a_map_pages_inline_scripts_are_allowed_by_hash_only(client):
    r = client.get("/zones/NJ-DEMO-01/map")
    assert r.status_code == 200
    scripts = INLINE.findall(r.text)
    assert scripts, "a folium map has inline scripts"
    allowed = set(csp(r)["script-src"])
    for body in scripts:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed
    assert {s for s in allowed if s.startswith("'sha256-")} == set(script_hashes(r.content))


def test_refusals_made_before_the_app_carry_them_too(anon):
    r = anon.post("/api/zones/NJ-DEMO-01/uploads", content=b"x" * 100_000)  # refused by the body limit
    assert r.status_code == 401 and r.headers["x-content-type-options"] == "nosniff"


def test_the_session_cookie_is_secure_over_https(settings, tokens):
    for base, secure in (("https://zonegeo.example", True), ("http://testserver", False)):
        with app_client(settings, base_url=base, client=("192.0.2.60", 50000)) as c:
            token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
            r = c.post("/login", data={"username": "province-bureau", "password": PASSWORD, "csrf": token},
                       follow_redirects=False)
            cookie = r.headers["set-cookie"]
            assert cookie.startswith("zonegeo_session=") and ("; secure" in cookie.lower()) is secure


def test_the_api_docs_load_their_viewer_from_the_app(anon):
    docs = anon.get("/docs")
    assert docs.status_code == 200 and "/static/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "cdn.jsdelivr" not in docs.text and "https:" not in csp(docs)["script-src"]
    assert anon.get("/redoc").status_code == 404  # no second viewer that would need a CDN
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert anon.get(f"/static/swagger-ui/{asset}").status_code == 200
