"""综合评价 over HTTP: the pages each role sees (forms only for those who may use them), the forms (CSRF,
Post/Redirect/Get, the Chinese refusal, nothing stored when refused), wrong roles 403 on the POSTs, and the two
.xlsx exports opened back with openpyxl and compared with the database."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import PASSWORD, bearer
from tests.test_zone_desk import flash
from zonegeo.db.models import EvaluationEntry, EvaluationRound, EvaluationScore, LifecycleEvent, Zone
from zonegeo.db.session import session_factory, transaction
from zonegeo.domain import evaluation as ev
from zonegeo.services import auth, evaluations

YEAR = dt.date.today().year


def make_zone(s, city: str = "南京市", name: str = "") -> Zone:
    code = f"EVP-{uuid.uuid4().hex[:8]}"
    row = Zone(code=code, name=name or f"评价页面集聚区{code[-4:]}", city=city, builder=f"建设主体{code[-4:]}",
               operator="运营单位", status="operating", dates={"accepted_on": "2021-06-01"}, four_sides={})
    s.add(row)
    s.flush()
    return row


@pytest.fixture(scope="module")
def world(engine, tokens, rules) -> dict:
    """One committed round for the module: three Nanjing zones and one in Suzhou, two experts (and one outside)."""
    with transaction(session_factory(engine)) as s:
        names = {}
        for key, role, city in (("e1", "expert", None), ("e2", "expert", None), ("outsider", "expert", None),
                                ("suzhou", "city", "苏州市")):
            names[key] = auth.add_user(session=s, username=f"{key}-{uuid.uuid4().hex[:6]}", password=PASSWORD,
                                       role=role, city=city).username
        zones = [make_zone(s, name="甲评价集聚区"), make_zone(s), make_zone(s), make_zone(s, "苏州市")]
        row = evaluations.create_round(session=s, user=auth.get_user(s, "province-bureau"), year=YEAR, rules=rules,
                                       zones=[z.code for z in zones], experts=[names["e1"], names["e2"]])
        return {"round": row.id, "zones": [z.code for z in zones], "users": names}


def sheet_url(world, k: int = 0) -> str:
    return f"/evaluations/{world['round']}/zones/{world['zones'][k]}"


def post(c, url: str, **data):
    return c.post(url, data={"csrf": c.csrf, **data}, follow_redirects=True)


def test_each_role_sees_the_rounds_it_is_in_and_only_its_own_forms(web_as, world, client, tokens, anon):
    province = web_as("province-bureau")
    page = province.get("/evaluations").text
    assert 'id="create"' in page and f'data-round="{world["round"]}"' in page
    assert 'id="nav-evaluations"' in page
    sheet = province.get(sheet_url(world)).text
    assert 'id="confirm"' in sheet and 'id="participation"' in sheet and 'id="scores"' not in sheet
    expert = web_as(world["users"]["e1"])
    page = expert.get("/evaluations").text
    assert f'data-round="{world["round"]}"' in page and 'id="create"' not in page
    sheet = expert.get(sheet_url(world)).text
    assert 'id="scores"' in sheet and 'id="confirm"' not in sheet and 'id="participation"' not in sheet
    assert 'inputmode="decimal"' in sheet and sheet.count('min="0" max="100" step="0.01"') == 5
    assert 'id="sealed"' in sheet and "确认前不公开" in expert.get(f"/evaluations/{world['round']}").text
    outsider = web_as(world["users"]["outsider"])
    assert f'data-round="{world["round"]}"' not in outsider.get("/evaluations").text
    assert outsider.get(sheet_url(world)).status_code == 404
    city = web_as("nanjing-bureau")
    round_page = city.get(f"/evaluations/{world['round']}").text
    assert world["zones"][0] in round_page and world["zones"][3] not in round_page  # Suzhou's zone is not Nanjing's
    assert 'id="exports"' not in round_page
    assert city.get(sheet_url(world, 3)).status_code == 404
    assert 'id="scores"' in city.get(sheet_url(world)).text
    applicant = client.get("/evaluations", headers=bearer(tokens, "applicant"))
    assert applicant.status_code == 403 and applicant.json()["code"] == "role_forbidden"
    assert anon.get("/evaluations").status_code == 401


@pytest.mark.parametrize("role", ["city", "expert", "applicant"])
def test_wrong_roles_get_403_on_the_province_posts(client, tokens, world, role):
    base = f"/evaluations/{world['round']}"
    for url in ("/evaluations", f"{base}/experts", f"{base}/zones/{world['zones'][1]}/participation",
                f"{base}/zones/{world['zones'][1]}/confirm", f"{base}/excellent.xlsx", f"{base}/results.xlsx"):
        method = client.get if url.endswith(".xlsx") else client.post
        r = method(url, headers=bearer(tokens, role))
        assert (r.status_code, r.json()["code"]) == (403, "role_forbidden"), url


@pytest.mark.parametrize("number", ["0", "2147483648", "99999999999999999999"])
def test_a_round_number_out_of_range_is_not_found(client, number):
    r = client.get(f"/evaluations/{number}")
    assert (r.status_code, r.json()["code"]) == (404, "evaluation_not_found")


def test_the_province_may_not_score(client, tokens, world):
    r = client.post(f"/evaluations/{world['round']}/zones/{world['zones'][1]}/scores",
                    headers=bearer(tokens, "province"))
    assert (r.status_code, r.json()["code"]) == (403, "role_forbidden")


def test_a_form_without_its_csrf_token_is_refused(web_as, world, engine):
    expert = web_as(world["users"]["e2"])
    r = expert.post(f"{sheet_url(world, 2)}/scores", data=dict.fromkeys(ev.DIMENSIONS, "80"))
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    assert scores_of(engine, world, 2, world["users"]["e2"]) == {}


def scores_of(engine, world, k: int, scorer: str) -> dict[str, Decimal]:
    with transaction(session_factory(engine)) as s:
        zone = s.scalars(select(Zone).where(Zone.code == world["zones"][k])).one()
        rows = s.scalars(select(EvaluationScore).join(EvaluationEntry).where(
            EvaluationEntry.zone_id == zone.id, EvaluationScore.scorer == scorer)).all()
        return {r.dimension: r.score for r in rows}


def test_an_out_of_range_score_is_refused_in_chinese_and_stores_nothing(web_as, world, engine):
    expert = web_as(world["users"]["e2"])
    r = post(expert, f"{sheet_url(world, 1)}/scores", **{**dict.fromkeys(ev.DIMENSIONS, "80"), "management": "100.5"})
    assert r.status_code == 200 and "宏观管理水平（management）：100.5超出范围，应为0–100" in flash(r.text)
    assert scores_of(engine, world, 1, world["users"]["e2"]) == {}


def test_scores_confirmation_and_exports(web_as, world, engine):
    url = sheet_url(world)
    for who, value in ((world["users"]["e1"], "95"), (world["users"]["e2"], "90"), ("nanjing-bureau", "85")):
        r = post(web_as(who), f"{url}/scores", **dict.fromkeys(ev.DIMENSIONS, value))
        assert flash(r.text) == "评分已保存", flash(r.text)
    province = web_as("province-bureau")
    page = province.get(url).text
    assert re.search(r'id="total">91\.00<', page) and 'id="computed-grade" data-grade="excellent"' in page
    today = dt.date.today().isoformat()
    r = post(province, f"{url}/confirm", on=today)  # the box not ticked: nothing happens
    assert "请先勾选确认" in flash(r.text) and 'id="confirmed-grade" data-grade=""' in r.text
    r = post(province, f"{url}/confirm", on=today, confirm="yes")
    assert flash(r.text) == "已确认评价结果：优秀；集聚区当前状态：运行期"
    assert 'id="confirmed-grade" data-grade="excellent"' in r.text and 'id="confirm"' not in r.text
    with transaction(session_factory(engine)) as s:
        zone = s.scalars(select(Zone).where(Zone.code == world["zones"][0])).one()
        event = s.scalars(select(LifecycleEvent).where(LifecycleEvent.zone_id == zone.id)).one()
        assert (event.action, event.data["grade"], event.actor) == ("evaluate", "excellent", "province-bureau")
    # a second zone: absent without reason, recorded on the page
    r = post(province, f"{sheet_url(world, 2)}/participation", participation="absent_justified", reason="")
    assert "请填写正当理由" in flash(r.text)
    r = post(province, f"{sheet_url(world, 2)}/participation", participation="absent")
    assert flash(r.text) == "已登记参评情况：未参加（无正当理由）"

    xlsx = province.get(f"/evaluations/{world['round']}/excellent.xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "filename*=UTF-8''" in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content))
    sheet = book.active
    assert sheet.title == "优秀集聚区" and "国家知识产权服务业集聚发展试验区" in sheet["A1"].value
    header = [c.value for c in sheet[2]]
    assert header == list(evaluations.EXCELLENT_HEADERS) and sheet["A2"].font.b
    assert sheet.freeze_panes == "A3" and sheet.column_dimensions["D"].width >= 30
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=3)]
    with transaction(session_factory(engine)) as s:
        stored = s.execute(select(Zone.code, Zone.name, EvaluationEntry.computed_total, EvaluationEntry.confirmed_on)
                           .join(EvaluationEntry, EvaluationEntry.zone_id == Zone.id)
                           .where(EvaluationEntry.round_id == world["round"],
                                  EvaluationEntry.confirmed_grade == "excellent")).all()
    assert [(r[2], r[3], Decimal(str(r[6])), r[7]) for r in rows] == [
        (code, name, total, on.isoformat()) for code, name, total, on in stored]
    assert rows[0][2:4] == [world["zones"][0], "甲评价集聚区"] and rows[0][6] == 91.0

    book = load_workbook(io.BytesIO(province.get(f"/evaluations/{world['round']}/results.xlsx").content))
    sheet = book.active
    assert [c.value for c in sheet[2]] == list(evaluations.RESULT_HEADERS) and sheet.freeze_panes == "A3"
    by_code = {r[1]: r for r in ([c.value for c in row] for row in sheet.iter_rows(min_row=3))}
    assert set(by_code) == set(world["zones"])
    first = by_code[world["zones"][0]]
    assert first[5:10] == [91.0] * 5 and first[10:13] == [91.0, "优秀", "优秀"] and first[14] == "province-bureau"
    assert by_code[world["zones"][2]][3] == "未参加（无正当理由）" and by_code[world["zones"][2]][12] is None


def test_creating_a_round_on_the_page(web_as, world, engine, tokens):
    province = web_as("province-bureau")
    with transaction(session_factory(engine)) as s:
        fresh = make_zone(s, "无锡市").code
    r = post(province, "/evaluations", year=str(YEAR), title="", zones=[fresh], experts=[world["users"]["e1"]])
    assert flash(r.text).startswith(f"已创建“{YEAR}年度江苏省知识产权服务业集聚区综合评价”") and fresh in r.text
    r = post(province, "/evaluations", year=str(YEAR), zones=[fresh])
    assert f"已在{YEAR}年度的评价中" in flash(r.text)
    r = post(province, "/evaluations", year=str(YEAR + 1), zones=[fresh])
    assert "评价年度" in flash(r.text)
    with transaction(session_factory(engine)) as s:
        rounds = s.scalars(select(EvaluationRound).join(EvaluationEntry).join(Zone).where(Zone.code == fresh)).all()
        assert len(rounds) == 1
