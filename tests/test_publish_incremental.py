"""`zonegeo publish` makes again only what changed (services/publishing.py): a second run writes nothing, a register
change makes that zone's page again and the index, a revoked zone's files go, a damaged or missing file is made
again, and a run with nothing to do costs the same few queries whatever the number of zones."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import count_statements, database_of_its_own, import_demo_copy
from zonegeo.db import repo
from zonegeo.db.session import session_factory, transaction
from zonegeo.maps.public import MANIFEST
from zonegeo.services.publishing import publish

database_url, settings, engine, demo_zone, tokens = database_of_its_own("zonegeo_publish")


def run(engine, rules, out: Path, **kwargs) -> dict:
    with transaction(session_factory(engine)) as session:
        return publish(session=session, rules=rules, out_dir=out, tiles="", **kwargs)


def files(out: Path) -> dict[str, tuple[int, int, int]]:
    """Every file of the site with what would show a rewrite: inode (a rename gives a new one), mtime, size."""
    out_stats = {}
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.name not in (MANIFEST, ".publish.lock"):
            st = path.stat()
            out_stats[path.relative_to(out).as_posix()] = (st.st_ino, st.st_mtime_ns, st.st_size)
    return out_stats


@pytest.fixture(scope="module")
def zones(engine, tmp_path_factory) -> list[str]:
    """Two published zones shared by the module's tests (which change zones of their own only), and two more
    left unpublished."""
    tmp = tmp_path_factory.mktemp("publish-zones")
    return [import_demo_copy(engine, tmp, "INC", published=k < 2) for k in range(4)]


def set_published(engine, codes: list[str], value: bool) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE zone SET published = :v WHERE code = ANY(:c)"), {"v": value, "c": codes})


@pytest.fixture
def own_zone(engine, zones, tmp_path):
    """``own_zone()``: a published zone of the test's own, taken off the site after the test."""
    made: list[str] = []

    def make() -> str:
        made.append(import_demo_copy(engine, tmp_path, "INCO", published=True))
        return made[-1]

    yield make
    set_published(engine, made, False)


def test_a_second_run_writes_nothing(engine, rules, zones, tmp_path):
    out = tmp_path / "site"
    first = run(engine, rules, out)
    assert first["rendered"] == first["zones"] == sorted(zones[:2])  # in the order of the site (city, code)
    before = files(out)
    assert {f"zones/{zones[0]}.html", f"zones/{zones[0]}.geojson", "index.html", "province.html",
            "announcements.html", "zones.geojson", "assets/leaflet/leaflet.js"} <= set(before)
    second = run(engine, rules, out)
    assert second["rendered"] == [] and second["removed"] == [] and second["zones"] == first["zones"]
    assert files(out) == before
    assert "本次重新生成0个集聚区页面" in second["summary"]
    # the feature written beside each page is the one in zones.geojson
    feature = json.loads((out / "zones" / f"{zones[0]}.geojson").read_text(encoding="utf-8"))
    collection = json.loads((out / "zones.geojson").read_text(encoding="utf-8"))
    assert feature in collection["features"]


def test_a_register_change_makes_only_that_zone_again(engine, rules, zones, own_zone, tmp_path):
    changed = own_zone()
    out = tmp_path / "site"
    run(engine, rules, out)
    before = files(out)
    with transaction(session_factory(engine)) as session:
        zone = repo.get_zone(session, changed)
        kept = tuple(repo.to_domain_institution(i) for i in repo.active_institutions(session, zone))[1:]
        assert repo.sync_institutions(session, zone, kept, zone.created_at.date())["left"] == 1
    result = run(engine, rules, out)
    assert result["rendered"] == [changed]
    after = files(out)
    rewritten = {name for name in after if after[name] != before.get(name)}
    assert rewritten == {f"zones/{changed}.html", f"zones/{changed}.geojson", "index.html", "province.html",
                         "zones.geojson"}
    feature = next(f for f in json.loads((out / "zones.geojson").read_text(encoding="utf-8"))["features"]
                   if f["properties"]["code"] == changed)
    old = json.loads((out / "zones" / f"{zones[0]}.geojson").read_text(encoding="utf-8"))
    assert feature["properties"]["institutions"] == old["properties"]["institutions"] - 1


def test_a_register_change_that_leaves_the_facts_as_they_were_leaves_the_index(engine, rules, zones, own_zone,
                                                                               tmp_path):
    changed = own_zone()
    out = tmp_path / "site"
    run(engine, rules, out)
    before = files(out)
    with engine.begin() as conn:
        conn.execute(text("UPDATE institution SET name = name || '（更名）' WHERE id = (SELECT min(i.id) FROM "
                          "institution i JOIN zone z ON z.id = i.zone_id WHERE z.code = :c)"), {"c": changed})
    assert run(engine, rules, out)["rendered"] == [changed]
    after = files(out)
    assert {name for name in after if after[name] != before.get(name)} == {f"zones/{changed}.html"}
    assert "（更名）" in (out / "zones" / f"{changed}.html").read_text(encoding="utf-8")


def test_a_change_of_the_zone_facts_makes_it_again(engine, rules, zones, own_zone, tmp_path):
    changed = own_zone()
    out = tmp_path / "site"
    run(engine, rules, out)
    with engine.begin() as conn:
        conn.execute(text("UPDATE zone SET builder = '新的建设主体' WHERE code = :c"), {"c": changed})
    assert run(engine, rules, out)["rendered"] == [changed]
    assert "新的建设主体" in (out / "index.html").read_text(encoding="utf-8")


