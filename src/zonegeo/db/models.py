"""SQLAlchemy 2 + GeoAlchemy2 models. The schema itself, check constraints included, is made by the
Alembic migrations in migrations/; a test compares the two."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SRID = 4490


def _multipolygon() -> Geometry:
    return Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False)


class Base(DeclarativeBase):
    pass


class Zone(Base):
    __tablename__ = "zone"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    city: Mapped[str] = mapped_column(String(16))
    builder: Mapped[str] = mapped_column(Text, default="")  # 建设主体
    operator: Mapped[str] = mapped_column(Text, default="")  # 运营管理单位
    status: Mapped[str] = mapped_column(String(32), default="draft")  # lifecycle state (domain/lifecycle.py)
    dates: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)  # approved_on, construction_ends …
    published: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    # the 四至 as the 申报表 words it: {"east": "东至…", "south": "南至…", "west": "西至…", "north": "北至…"}
    four_sides: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    versions: Mapped[list[ZoneVersion]] = relationship(back_populates="zone", order_by="ZoneVersion.number")
    institutions: Mapped[list[Institution]] = relationship(back_populates="zone", order_by="Institution.id")


class ZoneVersion(Base):
    __tablename__ = "zone_version"
    __table_args__ = (
        UniqueConstraint("zone_id", "number", name="uq_zone_version_number"),
        Index("ix_zone_version_boundary", "boundary", postgresql_using="gist"),
        Index("ix_zone_version_core", "core", postgresql_using="gist"),
        Index("uq_zone_version_one_approved", "zone_id", unique=True, postgresql_where=text("state = 'approved'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    boundary: Mapped[Any] = mapped_column(_multipolygon())
    core: Mapped[Any | None] = mapped_column(_multipolygon(), nullable=True)
    source_files: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    content_sha256: Mapped[str] = mapped_column(String(64))
    ingest_warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    uploaded_by: Mapped[str] = mapped_column(Text, default="")
    effective_on: Mapped[dt.date] = mapped_column(Date)
    decided_by: Mapped[str] = mapped_column(Text, default="")  # the logged-in user who decided
    decided_by_name: Mapped[str] = mapped_column(Text, default="")  # a name the decider added (free text)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")  # the province's 退回意见, if returned
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    zone: Mapped[Zone] = relationship(back_populates="versions")
    buildings: Mapped[list[Building]] = relationship(back_populates="version", order_by="Building.id")


class Building(Base):
    __tablename__ = "building"
    __table_args__ = (
        Index("ix_building_footprint", "footprint", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("zone_version.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text)
    footprint: Mapped[Any] = mapped_column(_multipolygon())
    floors: Mapped[int] = mapped_column(Integer)
    floors_used: Mapped[int] = mapped_column(Integer)
    declared_floor_area_m2: Mapped[float | None] = mapped_column(Double, nullable=True)

    version: Mapped[ZoneVersion] = relationship(back_populates="buildings")


class Institution(Base):
    __tablename__ = "institution"
    __table_args__ = (
        Index("ix_institution_location", "location", postgresql_using="gist"),
        Index("uq_institution_active_code", "zone_id", "credit_code", unique=True,
              postgresql_where=text("left_on IS NULL AND credit_code <> ''")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text)
    credit_code: Mapped[str] = mapped_column(String(32), default="")  # 统一社会信用代码, as given
    kind: Mapped[str] = mapped_column(String(32), default="institution")
    services: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    chain: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    kind_label: Mapped[str] = mapped_column(Text, default="")  # another platform kind, as written (“等”)
    chain_other: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)  # links beyond the four named
    location: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    address: Mapped[str] = mapped_column(Text, default="")
    building: Mapped[str] = mapped_column(Text, default="")
    floor: Mapped[str] = mapped_column(Text, default="")
    entered_on: Mapped[dt.date] = mapped_column(Date)  # 准入
    left_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # 退出
    # how the point was obtained: coordinates (given), building (按楼栋定位), geocoder, map (placed by hand); ''
    # for rows stored before this was recorded
    located_by: Mapped[str] = mapped_column(String(16), default="")

    zone: Mapped[Zone] = relationship(back_populates="institutions")


class RegisterDraft(Base):
    """An institution register uploaded for review. The zone's institutions change only when the province approves
    it (alone, or with the layout version it came with, ``version_number``); ``rows`` are the parsed institutions
    as JSON (name, credit_code, kind, services, chain, kind_label, chain_other, lon, lat, address, building, floor,
    located_by)."""

    __tablename__ = "register_draft"
    __table_args__ = (UniqueConstraint("zone_id", "number", name="uq_register_draft_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    version_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    source_files: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    ingest_warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    content_sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ChangeEvent(Base):
    """A change that must be reported within 15 working days (第三章 变更事项报告制度)."""

    __tablename__ = "change_event"
    __table_args__ = (
        Index("ix_change_event_open_due", "report_due", postgresql_where=text("reported_on IS NULL")),
        Index("ux_change_event_receipt_no", "receipt_no", unique=True, postgresql_where=text("receipt_no <> ''")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    from_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    to_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    report_due: Mapped[dt.date] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(default=False)
    reported_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    reported_by: Mapped[str] = mapped_column(Text, default="")
    report_note: Mapped[str] = mapped_column(Text, default="")
    # the province's 回执 and the city's 抄报已收到 (migration 0009)
    acknowledged_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    acknowledged_by: Mapped[str] = mapped_column(Text, default="", server_default="")
    receipt_no: Mapped[str] = mapped_column(Text, default="", server_default="")
    city_received_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    city_received_by: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    zone: Mapped[Zone] = relationship()


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(Text, default="")
    role: Mapped[str] = mapped_column(String(16))  # applicant | city | province | expert
    city: Mapped[str | None] = mapped_column(String(16), nullable=True)
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)  # only the hash is kept
    label: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    user: Mapped[User] = relationship()


class ZoneMember(Base):
    """An applicant who owns a zone, or an expert assigned to review it."""

    __tablename__ = "zone_member"

    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    relation: Mapped[str] = mapped_column(String(16))


class LifecycleEvent(Base):
    __tablename__ = "lifecycle_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    on_date: Mapped[dt.date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Attachment(Base):
    """申报材料: stored in the database with their hash (small PDFs and scans)."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AuditEntry(Base):
    """The append-only audit log; the database refuses UPDATE, DELETE and TRUNCATE on it."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    object: Mapped[str] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    # Set by the database (trigger audit_log_chain, migration 0006), like id, at, actor and role: whatever the
    # application passes for them is replaced or refused.
    prev_hash: Mapped[str] = mapped_column(String(64), server_default="")
    row_hash: Mapped[str] = mapped_column(String(64), server_default="")


class ReviewRecord(Base):
    """One recorded result of a 需人工审核 item (rules file ``[[manual_review]]``); the latest per item counts."""

    __tablename__ = "review_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16))  # meets | fails | needs_more
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[str] = mapped_column(Text)  # username of the logged-in expert or province user
    role: Mapped[str] = mapped_column(String(16))
    reviewed_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WebSession(Base):
    """A login on the web pages; the signed cookie carries a random token whose SHA-256 names this row. Ended at
    logout or by the province; a cookie whose session has ended is refused."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_by: Mapped[str] = mapped_column(Text, server_default="")
    address: Mapped[str] = mapped_column(Text, server_default="")
    user_agent: Mapped[str] = mapped_column(Text, server_default="")

    user: Mapped[User] = relationship()


