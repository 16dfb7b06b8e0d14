"""The unit of work: one transaction per use case, committed before anyone is told it was stored.

The API and the CLI get their sessions only from here. Database errors are translated once, by kind,
into the project's error family: a lost connection or a busy server (503, retry), a deadlock or a
serialization failure (503, retry), a constraint violation (409, naming the constraint in Chinese), and
anything else (500, details logged, never shown)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from zonegeo.config import Settings
from zonegeo.db.session import make_engine, session_factory
from zonegeo.db.session import transaction as db_transaction
from zonegeo.errors import ConflictError, InternalError, UnavailableError, ZonegeoError

log = logging.getLogger("zonegeo.db")

# What each constraint of the schema protects, for the 409 message (names from the migrations).
CONSTRAINTS = {
    "zone_code_key": "集聚区编号不能重复",
    "ck_zone_code": "集聚区编号只能由字母、数字、连字符和下划线组成，且以字母或数字开头",
    "ck_zone_city": "设区市须为江苏省13个设区市之一",
    "uq_zone_version_number": "同一集聚区的版本号不能重复",
    "uq_zone_version_one_approved": "同一集聚区只能有一个已批准的空间布局版本",
    "ck_zone_version_boundary_valid": "四至范围须为有效的面",
    "ck_zone_version_core_valid": "核心区须为有效的面",
    "ck_building_floors": "建筑层数须至少为1",
    "ck_building_floors_used": "使用层数须在0与建筑层数之间",
    "ck_building_footprint_valid": "建筑轮廓须为有效的面",
    "uq_institution_active_code": "同一集聚区内在册机构的统一社会信用代码不能重复",
    "ck_institution_dates": "机构退出日期不能早于入驻日期",
    "ck_change_event_due": "报告期限须晚于变更发生日",
    "ck_change_event_reported": "报告日期不能早于变更发生日",
    "app_user_username_key": "用户名不能重复",
    "ck_app_user_city": "设区市知识产权局用户须指定所在设区市",
}
UNREACHABLE = "暂时无法连接数据库，未保存任何内容，请稍后重试（管理员请检查数据库服务和 ZONEGEO_DATABASE_URL）"
SQLSTATE_KINDS = {
    "23505": "唯一性约束", "23503": "外键约束", "23514": "检查约束", "23502": "非空约束", "23P01": "排他约束",
}


def _constraint_name(exc: DBAPIError) -> str:
    diag = getattr(exc.orig, "diag", None)
    return (getattr(diag, "constraint_name", None) or "") if diag is not None else ""


def database_error(exc: SQLAlchemyError) -> ZonegeoError:
    """The error a user sees for a database failure; the original is kept for the log."""
    if isinstance(exc, DisconnectionError):
        return UnavailableError("database_unavailable", UNREACHABLE, {})
    if isinstance(exc, PoolTimeoutError):  # every pooled connection in use past pool_timeout: saturated, not broken
        return UnavailableError("database_busy", "系统繁忙（数据库连接已全部占用），未保存任何内容，请稍后重试",
                                {"reason": "pool_timeout"})
    if not isinstance(exc, DBAPIError):
        return InternalError("database_error", "数据库处理出错，请稍后重试或联系管理员", {})
    sqlstate = getattr(exc.orig, "pgcode", None) or ""
    if exc.connection_invalidated or sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03") or (
            not sqlstate and type(exc).__name__ == "OperationalError"):
        return UnavailableError("database_unavailable", UNREACHABLE, {})
    if sqlstate in ("40001", "40P01"):
        return UnavailableError("database_conflict", "与同时进行的其他操作冲突，未保存任何内容，请稍后重试",
                                {"reason": "deadlock" if sqlstate == "40P01" else "serialization"})
    if sqlstate.startswith("53") or sqlstate in ("57014", "55P03"):
        return UnavailableError("database_busy", "数据库繁忙，未保存任何内容，请稍后重试", {})
    if sqlstate.startswith("23"):
        name = _constraint_name(exc)
        what = CONSTRAINTS.get(name) or f"违反{SQLSTATE_KINDS.get(sqlstate, '数据完整性约束')}"
        return ConflictError("constraint_violation", f"未保存：{what}（约束 {name or sqlstate}）",
                             {"constraint": name, "sqlstate": sqlstate})
    return InternalError("database_error", "数据库处理出错，请稍后重试或联系管理员", {"sqlstate": sqlstate})


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: COMMIT when the block ends without error (and only then is the work stored),
    ROLLBACK of everything on any error. A refused COMMIT raises here, before the caller answers."""
    try:
        with db_transaction(factory) as session:
            yield session
    except SQLAlchemyError as exc:
        log.info("database error: %s", exc.__class__.__name__, exc_info=exc)  # the API logs 500s with the request id
        raise database_error(exc) from exc


def upgrade_schema(database_url: str) -> None:
    """Run the Alembic migrations to head; a database that cannot be reached is a Chinese message."""
    from zonegeo.db.migrate import upgrade

    try:
        upgrade(database_url)
    except SQLAlchemyError as exc:
        raise database_error(exc) from exc


class UnitOfWork:
    """The application's database: an engine with a sized pool, and transactions over it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.factory = session_factory(engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> UnitOfWork:
        return cls(make_engine(settings))

    def __call__(self) -> AbstractContextManager[Session]:
        return transaction(self.factory)

    def dispose(self) -> None:
        self.engine.dispose()
