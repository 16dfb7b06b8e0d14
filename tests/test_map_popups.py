"""Map popups state each institution's own status, even when two institutions share a name."""

from __future__ import annotations

import dataclasses
import re

from tests.factories import full_chain, institution, plan
from zonegeo.domain.check import check_plan
from zonegeo.maps.render import render, to_html


def test_two_institutions_of_one_name_keep_their_own_status(rules):
    inside = dataclasses.replace(institution(1, 30, 30), name="同名机构")
    outside = dataclasses.replace(institution(2, 500, 500), name="同名机构")
    p = plan(institutions=[inside, outside, *full_chain(15)])
    page = to_html(render(p, check_plan(p, rules), title="t"))
    statuses = re.findall(r'"n":\s*"同名机构"[^}]*?"s":\s*(\d)', page)
    assert sorted(statuses) == ["0", "1"], statuses  # one inside, one outside — not both outside