class LoginThrottle(Base):
    """Failed logins of one account or from one address: consecutive failures and the lock they earned."""

    __tablename__ = "login_throttle"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)  # account | address
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, server_default="0")
    last_failure_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ExpertOpinion(Base):
    """The structured opinion behind an ``expert_opinion`` lifecycle event: overall, 答辩 and 现场考察 (each part
    only when it was held)."""

    __tablename__ = "expert_opinion"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("lifecycle_event.id", ondelete="CASCADE"), unique=True)
    expert: Mapped[str] = mapped_column(Text)
    opinion: Mapped[str] = mapped_column(Text)
    recommend: Mapped[bool] = mapped_column(Boolean)
    hearing_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # 现场答辩
    hearing_opinion: Mapped[str] = mapped_column(Text, server_default="")
    hearing_recommend: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    inspection_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # 实地考察
    inspection_opinion: Mapped[str] = mapped_column(Text, server_default="")
    inspection_recommend: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SiteVisit(Base):
    """One expert's site visit (实地考察) of one zone on one day."""

    __tablename__ = "site_visit"
    __table_args__ = (UniqueConstraint("zone_id", "expert", "visited_on", name="uq_site_visit_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id", ondelete="CASCADE"), index=True)
    expert: Mapped[str] = mapped_column(Text)
    visited_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SiteVisitFinding(Base):
    """What the expert saw of one institution (在位/不在位/未核实) or building (observed use); ``client_id`` comes from
    the phone, so a finding sent twice is stored once."""

    __tablename__ = "site_visit_finding"
    __table_args__ = (UniqueConstraint("client_id", name="uq_site_visit_finding_client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("site_visit.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    target_kind: Mapped[str] = mapped_column(String(16))  # institution | building
    target_id: Mapped[int] = mapped_column(Integer)
    target_name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="")  # present | absent | unverified
    observed_use: Mapped[str] = mapped_column(Text, server_default="")
    note: Mapped[str] = mapped_column(Text, server_default="")
    observed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    recorded_by: Mapped[str] = mapped_column(Text)
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # re-encoded, no EXIF
    photo_sha256: Mapped[str] = mapped_column(String(64), server_default="")
    photo_taken_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=False), nullable=True)  # EXIF
    photo_lon: Mapped[float | None] = mapped_column(Double, nullable=True)
    photo_lat: Mapped[float | None] = mapped_column(Double, nullable=True)
    photo_distance_m: Mapped[float | None] = mapped_column(Double, nullable=True)