def test_a_revoked_or_withdrawn_zone_leaves_the_site(engine, rules, zones, own_zone, tmp_path):
    revoked, withdrawn = own_zone(), own_zone()
    out = tmp_path / "site"
    run(engine, rules, out)
    assert (out / "zones" / f"{revoked}.html").is_file()
    before = files(out)
    with engine.begin() as conn:
        conn.execute(text("UPDATE zone SET status = 'revoked' WHERE code = :c"), {"c": revoked})
        conn.execute(text("UPDATE zone SET published = false WHERE code = :c"), {"c": withdrawn})
    result = run(engine, rules, out)
    assert result["rendered"] == [] and result["removed"] == sorted([revoked, withdrawn])
    for code in (revoked, withdrawn):
        assert not (out / "zones" / f"{code}.html").exists() and not (out / "zones" / f"{code}.geojson").exists()
        assert code not in (out / "index.html").read_text(encoding="utf-8")
        assert code not in (out / "zones.geojson").read_text(encoding="utf-8")
    after = files(out)
    assert after[f"zones/{zones[0]}.html"] == before[f"zones/{zones[0]}.html"]


def test_a_damaged_or_missing_file_is_made_again(engine, rules, zones, tmp_path):
    out = tmp_path / "site"
    run(engine, rules, out)
    (out / "zones" / f"{zones[0]}.html").write_text("<html>half a p", encoding="utf-8")
    (out / "zones" / f"{zones[1]}.geojson").unlink()
    (out / "index.html").unlink()
    (out / "assets" / "leaflet" / "leaflet.js").write_bytes(b"")
    (out / "zones" / "OLD-ZONE.html").write_text("a zone of an older run", encoding="utf-8")
    result = run(engine, rules, out)
    assert sorted(result["rendered"]) == sorted(zones[:2])
    page = (out / "zones" / f"{zones[0]}.html").read_text(encoding="utf-8")
    assert zones[0] in page and page.rstrip().endswith("</html>")
    assert (out / "zones" / f"{zones[1]}.geojson").is_file() and (out / "index.html").is_file()
    assert (out / "assets" / "leaflet" / "leaflet.js").stat().st_size > 100_000
    assert not (out / "zones" / "OLD-ZONE.html").exists()
    assert run(engine, rules, out)["rendered"] == []


def test_an_unreadable_manifest_or_force_makes_everything_again(engine, rules, zones, tmp_path):
    out = tmp_path / "site"
    first = run(engine, rules, out)
    assert run(engine, rules, out, force=True)["rendered"] == first["zones"]
    (out / MANIFEST).write_text("{not json", encoding="utf-8")
    assert run(engine, rules, out)["rendered"] == first["zones"]
    assert run(engine, rules, out)["rendered"] == []


def test_another_day_makes_the_zone_maps_again_not_the_index(engine, rules, zones, tmp_path, monkeypatch):
    """The zone map shows its 制图日期 (maps/render.py), so its page depends on the day; the facts do not."""
    import datetime as dt

    import zonegeo.services.publishing as publishing

    out = tmp_path / "site"
    first = run(engine, rules, out)
    before = files(out)
    monkeypatch.setattr(publishing, "_today", lambda: dt.date.today() + dt.timedelta(days=1))
    assert run(engine, rules, out)["rendered"] == first["zones"]
    after = files(out)
    assert after["index.html"] == before["index.html"] and after["zones.geojson"] == before["zones.geojson"]


def test_a_run_with_nothing_to_do_costs_the_same_queries_whatever_the_zones(engine, rules, zones, tmp_path):
    out = tmp_path / "site"
    run(engine, rules, out)
    few = count_statements(engine, lambda: run(engine, rules, out))
    set_published(engine, zones[2:], True)
    try:
        assert len(run(engine, rules, out)["rendered"]) == 2
        assert count_statements(engine, lambda: run(engine, rules, out)) == few <= 8
    finally:
        set_published(engine, zones[2:], False)


def test_no_temporary_file_is_left(engine, rules, zones, tmp_path):
    """Files are written beside their final name and renamed over it: none of those is left after a run."""
    out = tmp_path / "site"
    run(engine, rules, out)
    assert not list(out.rglob("*.tmp"))
    assert os.access(out / "index.html", os.R_OK)


def test_an_edited_manifest_never_removes_a_file_outside_the_folder(tmp_path):
    """The manifest lies in the served folder: paths in it that lead outside are not followed when a zone's files
    are removed; its own files still are."""
    from zonegeo.maps.public import SiteFolder

    outside = tmp_path / "outside.txt"
    outside.write_text("keep", encoding="utf-8")
    site = SiteFolder(tmp_path / "site")
    site.write("zone:X", "k", {"zones/X.html": b"<p>x</p>"})
    site.groups["zone:X"]["files"] |= {"../outside.txt": [4, 0, "x"], str(outside): [4, 0, "x"]}
    assert site.forget("zone:X") == ["zones/X.html"]
    assert outside.read_text(encoding="utf-8") == "keep"
    assert not (tmp_path / "site" / "zones" / "X.html").exists()
