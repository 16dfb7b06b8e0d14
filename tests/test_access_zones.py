"""The per-zone half of the authorisation matrix: every endpoint of a zone, called by each role on a zone that role
may not see (another city's, not its own, not assigned, not published), refuses — whether the rule is checked in
the route or in the service (both ask services/access.py)."""

from __future__ import annotations

import re

from sqlalchemy import text

from tests.conftest import app_client, bearer, import_demo_copy
from tests.test_access import access_roles, route_table
from zonegeo.api.app import create_app

ROLES = ("public", "applicant", "city", "expert")  # the province sees every zone
# A valid body for each endpoint that takes one, so that what answers is the access rule, not the body's validation.
JSON_BODIES = {
    "/api/zones/{code}/changes": {"kind": "other", "occurred_on": "2026-01-05"},
    "/api/zones/{code}/changes/{change_id}/report": {"reported_by": "测试"},
    "/api/zones/{code}/experts": {"expert": "expert-wang"},
    "/api/zones/{code}/opinions": {"opinion": "同意", "recommend": True},
    "/api/zones/{code}/reviews": {"item": "management", "result": "符合"},
    "/api/zones/{code}/annual-reports": {"year": 2025},
    "/api/zones/{code}/register-drafts/{number}/rows/{row}/place": {"lon": 118.8, "lat": 32.0},
}
MULTIPART = {
    "/api/zones/{code}/uploads": {"files": [("files", ("b.geojson", b"{}"))], "data": {"roles": ["boundary"]}},
    "/api/zones/{code}/attachments": {"files": [("file", ("a.pdf", b"%PDF-1.4"))], "data": {"kind": "other"}},
}
REFUSED = {401, 403, 404}


def zone_routes(settings) -> list:
    """API endpoints of one zone (the web forms answer 403 to a missing CSRF token first, whatever the zone)."""
    out = [r for r in route_table(create_app(settings)) if "{code}" in r.path]
    return [r for r in out if r.path.startswith("/api/") or r.methods == {"GET"}]


# the not-found codes that refuse a zone the role may not see, besides zone_not_found: an evaluation round the user
# is not in; the public downloads' "not published" and the 公示 pages' "no notice" (answered alike for a zone that
# does not exist)
NOT_FOUND_UNDER = {"/evaluations/": ("zone_not_found", "evaluation_not_found", "zone_not_in_round"),
                   "/layout.": ("zone_not_published",), "/notices/": ("notice_not_found",),
                   "/announcements/": ("zone_not_found",)}


def test_no_role_reaches_a_zone_it_may_not_see(settings, engine, tokens, tmp_path):

    other = import_demo_copy(engine, tmp_path, "HIDDEN")  # unpublished, no members
    with engine.begin() as conn:
        conn.execute(text("UPDATE zone SET city = '苏州市', status = 'recommended' WHERE code = :c"), {"c": other})
    params = {"code": other, "number": "1", "a": "1", "b": "1", "change_id": "1", "action": "submit", "row": "1",
              "receipt": "YY-2026-000001"}
    leaks, checked = [], 0
    with app_client(settings) as client:
        for route in zone_routes(settings):
            (allowed,) = access_roles(route)
            url = re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], route.path)
            for method in sorted(route.methods - {"HEAD"}):
                kwargs = MULTIPART.get(route.path) or ({"json": JSON_BODIES.get(route.path, {})}
                                                        if method == "POST" else {})
                for role in ROLES:
                    r = client.request(method, url, headers={"Authorization": ""} | bearer(tokens, role),
                                       follow_redirects=False, **kwargs)
                    if r.status_code not in REFUSED:
                        leaks.append((method, route.path, role, r.status_code, r.text[:160]))
                    elif role in allowed and r.status_code == 404:  # the zone's refusal (or, under an evaluation
                        # round, the round's: a round the user is not in is not found either, revealing nothing)
                        expected = next((v for k, v in NOT_FOUND_UNDER.items() if k in route.path), ("zone_not_found",))
                        assert r.json()["code"] in expected, (method, route.path, role, r.text[:200])
                    checked += 1
    assert leaks == [], leaks
    assert checked > 80


def test_the_matrix_can_see_a_leak(settings, engine, tokens, tmp_path):
    """The refusal above is the zone's: the same requests on a zone the role may see are not refused."""

    code = "NJ-DEMO-01"  # the applicant's own, the city's city, the expert's assignment
    with app_client(settings) as client:
        for role in ROLES[1:]:
            r = client.get(f"/api/zones/{code}/lifecycle", headers=bearer(tokens, role))
            assert r.status_code == 200, (role, r.status_code)
        mine = client.get(f"/api/zones/{code}/attachments", headers=bearer(tokens, "applicant"))
        assert mine.status_code == 200
