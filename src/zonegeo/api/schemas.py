"""API schemas (pydantic, at the edge only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from zonegeo.api.bounds import RegistryDate, ZoneCode


class ORJSONResponse(JSONResponse):
    """Pre-serialised JSON: much faster than FastAPI's encoder for large reports and GeoJSON."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class ZoneBase(BaseModel):
    code: str
    name: str
    city: str
    builder: str
    operator: str
    status: str
    published: bool
    version: int | None


class ZoneSummary(ZoneBase):
    version_state: str | None
    land_m2: float | None
    institutions: int


class ZonesPublic(BaseModel):
    data: list[ZoneSummary]
    count: int


class VersionSummary(BaseModel):
    number: int
    state: str
    state_label: str
    effective_on: str
    uploaded_by: str
    decided_by: str
    source_files: list[dict[str, Any]]


class VersionsPublic(BaseModel):
    data: list[VersionSummary]
    count: int


class ChangeCreate(BaseModel):
    kind: str  # operator | function | mechanism | other
    occurred_on: RegistryDate
    description: str = ""


class ChangeReport(BaseModel):
    reported_by: str
    reported_on: RegistryDate | None = None  # today when omitted
    note: str = ""


class TransitionRequest(BaseModel):
    by: str = ""  # a name to add to the record (e.g. 经办人); the actor is always the logged-in user
    effective_on: RegistryDate | None = None  # approval: the day the new layout took effect


class ZonePublic(ZoneBase):
    versions: list[VersionSummary]
    four_sides: dict[str, str] = Field(default_factory=dict,
                                       description="申报表所写的四至：east（东至）、south（南至）、west（西至）、north（北至）")


# ---- response and request models by resource: what /openapi.json promises is what the routes return -------------
# Routes that return large reports or GeoJSON keep ORJSONResponse for speed and declare these models with
# ``responses=`` (tests/test_openapi_models.py validates real responses against them). Open-ended parts (a rule's
# evidence, a history entry's recorded data) stay dicts; everything a client relies on is typed.


class Open(BaseModel):
    """A model that allows fields beyond the typed ones (records whose content depends on the action)."""

    model_config = ConfigDict(extra="allow")