class CityAnnualReport(Base):
    """A 设区市's annual summary report (总结报告, 第三章) on one year: 发展情况, 存在问题, 意见建议, filed by the city
    bureau (draft → filed → received); revisable by the city until the province marks it received (migration 0011)."""

    __tablename__ = "city_annual_report"
    __table_args__ = (UniqueConstraint("city", "year", name="uq_city_annual_report_city_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    development: Mapped[str] = mapped_column(Text, default="")  # 发展情况
    problems: Mapped[str] = mapped_column(Text, default="")  # 存在问题
    suggestions: Mapped[str] = mapped_column(Text, default="")  # 意见建议
    due_on: Mapped[dt.date] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    filed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    filed_by: Mapped[str] = mapped_column(Text, default="")
    filed_via: Mapped[str] = mapped_column(String(16), default="")  # form | xlsx | api
    workdays_late: Mapped[int] = mapped_column(Integer, default=0)
    revisions: Mapped[int] = mapped_column(Integer, default=0)
    received_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    received_by: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    indicators: Mapped[list[AnnualZoneIndicator]] = relationship(
        back_populates="report", order_by="AnnualZoneIndicator.id", cascade="all, delete-orphan")


class AnnualZoneIndicator(Base):
    """One zone's figures in its city's annual report; ``register`` keeps the register's own figures when saved."""

    __tablename__ = "annual_zone_indicator"
    __table_args__ = (UniqueConstraint("report_id", "zone_id", name="uq_annual_zone_indicator_zone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("city_annual_report.id", ondelete="CASCADE"), index=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id", ondelete="CASCADE"), index=True)
    institutions_entered: Mapped[int | None] = mapped_column(Integer, nullable=True)
    institutions_left: Mapped[int | None] = mapped_column(Integer, nullable=True)
    staff: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 从业人员（人）
    service_revenue_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)  # 服务收入（万元）
    policy_funds_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)  # 政策资金（万元）
    platform_cases: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 平台办理案件（件）
    register: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)

    report: Mapped[CityAnnualReport] = relationship(back_populates="indicators")
    zone: Mapped[Zone] = relationship()


class EvaluationRound(Base):
    """A round of 综合评价 (第三章) held in ``year``, with the weights and grade lines it was run under."""

    __tablename__ = "evaluation_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    scheme: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EvaluationRoundExpert(Base):
    """An expert assigned to score the zones of a round."""

    __tablename__ = "evaluation_round_expert"

    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_round.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)


class EvaluationEntry(Base):
    """One zone in a round: its participation (or absence, with or without 正当理由) and the confirmed grade."""

    __tablename__ = "evaluation_entry"
    __table_args__ = (UniqueConstraint("round_id", "zone_id", name="uq_evaluation_entry_zone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_round.id", ondelete="CASCADE"))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id", ondelete="CASCADE"), index=True)
    participation: Mapped[str] = mapped_column(String(24), server_default="taking_part")
    reason: Mapped[str] = mapped_column(Text, server_default="")
    computed_total: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)
    computed_grade: Mapped[str | None] = mapped_column(String(16), nullable=True)
    confirmed_grade: Mapped[str | None] = mapped_column(String(16), nullable=True)
    override_reason: Mapped[str] = mapped_column(Text, server_default="")
    confirmed_by: Mapped[str] = mapped_column(Text, server_default="")
    confirmed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    lifecycle_event_id: Mapped[int | None] = mapped_column(ForeignKey("lifecycle_event.id", ondelete="SET NULL"),
                                                           nullable=True)


class EvaluationScore(Base):
    """One scorer's score (0–100) of one dimension of a zone's indicator sheet."""

    __tablename__ = "evaluation_score"
    __table_args__ = (UniqueConstraint("entry_id", "scorer", "dimension", name="uq_evaluation_score_scorer_dimension"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("evaluation_entry.id", ondelete="CASCADE"))
    scorer: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    dimension: Mapped[str] = mapped_column(String(32))
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PublicObjection(Base):
    """An objection filed on the public 公示 page (issue 14): acknowledged by its receipt number, registered as the
    zone's lifecycle ``objection`` when filed and handled by the province's ``resolve_objection``."""

    __tablename__ = "public_objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id", ondelete="CASCADE"), index=True)
    receipt: Mapped[str] = mapped_column(String(32), unique=True)  # YY-2026-000123
    notice_start: Mapped[dt.date] = mapped_column(Date)
    notice_end: Mapped[dt.date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    attachment_name: Mapped[str] = mapped_column(Text, server_default="")
    attachment_type: Mapped[str] = mapped_column(String(64), server_default="")
    attachment_size: Mapped[int] = mapped_column(Integer, server_default="0")
    attachment_sha256: Mapped[str] = mapped_column(String(64), server_default="")
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    objection_event_id: Mapped[int | None] = mapped_column(ForeignKey("lifecycle_event.id", ondelete="SET NULL"),
                                                           nullable=True)
    resolve_event_id: Mapped[int | None] = mapped_column(ForeignKey("lifecycle_event.id", ondelete="SET NULL"),
                                                         nullable=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PublicObjectionThrottle(Base):
    """Objections filed from one client address (its SHA-256) in the current window."""

    __tablename__ = "public_objection_throttle"

    address_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    filed: Mapped[int] = mapped_column(Integer, server_default="0")
