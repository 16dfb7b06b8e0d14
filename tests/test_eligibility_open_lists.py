"""“等” lists are open (issue 9 §2): a platform of another kind or another chain link is kept, shown and
counted where the rule allows, with a warning naming its row; it never makes the file unreadable."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from tests.conftest import DEMO
from zonegeo.cli import app
from zonegeo.domain.model import ChainLink, InstitutionKind
from zonegeo.ingest.role_files import read_role

HEADER = "名称,统一社会信用代码,经度,纬度,链条环节,类型\n"
ROWS = ("甲代理所,91110000600037341L,118.7805,32.0405,创造,服务机构\n"
        "信息网点,,118.7806,32.0406,,知识产权信息公共服务网点\n"
        "乙孵化器,,118.7807,32.0407,运用,孵化器\n"
        "丙咨询,,118.7808,32.0408,保护/设计/管理,\n")


def _read(tmp_path, text: str):
    path = tmp_path / "institutions.csv"
    path.write_text(text, encoding="utf-8")
    return read_role(path, "institutions")


def test_a_platform_of_another_kind_is_kept_as_a_platform_with_its_own_label(tmp_path):
    read = _read(tmp_path, HEADER + ROWS)
    by_name = {i.name: i for i in read.value}
    point = by_name["信息网点"]
    assert point.kind is InstitutionKind.OTHER_PLATFORM and point.kind.is_platform
    assert point.kind_label == "知识产权信息公共服务网点" and point.label == "知识产权信息公共服务网点"
    (w,) = [w for w in read.warnings if w["code"] == "unknown_kind" and w["detail"]["row"] == 3]
    assert w["detail"]["value"] == "知识产权信息公共服务网点" and "第3行" in w["message"]


def test_an_unknown_kind_without_platform_words_is_kept_as_an_institution(tmp_path):
    read = _read(tmp_path, HEADER + ROWS)
    other = next(i for i in read.value if i.name == "乙孵化器")
    assert other.kind is InstitutionKind.INSTITUTION and other.chain == (ChainLink.UTILIZATION,)
    (w,) = [w for w in read.warnings if w["code"] == "unknown_kind" and w["detail"]["row"] == 4]
    assert w["detail"]["value"] == "孵化器" and w["detail"]["kind"] == "institution"


def test_an_unknown_chain_link_is_kept_in_a_free_list(tmp_path):
    read = _read(tmp_path, HEADER + ROWS)
    inst = next(i for i in read.value if i.name == "丙咨询")
    assert inst.chain == (ChainLink.PROTECTION,) and inst.chain_other == ("设计", "管理")
    (w,) = [w for w in read.warnings if w["code"] == "unknown_chain"]
    assert w["detail"] == {"file": "institutions.csv", "row": 5, "value": ["设计", "管理"]}


def test_check_with_other_kinds_reports_instead_of_refusing(tmp_path):
    # Before issue 9 the demo with one 网点 row was refused whole (exit 2, nothing checked).
    folder = tmp_path / "zone"
    shutil.copytree(DEMO, folder)
    csv = folder / "institutions.csv"
    lines = csv.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = dict.fromkeys(header, "")
    lon, lat = next(line.split(",") for line in lines[1:] if "快速维权中心" in line)[header.index("经度"):][:2]
    row.update({"名称": "建邺区知识产权信息公共服务网点", "经度": lon, "纬度": lat, "类型": "知识产权信息公共服务网点"})
    csv.write_text("\n".join([*lines, ",".join(row[h] for h in header)]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "--boundary", str(folder / "boundary.geojson"),
                                      "--core", str(folder / "core.geojson"),
                                      "--buildings", str(folder / "buildings.geojson"),
                                      "--institutions", str(csv), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    platform = next(p for p in report["institutions"]["platforms"] if p["kind"] == "other_platform")
    assert platform["kind_label"] == "知识产权信息公共服务网点" and platform["inside"] is True
    assert {"unknown_kind", "other_platform_kind"} <= {w["code"] for w in report["warnings"]}
    assert report["manual_review"] and report["conclusion"].startswith("量化条件全部符合")


def test_a_point_layer_with_another_kind_is_read_too(tmp_path):
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [118.7805 + k / 1e4, 32.0405]},
                 "properties": {"名称": name, "类型": kind, "链条环节": chain}}
                for k, (name, kind, chain) in enumerate([("甲代理所", "服务机构", "创造"),
                                                         ("信息网点", "知识产权信息公共服务网点", ""),
                                                         ("丙咨询", "", "人才、标准")])]
    path = tmp_path / "institutions.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    read = read_role(path, "institutions")
    kinds = {i.name: (i.kind, i.label, i.chain_other) for i in read.value}
    assert kinds["信息网点"] == (InstitutionKind.OTHER_PLATFORM, "知识产权信息公共服务网点", ())
    assert kinds["丙咨询"][2] == ("标准",)
    rows = sorted((w["code"], w["detail"]["row"]) for w in read.warnings if w["code"].startswith("unknown_"))
    assert rows == [("unknown_chain", 3), ("unknown_kind", 2)]
    assert any("第2个要素" in w["message"] for w in read.warnings)
