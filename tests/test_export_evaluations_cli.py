"""`zonegeo export evaluations|evaluations-excellent --round N`: a round's results and its 优秀 list from the command
line, the same files as the round's page offers, read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import io
import uuid

from openpyxl import load_workbook

from zonegeo.db.models import Zone
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain import evaluation as ev
from zonegeo.domain.workdays import WorkCalendar
from zonegeo.services import auth, evaluations


def test_a_rounds_results_and_excellent_list_from_the_cli(cli, engine, database_url, rules, tokens, tmp_path):
    code = f"EVC-{uuid.uuid4().hex[:8]}"
    year = dt.date.today().year
    with transaction(session_factory(engine)) as s:
        s.add(Zone(code=code, name="命令行评价集聚区", city="南京市", builder="建设主体", operator="运营单位",
                   status="operating", dates={"accepted_on": "2021-06-01"}, four_sides={}))
        s.flush()
        province = auth.get_user(s, "province-bureau")
        row = evaluations.create_round(session=s, user=province, year=year, rules=rules, zones=[code],
                                       experts=["expert-wang"])
        round_id = row.id
        for who in ("expert-wang", "nanjing-bureau"):
            evaluations.enter_scores(session=s, user=auth.get_user(s, who), round_id=round_id, code=code,
                                     scores=dict.fromkeys(ev.DIMENSIONS, "95"))
        evaluations.confirm(session=s, user=province, round_id=round_id, code=code, on=dt.date.today(),
                            calendar=WorkCalendar(), rules=rules)
    env = {"ZONEGEO_DATABASE_URL": database_url}
    excellent, results = tmp_path / "优秀.xlsx", tmp_path / "结果.xlsx"
    assert cli("export", "evaluations-excellent", "--round", round_id, "-o", excellent, env=env).returncode == 0
    assert cli("export", "evaluations", "--round", round_id, "-o", results, env=env).returncode == 0
    cells = [c.value for r in load_workbook(io.BytesIO(excellent.read_bytes())).worksheets[0].iter_rows() for c in r]
    assert code in cells and "命令行评价集聚区" in cells
    sheet = load_workbook(io.BytesIO(results.read_bytes())).worksheets[0]
    assert any(code in [c.value for c in r] and "优秀" in [c.value for c in r] for r in sheet.iter_rows())
    missing = cli("export", "evaluations", env=env)
    assert missing.returncode == 2 and "--round" in missing.stderr
    unknown = cli("export", "evaluations", "--round", 99_999_999, "-o", tmp_path / "x.xlsx", env=env)
    assert unknown.returncode == 2 and "不存在" in unknown.stderr and not (tmp_path / "x.xlsx").exists()
