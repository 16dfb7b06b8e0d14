"""A write is answered only after it is stored: COMMIT runs before the response, and a refused COMMIT, a deadlock
or a lost connection is answered with the right status, a Chinese message, and nothing changed."""

from __future__ import annotations

import re
import threading
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import DEMO, PASSWORD, app_client, bearer, import_demo_copy
from zonegeo.api.app import create_app
from zonegeo.config import Settings
from zonegeo.db.session import session_factory
from zonegeo.errors import ConflictError, UnavailableError
from zonegeo.services.unit_of_work import transaction

# A constraint trigger that runs only at COMMIT (DEFERRABLE INITIALLY DEFERRED), for zones whose code starts with
# UOW-: every statement of the request succeeds, and the database refuses the transaction as it commits.
TRIGGER = """
CREATE OR REPLACE FUNCTION test_refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM zone WHERE id = NEW.zone_id AND code LIKE 'UOW-%') THEN
    RAISE EXCEPTION 'refused at commit: secret internals' USING ERRCODE = '{sqlstate}',
      CONSTRAINT = 'ck_test_refused_at_commit';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER test_refuse_at_commit AFTER INSERT ON {table}
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_refuse_at_commit();
"""


@pytest.fixture
def refuse_at_commit(engine):
    """Install the trigger on a table with a given SQLSTATE; removed after the test."""
    installed: list[str] = []

    def install(table: str, sqlstate: str) -> None:
        with engine.begin() as conn:
            conn.execute(text(TRIGGER.format(table=table, sqlstate=sqlstate)))
        installed.append(table)

    yield install
    with engine.begin() as conn:
        for table in installed:
            conn.execute(text(f"DROP TRIGGER IF EXISTS test_refuse_at_commit ON {table}"))


@pytest.fixture
def uow_zone(engine, tmp_path):
    return import_demo_copy(engine, tmp_path, "UOW")


def counts(engine, code):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT (SELECT count(*) FROM zone_version v WHERE v.zone_id = z.id), "
            "(SELECT count(*) FROM lifecycle_event e WHERE e.zone_id = z.id), "
            "(SELECT count(*) FROM audit_log a WHERE a.object LIKE 'zone/' || z.code || '%'), z.status "
            "FROM zone z WHERE z.code = :c"), {"c": code}).one()


def upload(client, code, **headers):
    boundary = (DEMO / "boundary.geojson").read_bytes()
    return client.post(f"/api/zones/{code}/uploads", files=[("files", ("boundary.geojson", boundary))],
                       data={"roles": ["boundary"]}, headers=headers)


def test_a_refused_commit_of_an_upload_is_never_answered_201(client, engine, uow_zone, refuse_at_commit):
    before = counts(engine, uow_zone)
    refuse_at_commit("zone_version", "23514")
    r = upload(client, uow_zone)
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["code"] == "constraint_violation"
    assert "未保存" in body["message"] and "ck_test_refused_at_commit" in body["message"]
    assert body["detail"]["constraint"] == "ck_test_refused_at_commit"
    assert counts(engine, uow_zone) == before  # no version, no audit entry


def test_a_serialization_failure_at_commit_is_503_with_retry_after(client, engine, uow_zone, refuse_at_commit):
    before = counts(engine, uow_zone)
    refuse_at_commit("zone_version", "40001")
    r = upload(client, uow_zone)
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"].isdigit()
    assert r.json()["code"] == "database_conflict" and "请稍后重试" in r.json()["message"]
    assert counts(engine, uow_zone) == before


def test_any_other_database_error_is_500_with_a_request_id_and_no_internals(client, engine, uow_zone,
                                                                            refuse_at_commit):
    before = counts(engine, uow_zone)
    refuse_at_commit("zone_version", "P0001")
    r = upload(client, uow_zone)
    assert r.status_code == 500
    body = r.json()
    assert body["code"] == "database_error"
    assert body["detail"]["request_id"] == r.headers["X-Request-ID"] and len(body["detail"]["request_id"]) == 16
    assert "secret internals" not in r.text and "refused at commit" not in r.text
    assert counts(engine, uow_zone) == before


def test_a_refused_commit_of_a_lifecycle_action_changes_nothing(client, engine, uow_zone, refuse_at_commit):
    before = counts(engine, uow_zone)
    assert before[3] == "construction"
    refuse_at_commit("lifecycle_event", "23514")
    r = client.post(f"/api/zones/{uow_zone}/lifecycle/revoke", json={"on": "2026-01-05", "data": {"reason": 5}})
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "constraint_violation"
    assert counts(engine, uow_zone) == before  # still in construction, no event, no audit entry


def test_a_refused_commit_of_a_web_form_shows_the_error_page(settings, tokens, engine, uow_zone, refuse_at_commit):
    before = counts(engine, uow_zone)
    refuse_at_commit("zone_version", "23514")
    with app_client(settings) as browser:
        page = browser.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        login = browser.post("/login", data={"username": "province-bureau", "password": PASSWORD, "csrf": csrf},
                             follow_redirects=False)
        assert login.status_code == 303
        form = browser.get(f"/zones/{uow_zone}/upload")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        boundary = (DEMO / "boundary.geojson").read_bytes()
        r = browser.post(f"/zones/{uow_zone}/upload", headers={"Accept": "text/html"},
                         files=[("file_boundary", ("boundary.geojson", boundary, "application/geo+json"))],
                         data={"crs_boundary": "EPSG:4490", "csrf": csrf})
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("text/html")
    assert "未保存" in r.text and "已生成草稿" not in r.text
    assert counts(engine, uow_zone) == before