def documented(model: type[BaseModel], status_code: int = 200) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route returning an ORJSONResponse: the model /openapi.json shows for it."""
    return {status_code: {"model": model}}


# Zones (创建申报)
class FourSides(BaseModel):
    """四至 as the 申报表 words it (each at most 200 characters; all four are required when the object is given)."""

    east: str = Field("", description="东至…")
    south: str = Field("", description="南至…")
    west: str = Field("", description="西至…")
    north: str = Field("", description="北至…")


class ZoneCreate(BaseModel):
    code: ZoneCode
    name: str
    city: str
    builder: str
    operator: str = ""
    four_sides: FourSides | None = None


class ZoneCreated(BaseModel):
    code: str
    state: str


# Reports (申报条件核验报告): the JSON of ``zonegeo check`` and ``zonegeo report``
class ReportAreas(Open):
    land_m2: float
    core_land_m2: float
    core_floor_m2: float
    footprint_m2: float
    floor_m2: float


class ReportInstitutions(Open):
    total: int
    inside: int
    outside: list[dict[str, Any]]
    invalid_credit_codes: list[dict[str, Any]]
    chain_coverage: dict[str, int]
    platforms: list[dict[str, Any]]


class RuleResultPublic(BaseModel):
    id: str
    title: str
    basis: str
    required: Any
    actual: Any
    passed: bool
    message: str
    evidence: dict[str, Any]


class ReviewItemPublic(BaseModel):
    id: str
    title: str
    basis: str


class WarningPublic(BaseModel):
    code: str
    message: str
    detail: dict[str, Any]


class ReportPublic(BaseModel):
    zone: dict[str, Any]
    ruleset: dict[str, str]
    eligible: bool
    eligible_scope: str
    conclusion: str
    areas: ReportAreas
    institutions: ReportInstitutions
    rules: list[RuleResultPublic]
    manual_review: list[ReviewItemPublic]
    buildings: list[dict[str, Any]]
    warnings: list[WarningPublic]
    inputs: list[dict[str, Any]]


# Uploads
class UploadResultPublic(BaseModel):
    code: str
    version: int | None  # the layout draft made; null for an institutions-only upload
    state: str
    created: bool = True  # False: the same files were uploaded before; their draft is returned (200)
    register_draft: int | None = None  # the institution register draft made (tied to ``version`` if both)
    register_state: str | None = None
    institutions: dict[str, int] | None  # what approving the register draft would change: entered/left/updated
    report: ReportPublic


# Versions
class AreaDiffPublic(Open):
    layer: str
    area_before_m2: float
    area_after_m2: float
    area_change_m2: float
    area_change_pct: float | None
    symmetric_difference_m2: float
    hausdorff_m: float
    material: bool
    added_m2: float
    removed_m2: float


class BuildingDiffPublic(BaseModel):
    changes: list[dict[str, Any]]
    floor_before_m2: float
    floor_after_m2: float


class VersionDiffPublic(BaseModel):
    code: str
    from_version: int
    to_version: int
    material: bool
    reasons: list[str]
    boundary: AreaDiffPublic | None
    core: AreaDiffPublic | None
    buildings: BuildingDiffPublic
    tolerances: dict[str, float]


# Changes (变更事项)
class ChangePublic(BaseModel):
    id: int
    kind: str
    kind_label: str
    description: str
    occurred_on: dt.date
    report_due: dt.date
    due_provisional: bool
    status: str
    status_label: str
    reported_on: dt.date | None
    reported_by: str | None
    from_version: int | None
    to_version: int | None
    days_left: int | None
    metrics: dict[str, Any]
    zone_code: str | None = None
    zone_name: str | None = None
    city: str | None = None
    acknowledged_on: dt.date | None = None
    acknowledged_by: str = ""
    receipt_no: str = ""
    receipt_status: str | None = None  # awaiting | acknowledged (None while not reported)
    receipt_label: str | None = None
    city_received_on: dt.date | None = None
    city_received_by: str = ""
    copy_status: str | None = None  # awaiting | received (None while not reported)
    copy_label: str | None = None


class ChangeReceipt(BaseModel):
    """The province's 回执 or the city's 抄报已收到 on a filed change report: the day (default today) and a name."""

    on: dt.date | None = None
    by: str = Field(default="", max_length=200)


class ChangesPublic(BaseModel):
    data: list[ChangePublic]
    count: int


class TransitionResult(BaseModel):
    code: str
    version: int
    state: str
    decided_by: str
    decided_by_name: str
    change_event: ChangePublic | None


# Lifecycle (生命周期)
class ActionRequest(BaseModel):
    on: RegistryDate | None = None  # the day it happened (not in the future); today when omitted
    # result (pass/fail or 合格/不合格), grade (excellent/pass/fail or 优秀/合格/不合格), reason (1–6),
    # rectification_months, period_reason, outcome (upheld/dismissed), decision, text, by (a name to add) …
    data: dict[str, Any] = {}


class ActionResult(BaseModel):
    code: str
    state: str
    state_label: str
    dates: dict[str, Any]
    note: str
    proposal: dict[str, Any] | None
    record: dict[str, Any]
    allowed_next: list[str]


class LifecycleEventPublic(Open):
    id: int
    action: str
    on: dt.date
    from_state: str = Field(alias="from")
    to_state: str = Field(alias="to")
    actor: str
    role: str


class LifecycleEventsPublic(BaseModel):
    data: list[LifecycleEventPublic]


class RevocationPublic(BaseModel):
    code: str
    proposal: dict[str, Any] | None


class AnnualReportCreate(BaseModel):
    year: int
    on: RegistryDate | None = None


AnnualReport = AnnualReportCreate  # the name the routes used before


class AnnualReportPublic(BaseModel):
    year: int
    due: dt.date
    nominal_due: dt.date
    late: bool
    provisional: bool


class WorklistItem(BaseModel):
    """One thing waiting on the user: ``kind`` is a stable code (``services/worklist.KINDS``), ``since`` when it
    began waiting, ``due`` its deadline (None: no deadline), ``workdays_left`` the working days left (negative:
    overdue by that many), ``role`` who must act, ``action_url`` the page where it is done."""

    zone_code: str
    zone_name: str
    city: str
    zone_state: str
    zone_state_label: str
    what: str
    kind: str
    kind_label: str
    since: dt.date | None
    due: dt.date | None
    days_left: int | None
    workdays_left: int | None
    overdue: bool
    provisional: bool
    role: str
    role_label: str
    action_url: str


class WorklistCount(BaseModel):
    kind: str
    label: str
    count: int
    overdue: int


class WorklistFilters(BaseModel):
    city: str | None
    state: str | None
    overdue: bool


class WorklistPublic(BaseModel):
    data: list[WorklistItem]
    count: int
    counts: list[WorklistCount]
    filters: WorklistFilters


# Materials (申报材料)
class AttachmentPublic(BaseModel):
    id: int
    kind: str
    kind_label: str
    filename: str
    sha256: str
    size: int
    uploaded_by: str


class AttachmentsPublic(BaseModel):
    data: list[AttachmentPublic]


# Experts and reviews (专家评审、需人工审核)
class ExpertAssign(BaseModel):
    expert: str


class ExpertAssigned(BaseModel):
    code: str
    expert: str


class OpinionRequest(BaseModel):
    opinion: str
    recommend: bool
    site_visit: bool = False  # 现场答辩/实地考察


class OpinionCreated(BaseModel):
    id: int
    on: dt.date


class ReviewRequest(BaseModel):
    item: str  # an id of the rules file's [[manual_review]] items
    result: str  # 符合 / 不符合 / 需补充 (meets / fails / needs_more)
    note: str = ""


class ReviewRecordPublic(BaseModel):
    id: int
    item: str
    title: str
    result: str
    result_label: str
    note: str
    reviewer: str
    role: str
    date: dt.date


class ReviewItemStatus(ReviewItemPublic):
    result: str | None
    result_label: str
    records: list[ReviewRecordPublic]


class ReviewOverview(BaseModel):
    code: str
    items: list[ReviewItemStatus]
    records: list[ReviewRecordPublic]
    recorded: int
    total: int
    complete: bool


# Audit log (审计日志)
class AuditEntryPublic(Open):
    id: int
    at: str
    actor: str
    role: str
    action: str
    object: str
    before: Any
    after: Any


class AuditEntries(BaseModel):
    data: list[AuditEntryPublic]
    total: int = Field(description="符合筛选条件的条数（不受 limit/offset 影响）")
    limit: int
    offset: int


# Web sessions of a user (routes/auth.py)
class WebSessionPublic(BaseModel):
    id: int
    username: str
    created_at: str
    last_seen_at: str
    expires_at: str
    ended_at: str | None
    ended_by: str | None
    address: str | None
    user_agent: str | None
    active: bool


class WebSessionsPublic(BaseModel):
    data: list[WebSessionPublic]


class SessionsEnded(BaseModel):
    ended: int


# Institution register drafts (机构名录草稿)
class RegisterDraftSummary(BaseModel):
    number: int
    state: str
    state_label: str
    version_number: int | None  # the layout version uploaded with it (decided together), if any
    version_state: str | None
    version_state_label: str | None
    institutions: int
    content_sha256: str
    uploaded_by: str
    decided_by: str
    decided_at: str | None
    note: str  # the province's comment (退回意见) or decision note
    created_at: str | None
    files: list[dict[str, Any]]
    allowed_actions: list[str]


class RegisterDraftsPublic(BaseModel):
    data: list[RegisterDraftSummary]
    count: int


class RegisterDraftDetail(RegisterDraftSummary):
    code: str
    zone_name: str
    layout_version: int | None  # the layout the rows are checked against
    rows: list[dict[str, Any]]  # every institution, with located_label and inside
    report: ReportPublic  # the zone with this register's institutions
    approved_report: ReportPublic | None  # the zone with its approved institutions, on the same layout
    changes: dict[str, int]  # what approving would change: entered/left/updated
    warnings: list[dict[str, Any]]
    unlocated: list[int] = Field(default_factory=list, description="尚未定位的行（在草稿中的序号，从1起）")
    unconfirmed: list[int] = Field(default_factory=list, description="按地址定位、尚待确认的行")
    unlocated_note: str = Field("", description="如“N家机构尚未定位，未计入”")


class RegisterActionRequest(BaseModel):
    note: str = Field("", max_length=2000, description="意见（退回时必填）")


class RegisterActionResult(BaseModel):
    code: str
    register_draft: int
    state: str
    state_label: str
    decided_by: str
    note: str
    institutions: dict[str, int] | None  # on approval: entered/left/updated
    superseded: list[int]


# Site visits (实地考察, the expert's phone)
class SiteVisitFindingPublic(BaseModel):
    """One finding as stored; ``created`` false: this ``client_id`` was stored before and nothing new was written."""

    id: int
    client_id: str
    visit_id: int
    target_kind: str  # institution | building
    target_id: int
    target_name: str
    status: str  # present | absent | unverified ('' for a building)
    status_label: str  # 在位 / 不在位 / 未核实
    observed_use: str
    note: str
    observed_at: str
    recorded_by: str
    photo: bool
    photo_url: str | None = None
    photo_taken_at: str | None = None  # EXIF DateTimeOriginal (the camera's local time)
    photo_lon: float | None = None  # EXIF GPS
    photo_lat: float | None = None
    photo_distance_m: float | None = None  # from the institution's registered point
    created: bool = True


class SiteVisitPublic(BaseModel):
    id: int
    expert: str
    visited_on: dt.date
    findings: list[SiteVisitFindingPublic]
    counts: dict[str, int]


class SiteVisitsPublic(BaseModel):
    code: str
    data: list[SiteVisitPublic]


# Integrity across zones (routes/integrity.py)
class IntegrityFinding(BaseModel):
    kind: str = Field(description="zone_overlap | outside_city | duplicate_credit_code | same_point | duplicate_platform")
    kind_label: str
    message: str = Field(description="中文说明：哪些集聚区、哪个机构、在哪里")
    zones: list[str]
    cities: list[str]
    area_m2: float | None = None
    distance_m: float | None = None
    where: list[float] | None = Field(None, description="[经度, 纬度]（CGCS2000）")
    credit_code: str | None = None
    platform: str | None = None
    platform_kind: str | None = None
    claims: list[dict[str, Any]] | None = None
    zone_cities: dict[str, str] = Field(default_factory=dict, description="集聚区编号 → 所在设区市")
    redacted: bool = Field(False, description="设区市所见：其他设区市集聚区只给出编号和所在市")


class IntegrityReport(BaseModel):
    total: int
    cities_checked: bool = Field(False, description="是否已按设区市边界文件核查集聚区超出所在设区市")
    by_kind: dict[str, int]
    labels: dict[str, str]
    tolerances: dict[str, float]
    not_checked: list[str]
    findings: list[IntegrityFinding]


# The city's annual summary report (总结报告, issue 13)
AnnualFigure = int | float | str | None


class AnnualReportSave(BaseModel):
    """Save (a draft) or file (``file``: all sections and figures required) a city's report on a year. Sections not
    given keep their stored text; ``indicators``: zone code → {indicator: value}, keys not given keep theirs."""

    development: str | None = Field(None, max_length=5000, description="发展情况")
    problems: str | None = Field(None, max_length=5000, description="存在问题")
    suggestions: str | None = Field(None, max_length=5000, description="意见建议")
    indicators: dict[str, dict[str, AnnualFigure]] = Field(
        default_factory=dict, max_length=500,
        description="集聚区编号 → {institutions_entered, institutions_left, staff, service_revenue_wan, "
                    "policy_funds_wan, platform_cases}")
    file: bool = Field(False, description="true：报送（须填写全部内容）；false：保存草稿")
    on: RegistryDate | None = None  # the filing day; today when omitted


class AnnualReportTimeliness(BaseModel):
    year: int
    due: dt.date
    nominal_due: dt.date
    provisional: bool
    status: str  # filed | late | pending | overdue | none
    status_label: str
    workdays_late: int


class AnnualReportZone(BaseModel):
    code: str
    name: str
    state: str
    values: dict[str, AnnualFigure]
    prefilled: bool
    from_register: dict[str, Any]  # the register's figures: entered, left, active, platforms, chain, services


class AnnualReportView(BaseModel):
    city: str
    year: int
    report: dict[str, Any]
    timeliness: AnnualReportTimeliness
    zones: list[AnnualReportZone]
    editable: bool
    can_receive: bool


class AnnualReportCell(AnnualReportTimeliness):
    city: str
    zones: int
    state: str | None
    state_label: str
    url: str


class AnnualReportCity(BaseModel):
    city: str
    years: list[AnnualReportCell]


class AnnualReportsOverview(BaseModel):
    years: list[int]
    cities: list[AnnualReportCity]
