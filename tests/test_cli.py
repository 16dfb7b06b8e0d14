"""The command-line contract: JSON report shape, Chinese text report, exit codes 0/1/2.

Commands run in this process (the ``cli`` fixture, typer's runner): a subprocess costs seconds of imports.
One test runs the installed ``zonegeo`` as a real process: its stdout, stderr and exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO, PROJECT_ROOT, reference
from zonegeo.cli import app

ZONEGEO = Path(sys.executable).with_name("zonegeo")
runner = CliRunner()
DEMO_ARGS = ["check", "--boundary", str(DEMO / "boundary.geojson"), "--core", str(DEMO / "core.geojson"),
             "--buildings", str(DEMO / "buildings.geojson"), "--institutions", str(DEMO / "institutions.csv")]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(ZONEGEO), *args], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_check_demo_json_follows_the_contract(cli):
    proc = cli(*DEMO_ARGS, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert set(report["areas"]) >= {"land_m2", "core_land_m2", "core_floor_m2", "footprint_m2", "floor_m2"}
    inst = report["institutions"]
    assert set(inst) >= {"total", "inside", "outside", "invalid_credit_codes", "chain_coverage", "platforms"}
    assert set(inst["chain_coverage"]) == {"创造", "运用", "保护", "人才"}
    assert [set(o) >= {"name", "credit_code", "distance_m"} for o in inst["outside"]] == [True]
    assert [set(v) >= {"name", "credit_code", "reason"} for v in inst["invalid_credit_codes"]] == [True]
    assert all(set(p) >= {"name", "kind"} for p in inst["platforms"])
    assert all(set(r) >= {"id", "basis", "required", "actual", "passed", "evidence"} for r in report["rules"])
    assert report["eligible"] is True
    assert isinstance(report["warnings"], list)
    assert [set(i) >= {"role", "file", "format", "crs", "features"} for i in report["inputs"]] == [True] * 4


def test_check_text_report_is_chinese(cli, monkeypatch):
    import zonegeo.cli as cli_module

    monkeypatch.setattr(cli_module.out, "width", 200)  # the console's width is fixed when it is made
    proc = cli(*DEMO_ARGS, env={"COLUMNS": "200"})
    assert proc.returncode == 0
    for words in ("申报条件核验结果", "集聚区建筑面积", "符合", "范围外机构", "信用代码无效",
                  "结论：量化条件全部符合", "需人工审核"):  # issue 9: never "符合全部申报条件"
        assert words in proc.stdout


def test_failing_rules_exit_1():
    # Boundary and buildings only: no institutions, no platform, no core.
    result = runner.invoke(app, DEMO_ARGS[:3] + DEMO_ARGS[5:7] + ["--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["eligible"] is False
    failed = {r["id"] for r in report["rules"] if not r["passed"]}
    assert failed == {"core_area", "core_inside_boundary", "institutions", "chain_coverage", "platforms"}


def test_unusable_input_exits_2_with_a_message_on_stderr_only(tmp_path):
    bad = tmp_path / "boundary.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n0000")
    proc = run("check", "--boundary", str(bad), "--json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "unsupported_format" in proc.stderr and "不支持的文件格式" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_file_exits_2(tmp_path, cli):
    proc = cli("check", "--boundary", str(tmp_path / "nope.geojson"))
    assert proc.returncode == 2 and "找不到文件" in proc.stderr


def test_check_and_import_read_with_the_configured_limits(database_url, tmp_path, cli):
    """ZONEGEO_MAX_FEATURES (and the other limits of an upload) bound what the CLI reads too: the demo's
    buildings layer has 7 features, so a limit of 6 refuses it, naming the limit; 7 is exactly allowed."""
    from tests.conftest import demo_copy

    env = {"ZONEGEO_DATABASE_URL": database_url, "ZONEGEO_MAX_FEATURES": "6"}
    proc = cli(*DEMO_ARGS, env=env)
    assert proc.returncode == 2 and "超过上限6个" in proc.stderr.replace("\n", ""), proc.stderr
    folder, code = demo_copy(tmp_path, "LIM")
    proc = cli("import", str(folder), env=env)
    assert proc.returncode == 2 and "超过上限6个" in proc.stderr.replace("\n", ""), proc.stderr
    assert cli("report", code, env={"ZONEGEO_DATABASE_URL": database_url}).returncode == 2  # nothing stored
    env["ZONEGEO_MAX_FEATURES"] = "7"
    assert cli(*DEMO_ARGS, "--json", env=env).returncode == 0
    assert cli("import", str(folder), env=env).returncode == 0


def test_check_writes_a_self_contained_map(tmp_path):
    out = tmp_path / "check.html"
    result = runner.invoke(app, [*DEMO_ARGS, "--json", "--map", str(out)])
    assert result.exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert "L.map(" in html and "cdn.jsdelivr" not in html and '<script src="/assets' not in html


def test_database_commands_with_a_real_database(database_url, tmp_path, cli):
    env = {"ZONEGEO_DATABASE_URL": database_url}
    assert cli("db", "upgrade", env=env).returncode == 0
    proc = cli("import", str(DEMO), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "NJ-DEMO-01" in proc.stdout
    zones = json.loads(cli("zones", "--json", env=env).stdout)
    assert "NJ-DEMO-01" in [z["code"] for z in zones]
    report = cli("report", "NJ-DEMO-01", "--json", env=env)
    assert report.returncode == 0
    checked = json.loads(cli(*DEMO_ARGS, "--crs", "institutions=EPSG:4490", "--json", env=env).stdout)
    stored = json.loads(report.stdout)
    assert stored.pop("zone")["code"] == "NJ-DEMO-01"
    checked.pop("zone")
    # Only the database knows other zones (other tests import copies of the demo): their claims on the same
    # credit codes are the one difference.
    stored["warnings"] = [w for w in stored["warnings"] if w["code"] != "credit_code_in_other_zone"]
    assert stored == checked
    out = tmp_path / "zone.html"
    assert cli("map", "NJ-DEMO-01", "-o", str(out), env=env).returncode == 0
    assert "河西知识产权服务业集聚区" in out.read_text(encoding="utf-8")
    missing = cli("report", "NOPE", env=env)
    assert missing.returncode == 2 and "不存在" in missing.stderr


def test_unreachable_database_is_a_clear_error(cli):
    proc = cli("zones", env={"ZONEGEO_DATABASE_URL": "postgresql+psycopg2://nobody@127.0.0.1:1/none"})
    assert proc.returncode == 2
    assert "无法连接数据库" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("args", [["--help"], ["check", "--help"]])
def test_help_is_available(args):
    assert runner.invoke(app, args).exit_code == 0


def test_check_takes_every_format_and_its_options(tmp_path, cli):
    from tests import formats

    dxf = formats.write_dxf(tmp_path / "红线.dxf")
    result = runner.invoke(app, ["check", "--boundary", str(dxf), "--json"])
    assert result.exit_code == 1  # read fine; no institutions, so rules fail
    assert json.loads(result.output)["inputs"][0]["crs"] == "EPSG:4528"
    table = formats.write_point_csv(tmp_path / "界址点.csv", prefix=False)
    proc = cli("check", "--boundary", str(table))
    assert proc.returncode == 2 and "crs_ambiguous" in proc.stderr and "EPSG:4549" in proc.stderr
    assert runner.invoke(app, ["check", "--boundary", str(table), "--crs", "boundary=EPSG:4549"]).exit_code == 1
    gpkg = formats.write_gpkg(tmp_path / "z.gpkg")
    result = runner.invoke(app, ["check", "--boundary", str(gpkg), "--core", str(gpkg), "--layer", "core=核心区",
                                 "--json"])
    report = json.loads(result.output)
    assert report["areas"]["core_land_m2"] == pytest.approx(1500, rel=1e-3)
    bad = runner.invoke(app, ["check", "--boundary", str(gpkg), "--layer", "roads=x"])
    assert bad.exit_code == 2


def test_repair_flag(tmp_path, cli):
    from tests import formats

    (lon, lat), = formats.lonlat([(formats.E0, formats.N0)])
    d = 0.001
    bowtie = [[lon, lat], [lon + d, lat + d], [lon + d, lat], [lon, lat + d], [lon, lat]]
    path = tmp_path / "b.geojson"
    path.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":'
                    f'{{"type":"Polygon","coordinates":[{bowtie}]}}}}]}}', encoding="utf-8")
    proc = cli("check", "--boundary", str(path))
    assert proc.returncode == 2 and "invalid_geometry" in proc.stderr and "自相交" in proc.stderr
    result = runner.invoke(app, ["check", "--boundary", str(path), "--repair", "--json"])
    assert result.exit_code == 1
    assert "repaired" in [w["code"] for w in json.loads(result.output)["warnings"]]


def test_import_a_folder_of_other_formats(database_url, tmp_path, cli):
    import shutil

    import pyogrio

    from tests import formats

    folder = tmp_path / "zone"
    folder.mkdir()
    shutil.copy(DEMO / "zone.toml", folder / "zone.toml")
    toml = folder / "zone.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("NJ-DEMO-01", "FMT-01")
                    + '\n[layer]\ncore = "核心区"\n', encoding="utf-8")
    formats.write_kmz(folder / "boundary.kmz")
    formats.write_gpkg(folder / "core.gpkg")
    table = pyogrio.read_dataframe(DEMO / "institutions.csv", read_geometry=False)
    pyogrio.write_dataframe(table, folder / "institutions.xlsx", driver="XLSX", layer="机构")
    env = {"ZONEGEO_DATABASE_URL": database_url}
    proc = cli("import", str(folder), env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(cli("report", "FMT-01", "--json", env=env).stdout)
    assert {i["format"] for i in report["inputs"]} == {"kmz", "gpkg", "xlsx"}
    assert report["areas"]["land_m2"] == pytest.approx(formats.reference_area_m2(), rel=1e-4)
    assert report["institutions"]["total"] == 18


def test_due_command_follows_the_reference(tmp_path):
    cases = json.loads(reference("workdays.json").read_text(encoding="utf-8"))
    case = next(c for c in cases["cases"] if c["n_working_days"] == 15)
    result = runner.invoke(app, ["due", "--from", case["start"], "--working-days", "15", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["due"] == case["due"]
    provisional = json.loads(runner.invoke(app, ["due", "--from", "2026-12-28", "--working-days", "5", "--json"]).output)
    assert provisional["provisional"] is True and provisional["due"] == "2027-01-05"
    assert runner.invoke(app, ["due", "--from", "28/12/2026", "--working-days", "5"]).exit_code == 2


def test_diff_command_exit_codes(tmp_path, cli):
    from tests import formats

    old = formats.write_geojson(tmp_path / "old.geojson")
    same = runner.invoke(app, ["diff", "--old", str(old), "--new", str(old), "--json"])
    assert same.exit_code == 0 and json.loads(same.output)["material"] is False
    gk = formats.write_geojson(tmp_path / "gk.geojson", "urn:ogc:def:crs:EPSG::4549", gk=True)
    assert runner.invoke(app, ["diff", "--old", str(old), "--new", str(gk), "--json"]).exit_code == 0
    grown = tmp_path / "new.csv"
    rows = formats.boundary_point_rows(prefix=True)
    grown.write_text("点号,圈号,X,Y\n" + "".join(
        f"{r['点号']},{r['圈号']},{r['X']},{float(r['Y']) + (30 if r['圈号'] == 1 else 0):.3f}\n" for r in rows),
        encoding="utf-8")
    changed = runner.invoke(app, ["diff", "--old", str(old), "--new", str(grown), "--changed-on", "2026-09-30", "--json"])
    assert changed.exit_code == 1
    body = json.loads(changed.output)
    assert body["material"] and body["boundary"]["hausdorff_m"] == pytest.approx(30, abs=0.1)
    assert body["due"]["due"] == "2026-10-27"
    proc = cli("diff", "--old", str(old), "--new", str(tmp_path / "missing.geojson"))
    assert proc.returncode == 2 and "找不到文件" in proc.stderr


def test_version_and_changes_commands(database_url, tmp_path, cli):
    import shutil

    from tests import formats

    env = {"ZONEGEO_DATABASE_URL": database_url}
    folder = tmp_path / "zone"
    shutil.copytree(DEMO, folder)
    toml = folder / "zone.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("NJ-DEMO-01", "CLI-CH-01"), encoding="utf-8")
    assert cli("import", str(folder), env=env).returncode == 0
    formats.write_kml(folder / "boundary.kml")
    (folder / "boundary.geojson").unlink()
    proc = cli("import", str(folder), env=env)
    assert proc.returncode == 0 and "变更事项" in proc.stdout
    listed = json.loads(cli("changes", "--json", env=env).stdout)
    assert any(r["zone_code"] == "CLI-CH-01" and r["kind"] == "spatial_layout" for r in listed)
    bad = cli("version", "approve", "CLI-CH-01", "1", env=env)
    assert bad.returncode == 2 and "已被替代" in bad.stderr


def test_user_commands_and_due_list(database_url, cli):
    env = {"ZONEGEO_DATABASE_URL": database_url}
    added = cli("user", "add", "cli-city", "--role", "city", "--city", "南京市", "--password", "a long password 1", env=env)
    assert added.returncode == 0, added.stderr
    weak = cli("user", "add", "cli-weak", "--role", "province", "--password", "short", env=env)
    assert weak.returncode == 2 and "至少10个字符" in weak.stderr
    no_city = cli("user", "add", "cli-city2", "--role", "city", "--password", "a long password 1", env=env)
    assert no_city.returncode == 2 and "设区市" in no_city.stderr
    token = cli("user", "token", "cli-city", env=env).stdout.strip()
    assert token.startswith("zg_") and len(token) > 40
    listed = json.loads(cli("user", "list", "--json", env=env).stdout)
    assert {"username": "cli-city", "display_name": "cli-city", "role": "city", "city": "南京市", "active": True} in listed
    assert "撤销令牌1个" in cli("user", "revoke", "cli-city", env=env).stdout
    due = cli("due-list", "--json", env=env)
    assert due.returncode == 0 and isinstance(json.loads(due.stdout), list)
