"""Domain values: a zone's spatial plan (四至 boundary, 核心区 core, buildings) and its institutions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from shapely.geometry import MultiPolygon

# A zone's code: the database's ck_zone_code and String(64); checked by the API's input bounds and by
# services.lifecycle.create_application
ZONE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class ChainLink(StrEnum):
    """Links of the IP service chain (知识产权全链条)."""

    CREATION = "创造"
    UTILIZATION = "运用"
    PROTECTION = "保护"
    TALENT = "人才"


class InstitutionKind(StrEnum):
    """An IP service institution (服务机构) or one of the public service platforms (公共服务平台).

    The regulation lists the platforms with “等”: a platform of another kind (e.g. 知识产权信息公共服务网点)
    is ``OTHER_PLATFORM``, its own name of the kind kept in :attr:`Institution.kind_label`."""

    INSTITUTION = "institution"
    PROTECTION_CENTER = "protection_center"
    RAPID_RIGHTS_CENTER = "rapid_rights_center"
    SERVICE_WINDOW = "service_window"
    OTHER_PLATFORM = "other_platform"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]

    @property
    def is_platform(self) -> bool:
        return self is not InstitutionKind.INSTITUTION


_KIND_LABELS = {
    InstitutionKind.INSTITUTION: "知识产权服务机构",
    InstitutionKind.PROTECTION_CENTER: "知识产权保护中心",
    InstitutionKind.RAPID_RIGHTS_CENTER: "快速维权中心",
    InstitutionKind.SERVICE_WINDOW: "知识产权业务窗口",
    InstitutionKind.OTHER_PLATFORM: "其他知识产权公共服务平台",
}


@dataclass(frozen=True, slots=True)
class Building:
    """A building (物理载体) of the zone; floor area = footprint × floors used (使用层数)."""

    name: str
    footprint: MultiPolygon
    floors: int
    floors_used: int
    declared_floor_area_m2: float | None = None  # 建筑面积 as stated by the applicant


@dataclass(frozen=True)
class Institution:
    """An IP service institution or platform located in (or claimed by) the zone."""

    name: str
    credit_code: str  # 统一社会信用代码
    lon: float
    lat: float
    kind: InstitutionKind = InstitutionKind.INSTITUTION
    services: tuple[str, ...] = ()  # 服务类型: 代理/法律/信息/咨询/托管/运营/培训…
    chain: tuple[ChainLink, ...] = ()  # 链条环节
    address: str = ""
    building: str = ""
    floor: str = ""
    kind_label: str = ""  # the kind as written in the file, for OTHER_PLATFORM (e.g. 知识产权信息公共服务网点)
    chain_other: tuple[str, ...] = ()  # chain links outside the four named ones (“全链条” ends with “等”)
    located_by: str = "coordinates"  # how lon/lat were obtained: "coordinates" (the file's) or "building" (楼栋)

    @property
    def label(self) -> str:
        """The kind as shown to people: the file's own words for another platform, else the enum's label."""
        return self.kind_label or self.kind.label


@dataclass(frozen=True)
class ZonePlan:
    """The spatial layout of a zone (空间布局和物理载体), all geometries in EPSG:4490 lon/lat."""

    boundary: MultiPolygon
    core: MultiPolygon | None = None
    buildings: tuple[Building, ...] = ()
    institutions: tuple[Institution, ...] = ()


@dataclass(frozen=True)
class ZoneInfo:
    """Who and where: the administrative facts of a zone."""

    code: str
    name: str
    city: str
    builder: str = ""  # 建设主体
    operator: str = ""  # 运营管理单位
    note: str = ""
    status: str = "operating"  # lifecycle state of a zone registered from its records
    extra: dict[str, str] = field(default_factory=dict)  # lifecycle dates (approved_on, construction_ends …)


# The 13 prefecture-level cities of Jiangsu (设区市).
JIANGSU_CITIES = (
    "南京市", "无锡市", "徐州市", "常州市", "苏州市", "南通市", "连云港市",
    "淮安市", "盐城市", "扬州市", "镇江市", "泰州市", "宿迁市",
)
