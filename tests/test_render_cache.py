"""Reports, maps and zone pages computed once per state of the data and kept in memory, for logged-in users too
(services/render_cache.py, api/public_cache.py): 304 on If-None-Match, a write seen by the very next request, and
no user ever given what another user's session was given."""

from __future__ import annotations

import uuid

from sqlalchemy import event

from tests.conftest import PASSWORD, app_client, approve_moved_boundary, bearer, import_demo_copy, web
from tests.test_register_drafts import act, roster, upload
from zonegeo.db.session import session_factory, transaction
from zonegeo.services import access, auth
from zonegeo.services.render_cache import RenderCache, etag_of, matches

PATHS = ("/api/zones/{code}/report", "/zones/{code}", "/zones/{code}/map")


def statements(app) -> list[str]:
    seen: list[str] = []
    event.listen(app.state.uow.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def member_zone(engine, tmp_path, prefix: str, *, published: bool = True) -> str:
    code = import_demo_copy(engine, tmp_path, prefix, published=published)
    with transaction(session_factory(engine)) as session:
        access.add_member(session=session, code=code, username="demo-applicant", relation_="applicant")
    return code


def test_304_on_if_none_match_for_an_anonymous_and_a_logged_in_request(engine, tmp_path, anon, web_as):
    code = member_zone(engine, tmp_path, "RC304")
    reviewer = web_as("province-bureau")
    for who, c in (("public", anon), ("province", reviewer)):
        for path in (p.format(code=code) for p in PATHS):
            first = c.get(path)
            assert first.status_code == 200 and first.headers["etag"].startswith('"'), (who, path)
            assert ("private" in first.headers["cache-control"]) == (who != "public")
            again = c.get(path, headers={"If-None-Match": first.headers["etag"]})
            assert again.status_code == 304 and again.content == b"", (who, path)
            assert c.get(path).content == first.content
    # the logged-in reads differ from the public's and are not answered with its tags
    public_tag = anon.get(f"/api/zones/{code}/report").headers["etag"]
    assert reviewer.get(f"/api/zones/{code}/report", headers={"If-None-Match": public_tag}).status_code == 200


def test_a_repeated_logged_in_read_is_answered_from_memory(engine, tmp_path, web_as):
    code = member_zone(engine, tmp_path, "RCMEM")
    reviewer = web_as("province-bureau")
    for path in (p.format(code=code) for p in PATHS):
        first = reviewer.get(path)
        seen = statements(reviewer.app)
        again = reviewer.get(path)
        assert again.status_code == 200 and again.content == first.content
        assert all("audit_log" in s for s in seen), seen  # the state only: no session, zone, check or rendering


def test_an_approval_is_seen_by_the_next_request(engine, tmp_path, anon, client, web_as):
    code = member_zone(engine, tmp_path, "RCAPP")
    reviewer = web_as("nanjing-bureau")
    path = f"/api/zones/{code}/report"
    before = {c: c.get(path) for c in (anon, reviewer)}
    assert before[anon].json()["zone"]["version"] == 1
    number = approve_moved_boundary(client, code)
    for c, r in before.items():
        again = c.get(path, headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 200 and again.json()["zone"]["version"] == number


def test_a_register_change_is_seen_by_the_next_request(engine, tmp_path, anon, client, settings, tokens, web_as):
    code = member_zone(engine, tmp_path, "RCREG")
    reviewer = web_as("province-bureau")
    counted = {c: c.get(f"/api/zones/{code}/report").json()["institutions"]["counted"] for c in (anon, reviewer)}
    with app_client(settings, headers=bearer(tokens, "applicant")) as applicant:
        assert upload(applicant, code, ("名录.csv", roster(10), "institutions")).status_code == 201
        assert act(applicant, code, 1, "submit").status_code == 200
    assert act(client, code, 1, "approve").status_code == 200
    for c, before in counted.items():
        assert c.get(f"/api/zones/{code}/report").json()["institutions"]["counted"] < before


def test_users_of_different_roles_never_share_an_entry(engine, tmp_path, settings, web_as):
    code = member_zone(engine, tmp_path, "RCROLE", published=False)
    names = {"province-bureau": "province", "nanjing-bureau": "city", "demo-applicant": "applicant"}
    pages, reports = {}, {}
    for username in names:
        c = web_as(username)
        pages[username] = c.get(f"/zones/{code}")
        reports[username] = c.get(f"/api/zones/{code}/report")
        assert pages[username].status_code == 200 and reports[username].status_code == 200
    assert len({p.headers["etag"] for p in pages.values()}) == 3
    assert len({r.headers["etag"] for r in reports.values()}) == 3
    for username, page in pages.items():
        with transaction(session_factory(engine)) as session:
            shown = auth.get_user(session, username).display_name or username
        assert shown in page.text
        assert not any((other in page.text) for other in names if other != username and other not in shown)
    # the shared parts are kept per visibility class and role
    cache = web_as("province-bureau").app.state.render_cache
    roles = {key[3] for key in cache.list_keys() if key[:2] == ("zone.parts", code)}
    assert roles == set(names.values())
    # an applicant who is not the zone's owner is refused, whatever the others left in memory
    outsider = f"rc-outsider-{uuid.uuid4().hex[:6]}"
    with transaction(session_factory(engine)) as session:
        auth.add_user(session=session, username=outsider, password=PASSWORD, role="applicant")
    stranger = web(settings, outsider)
    try:
        for path in (p.format(code=code) for p in PATHS):
            assert stranger.get(path).status_code == 404, path
            assert stranger.get(path, headers={"If-None-Match": pages["demo-applicant"].headers["etag"]}) \
                .status_code == 404
    finally:
        stranger.__exit__(None, None, None)


def test_a_logged_out_session_is_not_answered_from_memory(engine, tmp_path, settings):
    code = member_zone(engine, tmp_path, "RCOUT", published=False)
    c = web(settings, "expert-wang")
    try:
        with transaction(session_factory(engine)) as session:
            access.add_member(session=session, code=code, username="expert-wang", relation_="expert")
        assert c.get(f"/zones/{code}").status_code == 200
        old = dict(c.cookies)
        assert c.post("/logout", data={"csrf": c.csrf}, follow_redirects=False).status_code == 303
        c.cookies.clear()
        for name, value in old.items():
            c.cookies.set(name, value)
        assert c.get(f"/zones/{code}").status_code == 404  # the ended session is nobody: the zone is not public
    finally:
        c.__exit__(None, None, None)


def test_the_render_cache_is_bounded_and_tags_are_stable():
    cache = RenderCache(max_bytes=100, max_entry_bytes=60)
    for k in range(5):
        cache.put(("k", k), b"x" * 40)
    assert len(cache) == 2 and cache.size == 80 and cache.get(("k", 0)) is None and cache.get(("k", 4))
    cache.put(("big",), b"x" * 61)
    assert cache.get(("big",)) is None  # too large to keep
    assert cache.get_or_make(("made",), lambda: b"y") == b"y" and cache.get(("made",)) == b"y"
    tag = etag_of(("report.json", "A", "reviewer", "city", 7, "2026-01-01"))
    assert tag == etag_of(("report.json", "A", "reviewer", "city", 7, "2026-01-01"))
    assert tag != etag_of(("report.json", "A", "reviewer", "province", 7, "2026-01-01"))
    assert matches(f'"x", W/{tag}', tag) and matches("*", tag) and not matches("", tag)
