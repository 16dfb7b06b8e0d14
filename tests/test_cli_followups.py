"""CLI follow-ups: a repeated import says it wrote nothing, serve reports a bad database URL in Chinese,
and setting a zone's publication to what it already is writes no audit entry."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import demo_copy
from zonegeo.services.publishing import set_published


def test_importing_the_same_folder_twice_says_nothing_was_written(cli, database_url, tmp_path):
    folder, code = demo_copy(tmp_path, "TWICE")
    env = {"ZONEGEO_DATABASE_URL": database_url}
    first = cli("import", str(folder), env=env)
    assert first.returncode == 0 and "新建" in first.stdout
    second = cli("import", str(folder), env=env)
    assert second.returncode == 0, second.stderr
    assert f"集聚区 {code} 的文件与上次导入相同，未写入任何内容" in second.stdout


def test_serve_with_a_bad_database_url_is_a_chinese_message(cli):
    r = cli("serve", env={"ZONEGEO_DATABASE_URL": "mysql://x@127.0.0.1/db"})
    assert r.returncode == 2 and "unsupported_database_driver" in r.stderr


def test_setting_publication_to_what_it_is_writes_no_audit_entry(session, demo_zone):
    def entries() -> int:
        return session.scalar(text("SELECT count(*) FROM audit_log WHERE action = 'set_published' "
                                   "AND object = :o"), {"o": f"zone/{demo_zone}"})

    set_published(session=session, code=demo_zone, published=True)
    once = entries()
    set_published(session=session, code=demo_zone, published=True)
    assert entries() == once
    set_published(session=session, code=demo_zone, published=False)
    assert entries() == once + 1
