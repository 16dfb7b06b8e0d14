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


def test_every_command_module_uses_the_one_cached_settings_and_engine():
    """tests/conftest.py drops zonegeo.cli.settings and zonegeo.cli._uow between invocations: a command module
    with a cache of its own would keep a previous test's database."""
    import pkgutil
    from importlib import import_module

    import zonegeo.cli as package

    modules = [import_module(f"zonegeo.cli.{m.name}") for m in pkgutil.iter_modules(package.__path__)]
    assert len(modules) >= 7
    for module in modules:
        for name in ("settings", "_uow", "_session", "_rules", "_calendar"):
            if hasattr(module, name):
                assert getattr(module, name) is getattr(package, name), f"{module.__name__}.{name}"
        cached = [n for n, v in vars(module).items() if hasattr(v, "cache_clear") and v.__module__ == module.__name__]
        assert cached == [], f"{module.__name__} caches {cached} that the tests cannot drop"