def test_a_deadlock_between_two_transactions_gives_one_success_and_one_retryable_error(engine, tmp_path):
    a = import_demo_copy(engine, tmp_path, "DLA")
    b = import_demo_copy(engine, tmp_path, "DLB")
    factory = session_factory(engine)
    barrier = threading.Barrier(2, timeout=20)
    outcomes: dict[str, object] = {}

    def work(name: str, first: str, second: str) -> None:
        try:
            with transaction(factory) as session:
                session.execute(text("UPDATE zone SET note = :n WHERE code = :c"), {"n": name, "c": first})
                barrier.wait()
                session.execute(text("UPDATE zone SET note = :n WHERE code = :c"), {"n": name, "c": second})
            outcomes[name] = "committed"
        except (UnavailableError, ConflictError) as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=work, args=("t1", a, b)), threading.Thread(target=work, args=("t2", b, a))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(map(type, outcomes.values()), key=str) == sorted([str, UnavailableError], key=str), outcomes
    loser = next(v for v in outcomes.values() if v != "committed")
    assert loser.code == "database_conflict" and loser.detail == {"reason": "deadlock"}
    winner = next(k for k, v in outcomes.items() if v == "committed")
    with engine.connect() as conn:
        notes = conn.execute(text("SELECT note FROM zone WHERE code IN (:a, :b)"), {"a": a, "b": b}).scalars().all()
    assert notes == [winner, winner]  # the winner's two updates, nothing of the loser's


def test_an_unreachable_database_is_503_in_chinese(database_url):
    from sqlalchemy.engine import make_url

    dead = make_url(database_url).set(port=1).render_as_string(hide_password=False)
    app = create_app(Settings(_env_file=None, database_url=dead))
    with TestClient(app) as c:
        r = c.get("/api/zones")
    assert r.status_code == 503 and r.headers["Retry-After"].isdigit()
    assert r.json()["code"] == "database_unavailable" and "无法连接数据库" in r.json()["message"]


def test_a_connection_killed_mid_transaction_is_503_and_rolled_back(engine, tmp_path):
    code = import_demo_copy(engine, tmp_path, "KILL")
    marker = f"killed-{uuid.uuid4().hex[:6]}"
    with pytest.raises(UnavailableError) as caught, transaction(session_factory(engine)) as session:
        session.execute(text("UPDATE zone SET note = :n WHERE code = :c"), {"n": marker, "c": code})
        pid = session.scalar(text("SELECT pg_backend_pid()"))
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    assert caught.value.code == "database_unavailable"
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT note FROM zone WHERE code = :c"), {"c": code}) != marker


def test_a_successful_write_is_committed_before_the_response(client, engine, uow_zone, tokens):
    r = upload(client, uow_zone, **bearer(tokens, "province"))
    assert r.status_code == 201
    # Visible to another connection at once: the COMMIT happened before the 201 was sent.
    assert counts(engine, uow_zone)[0] == 2


def test_an_error_in_a_use_case_rolls_back_everything_it_flushed(engine, tmp_path):
    """The unit of work rolls back what the service already wrote: the flushed change and its audit entry are
    visible inside the transaction, and gone after an error in the same use case."""
    from zonegeo.errors import InputError
    from zonegeo.services.publishing import set_published

    code = import_demo_copy(engine, tmp_path, "RBK")
    before = counts(engine, code)
    with pytest.raises(InputError), transaction(session_factory(engine)) as session:
        set_published(session=session, code=code, published=True)
        session.flush()
        seen = session.execute(text(
            "SELECT z.published, (SELECT count(*) FROM audit_log a WHERE a.object = 'zone/' || z.code) "
            "FROM zone z WHERE z.code = :c"), {"c": code}).one()
        assert tuple(seen) == (True, before[2] + 1)  # written, inside the transaction
        raise InputError("later_step_failed", "后续步骤失败", {})
    assert counts(engine, code) == before
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT published FROM zone WHERE code = :c"), {"c": code}) is False


def test_a_refused_commit_of_a_zone_desk_form_leaves_no_success_message(settings, tokens, engine, client, uow_zone,
                                                                        refuse_at_commit):
    """A form's one-time message is set before COMMIT; when COMMIT fails the error page says so, and the next page
    shows no “已登记” that never happened."""
    change = client.post(f"/api/zones/{uow_zone}/changes", json={"kind": "other", "occurred_on": "2026-01-05",
                                                                  "description": "运营机构更换"})
    assert change.status_code == 201, change.text
    change_id = change.json()["id"]
    refuse_at_commit("attachment", "23514")
    with app_client(settings) as browser:
        csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/login").text).group(1)
        browser.post("/login", data={"username": "province-bureau", "password": PASSWORD, "csrf": csrf})
        csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get(f"/zones/{uow_zone}").text).group(1)
        r = browser.post(f"/zones/{uow_zone}/changes/{change_id}/report", headers={"Accept": "text/html"},
                         data={"csrf": csrf, "note": "已更换"}, files=[("files", ("说明.pdf", b"%PDF-1.4"))],
                         follow_redirects=False)
        assert r.status_code == 409 and "text/html" in r.headers["content-type"]
        page = browser.get(f"/zones/{uow_zone}").text
    assert "变更报告已登记" not in page and 'id="flash"' not in page
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT reported_on FROM change_event WHERE id = :i"), {"i": change_id}) is None
