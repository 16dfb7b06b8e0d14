"""The same files uploaded again to the same zone return the draft they made, not another version."""

from __future__ import annotations

from tests.conftest import DEMO, import_demo_copy


def post(client, code, name, data, **form):
    return client.post(f"/api/zones/{code}/uploads", files=[("files", (name, data))], data={"roles": ["core"], **form})


def test_an_identical_upload_returns_the_existing_draft(client, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "IDEM")
    core = (DEMO / "core.geojson").read_bytes()
    first = post(client, code, "core.geojson", core)
    assert first.status_code == 201 and first.json()["created"] is True and first.json()["version"] == 2
    again = post(client, code, "core.geojson", core)
    assert again.status_code == 200 and again.json()["created"] is False and again.json()["version"] == 2
    assert again.json()["report"]["areas"] == first.json()["report"]["areas"]
    versions = client.get(f"/api/zones/{code}/versions").json()["data"]
    assert [v["number"] for v in versions] == [1, 2]


def test_other_files_or_options_make_a_new_draft(client, engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "IDEM2")
    core = (DEMO / "core.geojson").read_bytes()
    assert post(client, code, "core.geojson", core).json()["version"] == 2
    assert post(client, code, "core.geojson", core, repair="true").json()["version"] == 3  # another option
    assert post(client, code, "core.geojson", core + b"\n").json()["version"] == 4  # other bytes
    assert post(client, code, "core.geojson", core + b"\n").json()["version"] == 4  # the same again


def test_an_upload_repeated_after_another_is_a_new_draft_with_its_own_files(client, engine, tmp_path):
    """Boundary+core (v2), then a new core alone (v3, carrying v2's boundary over), then boundary+core again: the
    applicant's revert is a new draft with those files, not v3 (which carries v2's boundary and its key)."""
    code = import_demo_copy(engine, tmp_path, "IDEM3")
    boundary, core = (DEMO / "boundary.geojson").read_bytes(), (DEMO / "core.geojson").read_bytes()

    def both():
        return client.post(f"/api/zones/{code}/uploads", data={"roles": ["boundary", "core"]},
                           files=[("files", ("boundary.geojson", boundary)), ("files", ("core.geojson", core))])

    first = both()
    assert (first.status_code, first.json()["version"]) == (201, 2)
    other_core = core.replace(b"}", b"} ", 1)  # other bytes, the same shape
    assert post(client, code, "core.geojson", other_core).json()["version"] == 3
    again = both()
    assert (again.status_code, again.json()["version"], again.json()["created"]) == (201, 4, True), again.text
    files = {i["role"]: i for i in again.json()["report"]["inputs"]}
    assert "carried_from_version" not in files["core"] and "carried_from_version" not in files["boundary"]
