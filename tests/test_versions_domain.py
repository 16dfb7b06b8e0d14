"""The layout version state machine (domain/versions.py) and the one place that supersedes an approved version."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.conftest import demo_copy
from zonegeo.db import repo
from zonegeo.db.models import ZoneVersion
from zonegeo.domain import versions
from zonegeo.errors import ConflictError, InputError, ZonegeoError


def test_the_machine_goes_draft_submitted_approved():
    assert versions.step("draft", "submit", number=1).target == "submitted"
    assert versions.step("submitted", "approve", number=1).target == "approved"
    assert versions.allowed_actions("draft") == ["submit", "withdraw"]
    assert versions.allowed_actions("submitted") == ["approve", "return"]
    assert versions.allowed_actions("approved") == [] and versions.allowed_actions("superseded") == []
    assert versions.supersedes("approved") and not versions.supersedes("submitted")


def test_a_draft_may_be_withdrawn_and_a_withdrawn_one_goes_nowhere():
    assert versions.step("draft", "withdraw", number=2).target == "withdrawn"
    assert versions.STATES["withdrawn"] == "已撤回"
    assert versions.allowed_actions("withdrawn") == [] and not versions.supersedes("withdrawn")
    with pytest.raises(InputError):
        versions.check_creatable("withdrawn")


def test_a_submitted_version_is_returned_to_draft_with_a_comment():
    assert versions.step("submitted", "return", number=4, note="请修正核心区").target == "draft"
    assert not versions.supersedes("draft") and "submit" in versions.allowed_actions("draft")
    for note in ("", "   \n"):
        with pytest.raises(InputError) as caught:
            versions.step("submitted", "return", number=4, note=note)
        assert caught.value.code == "missing_note" and "退回版本4须填写意见" in caught.value.message
    with pytest.raises(InputError) as caught:
        versions.step("submitted", "return", number=4, note="长" * (versions.MAX_NOTE + 1))
    assert caught.value.code == "note_too_long"
    assert versions.step("submitted", "return", number=4, note="长" * versions.MAX_NOTE).target == "draft"
    for state in ("draft", "approved", "superseded", "withdrawn"):  # the state is checked before the comment
        with pytest.raises(ConflictError):
            versions.step(state, "return", number=4, note="")


@pytest.mark.parametrize(("state", "action"), [("draft", "approve"), ("approved", "submit"), ("approved", "approve"),
                                               ("superseded", "approve"), ("submitted", "submit"),
                                               ("submitted", "withdraw"), ("approved", "withdraw"),
                                               ("withdrawn", "submit"), ("withdrawn", "approve"),
                                               ("withdrawn", "withdraw")])
def test_a_wrong_state_is_a_conflict_naming_it(state, action):
    with pytest.raises(ConflictError) as caught:
        versions.step(state, action, number=3)
    e = caught.value
    assert e.code == "illegal_transition" and versions.STATES[state] in e.message and "版本3" in e.message
    assert e.detail == {"state": state, "action": action, "allowed": versions.allowed_actions(state)}


def test_an_unknown_action_is_bad_input():
    with pytest.raises(InputError) as caught:
        versions.step("draft", "publish", number=1)
    assert caught.value.code == "unknown_action" and isinstance(caught.value, ZonegeoError)


def test_versions_are_created_as_drafts_or_as_the_layout_in_force():
    versions.check_creatable("draft")
    versions.check_creatable("approved")
    for state in ("submitted", "superseded", "bogus"):
        with pytest.raises(InputError):
            versions.check_creatable(state)


def _states(session, zone) -> dict[int, str]:
    return {v.number: v.state for v in session.scalars(select(ZoneVersion).where(ZoneVersion.zone_id == zone.id))}


def test_approval_and_import_supersede_through_one_function(session, tmp_path, rules):
    """An import (approved at creation) and an approval (submitted → approved) both leave one approved version,
    the previous one superseded; ``latest_version`` and ``approved_version`` say which is which."""
    from zonegeo.domain.workdays import WorkCalendar
    from zonegeo.services.changes import transition
    from zonegeo.services.zones import import_zone

    folder, code = demo_copy(tmp_path, "VER")
    import_zone(session=session, folder=folder)
    zone = repo.get_zone(session, code)
    plan = repo.to_domain_plan(repo.approved_version(session, zone), [])
    draft = repo.add_version(session, zone, plan, state="draft", source_files=[], ingest_warnings=[],
                             uploaded_by="t", effective_on=dt.date(2026, 1, 5))
    assert repo.latest_version(session, zone).number == 2 and repo.approved_version(session, zone).number == 1
    transition(session=session, code=code, number=2, action="submit", by="t", rules=rules, calendar=WorkCalendar())
    result = transition(session=session, code=code, number=2, action="approve", by="t", rules=rules,
                        calendar=WorkCalendar())
    assert result["state"] == "approved" and draft.state == "approved"
    assert _states(session, zone) == {1: "superseded", 2: "approved"}
    third = repo.add_version(session, zone, plan, state="approved", source_files=[], ingest_warnings=[],
                             uploaded_by="import", effective_on=dt.date(2026, 2, 2))
    assert _states(session, zone) == {1: "superseded", 2: "superseded", 3: "approved"}
    assert repo.approved_version(session, zone).number == third.number == repo.latest_version(session, zone).number
    with pytest.raises(InputError):
        repo.add_version(session, zone, plan, state="superseded", source_files=[], ingest_warnings=[],
                         uploaded_by="t", effective_on=dt.date(2026, 2, 2))


def test_an_upload_carries_unchanged_roles_over_from_the_newest_version(client, engine, tmp_path):
    """A boundary draft, then a buildings-only upload: the second draft keeps the draft's boundary (it took the
    approved version's boundary before, silently undoing the first upload)."""
    from tests import formats
    from tests.conftest import DEMO, import_demo_copy

    code = import_demo_copy(engine, tmp_path, "CARRY")
    path = formats.write_geojson(tmp_path / "b.geojson")
    first = client.post(f"/api/zones/{code}/uploads", files=[("files", (path.name, path.read_bytes()))],
                        data={"roles": ["boundary"]})
    assert first.status_code == 201, first.text
    n = first.json()["version"]
    buildings = (DEMO / "buildings.geojson").read_bytes()
    second = client.post(f"/api/zones/{code}/uploads", files=[("files", ("buildings.geojson", buildings))],
                         data={"roles": ["buildings"]})
    assert second.status_code == 201, second.text
    carried = [i for i in second.json()["report"]["inputs"] if i.get("role") == "boundary"]
    assert [i.get("carried_from_version") for i in carried] == [n]
    diff = client.get(f"/api/zones/{code}/versions/{n}/diff/{second.json()['version']}").json()
    assert diff["boundary"]["symmetric_difference_m2"] == 0, diff["boundary"]
