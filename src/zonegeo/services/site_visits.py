"""Site visits (实地考察) on a phone: the zone's institutions, platforms and buildings to walk past, each finding stored
once whatever the network did (the phone's ``client_id`` is unique), photos decoded with Pillow, their EXIF position
and time kept beside an EXIF-free copy, and the record read back for the zone page, the desk and the audit trail."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import warnings
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, defer

from zonegeo.db import repo
from zonegeo.db.geometry import from_db
from zonegeo.db.models import Building, Institution, SiteVisit, SiteVisitFinding, User, Zone
from zonegeo.domain import site_visit as rules
from zonegeo.domain.lifecycle import STATES
from zonegeo.domain.model import InstitutionKind
from zonegeo.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from zonegeo.services import access, audit, disclosure, reviews

BEIJING = dt.timezone(dt.timedelta(hours=8))
MAX_PHOTO_BYTES = 12 * 1024 * 1024  # a phone camera's JPEG is 2–8 MB
MAX_PHOTO_PIXELS = 50_000_000  # 50 MP: decoded size is bounded before the pixels are read
STORED_PHOTO_PX = 2048  # the long side of the stored copy
READ_ROLES = ("expert", "province", "city")
MAX_FINDINGS_PER_VISIT = 1000  # one expert's findings on one zone in one day (each may carry a photo)


def reading_zone(session: Session, user: User, code: str) -> Zone:
    """The zone for the desk and the visit page: an assigned expert, the province, the zone's city bureau. An expert
    not assigned to this zone is told so (403), and shown nothing of it."""
    if user.role == "expert":
        zone = repo.get_zone(session, code)
        if access.relation(session, user, zone) != "expert":
            raise PermissionDeniedError("not_assigned", f"您未被指派评审集聚区“{code}”，不能查看其评审工作台和实地考察",
                                        {"code": code})
        return zone
    if user.role not in READ_ROLES:
        raise PermissionDeniedError("role_forbidden", "评审工作台和实地考察记录仅供评审专家、设区市和省知识产权局查看",
                                    {"role": user.role})
    return access.visible_zone(session, user, code)


def check_open(zone: Zone) -> None:
    """Findings, like the 需人工审核 records, are made while the review is open (reviews.OPEN_STATES)."""
    if zone.status not in reviews.OPEN_STATES:
        now = STATES.get(zone.status, zone.status)
        raise ConflictError("review_closed", f"当前状态为“{now}”，只能在设区市推荐后、批复前进行实地考察记录",
                            {"state": zone.status})


def can_record(session: Session, user: User | None, zone: Zone) -> bool:
    return (user is not None and user.role == "expert" and zone.status in reviews.OPEN_STATES
            and access.relation(session, user, zone) == "expert")


# ---- what to walk past ----

def targets(session: Session, zone: Zone) -> dict[str, Any]:
    """The zone's active institutions and platforms (with their registered point) and the buildings of the layout a
    reviewer is shown (the approved one, else the newest)."""
    institutions = []
    for row in repo.active_institutions(session, zone):
        point = from_db(row.location)
        kind = InstitutionKind(row.kind) if row.kind in InstitutionKind._value2member_map_ else None
        institutions.append({
            "id": row.id, "name": row.name, "platform": kind is not None and kind.is_platform,
            "kind_label": row.kind_label or (kind.label if kind else row.kind), "address": row.address,
            "building": row.building, "floor": row.floor,
            "lon": round(point.x, 6) if point is not None else None,
            "lat": round(point.y, 6) if point is not None else None})
    version = disclosure.shown_version(session, zone, disclosure.for_audience("reviewer"))
    buildings = [] if version is None else [
        {"id": b.id, "name": b.name, "floors": b.floors, "floors_used": b.floors_used} for b in version.buildings]
    return {"institutions": [i for i in institutions if not i["platform"]],
            "platforms": [i for i in institutions if i["platform"]], "buildings": buildings,
            "version": version.number if version is not None else None}


def _target(session: Session, zone: Zone, finding: rules.Finding) -> tuple[str, tuple[float, float] | None]:
    """The target's name and registered point (institutions), or a located 422 when it is not the zone's."""
    if finding.target_kind == "institution":
        row = session.get(Institution, finding.target_id)
        if row is None or row.zone_id != zone.id or row.left_on is not None:
            raise InputError("unknown_target", f"机构编号{finding.target_id}不是本集聚区的在册机构或平台",
                             {"field": "target_id", "value": finding.target_id})
        point = from_db(row.location)
        return row.name, ((point.x, point.y) if point is not None else None)
    building = session.get(Building, finding.target_id)
    if building is None or building.version.zone_id != zone.id:
        raise InputError("unknown_target", f"建筑编号{finding.target_id}不是本集聚区空间布局中的建筑",
                         {"field": "target_id", "value": finding.target_id})
    return building.name, None


# ---- photos ----

def read_photo(content: bytes, *, filename: str = "photo") -> dict[str, Any]:
    """A phone photo decoded with Pillow: its EXIF GPS position and DateTimeOriginal, and a copy to store (turned
    upright, at most 2048 px, JPEG) that carries no EXIF — no position, no device — whatever the original held."""
    if len(content) > MAX_PHOTO_BYTES:
        raise InputError("photo_too_large", f"照片{filename}超过上限{MAX_PHOTO_BYTES // 1048576} MB",
                         {"field": "photo", "max_bytes": MAX_PHOTO_BYTES, "size": len(content)})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content))
            if image.format not in ("JPEG", "PNG", "WEBP"):
                raise InputError("bad_photo_format", f"照片{filename}的格式{image.format}不支持，请用JPEG、PNG或WebP",
                                 {"field": "photo", "format": image.format})
            if image.width * image.height > MAX_PHOTO_PIXELS:
                raise InputError("photo_too_many_pixels", f"照片{filename}为{image.width}×{image.height}像素，"
                                 f"超过上限{MAX_PHOTO_PIXELS // 1_000_000}百万像素",
                                 {"field": "photo", "width": image.width, "height": image.height})
            exif = image.getexif()
            gps = dict(exif.get_ifd(0x8825))  # GPSInfo
            taken = exif.get_ifd(0x8769).get(36867) or exif.get(306)  # DateTimeOriginal, else DateTime
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((STORED_PHOTO_PX, STORED_PHOTO_PX))
            out = io.BytesIO()
            upright.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    except InputError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError, ValueError,
            SyntaxError) as exc:
        raise InputError("bad_photo", f"照片{filename}无法读取（{type(exc).__name__}），请重新拍摄或选择JPEG照片",
                         {"field": "photo"}) from None
    stored = out.getvalue()
    return {"photo": stored, "sha256": hashlib.sha256(stored).hexdigest(), "position": rules.exif_position(gps),
            "taken_at": rules.exif_time(taken) if taken else None}


# ---- findings ----

def _visit(session: Session, zone: Zone, user: User, day: dt.date) -> SiteVisit:
    """The expert's visit of the zone on ``day``, made on its first finding (two at once: one row)."""
    session.execute(insert(SiteVisit).values(zone_id=zone.id, expert=user.username, visited_on=day)
                    .on_conflict_do_nothing(constraint="uq_site_visit_day"))
    return session.scalars(select(SiteVisit).where(SiteVisit.zone_id == zone.id, SiteVisit.expert == user.username,
                                                   SiteVisit.visited_on == day)).one()


def _existing(session: Session, zone: Zone, user: User, client_id: str) -> dict[str, Any] | None:
    row = session.scalars(select(SiteVisitFinding).options(defer(SiteVisitFinding.photo))
                          .where(SiteVisitFinding.client_id == client_id)).first()
    if row is None:
        return None
    visit = session.get(SiteVisit, row.visit_id)
    if visit is None or visit.zone_id != zone.id or row.recorded_by != user.username:
        raise ConflictError("client_id_taken", f"记录编号“{client_id}”已被另一条考察记录使用，请刷新页面后重新记录",
                            {"client_id": client_id})
    return finding_dict(row, zone.code)


def record_finding(*, session: Session, user: User, code: str, client_id: str, target_kind: str, target_id: Any,
                   status: str = "", observed_use: str = "", note: str = "", observed_at: str,
                   photo: tuple[str, bytes] | None = None, now: dt.datetime | None = None) -> tuple[dict[str, Any], bool]:
    """Store one finding of the assigned expert; the same ``client_id`` again returns what was stored (False: not
    created), so a phone that retries never stores a finding twice."""
    zone = reading_zone(session, user, code)
    if user.role != "expert":
        raise PermissionDeniedError("experts_only", "实地考察记录由指派的评审专家填写", {"role": user.role})
    now = now or dt.datetime.now(dt.UTC)
    finding = rules.check_finding(client_id=client_id, target_kind=target_kind, target_id=target_id, status=status,
                                  observed_use=observed_use, note=note, observed_at=observed_at, now=now)
    stored = _existing(session, zone, user, finding.client_id)
    if stored is not None:
        return stored, False
    check_open(zone)
    name, point = _target(session, zone, finding)
    pic = read_photo(photo[1], filename=photo[0]) if photo is not None and photo[1] else None
    visit = _visit(session, zone, user, finding.observed_at.astimezone(BEIJING).date())
    held = session.scalar(select(func.count()).select_from(SiteVisitFinding).where(SiteVisitFinding.visit_id == visit.id))
    if (held or 0) >= MAX_FINDINGS_PER_VISIT:
        raise InputError("too_many_findings", f"{visit.visited_on}的实地考察已有{held}条记录，达到上限{MAX_FINDINGS_PER_VISIT}条",
                         {"visit": visit.id, "max": MAX_FINDINGS_PER_VISIT})
    position = pic["position"] if pic else None
    distance = (round(rules.distance_m(position[0], position[1], point[0], point[1]), 1)
                if position is not None and point is not None else None)
    values = {"visit_id": visit.id, "client_id": finding.client_id, "target_kind": finding.target_kind,
              "target_id": finding.target_id, "target_name": name, "status": finding.status,
              "observed_use": finding.observed_use, "note": finding.note, "observed_at": finding.observed_at,
              "recorded_by": user.username, "photo": pic["photo"] if pic else None,
              "photo_sha256": pic["sha256"] if pic else "", "photo_taken_at": pic["taken_at"] if pic else None,
              "photo_lon": position[0] if position else None, "photo_lat": position[1] if position else None,
              "photo_distance_m": distance}
    new_id = session.scalar(insert(SiteVisitFinding).values(**values)
                            .on_conflict_do_nothing(constraint="uq_site_visit_finding_client_id")
                            .returning(SiteVisitFinding.id))
    if new_id is None:  # the same finding arrived twice at once: the other request stored it
        again = _existing(session, zone, user, finding.client_id)
        assert again is not None
        return again, False
    row = session.get(SiteVisitFinding, new_id)
    assert row is not None
    audit.record(session, user, "site_visit_finding", f"zone/{code}/visit/{visit.id}",
                 after={"对象": name, "结果": rules.STATUSES.get(finding.status, "") or finding.observed_use,
                        "说明": finding.note, "记录时间": finding.observed_at.astimezone(BEIJING).isoformat(),
                        "照片": pic["sha256"] if pic else "",
                        "照片距登记位置（米）": distance, "client_id": finding.client_id})
    return finding_dict(row, zone.code), True


def finding_dict(row: SiteVisitFinding, code: str) -> dict[str, Any]:
    return {"id": row.id, "client_id": row.client_id, "visit_id": row.visit_id, "target_kind": row.target_kind,
            "target_id": row.target_id, "target_name": row.target_name, "status": row.status,
            "status_label": rules.STATUSES.get(row.status, ""), "observed_use": row.observed_use, "note": row.note,
            "observed_at": row.observed_at.astimezone(BEIJING).isoformat(timespec="minutes"),
            "recorded_by": row.recorded_by, "photo": bool(row.photo_sha256),
            "photo_url": f"/zones/{code}/visit/photos/{row.id}" if row.photo_sha256 else None,
            "photo_taken_at": row.photo_taken_at.isoformat() if row.photo_taken_at else None,
            "photo_lon": row.photo_lon, "photo_lat": row.photo_lat, "photo_distance_m": row.photo_distance_m}


def visits(session: Session, zone: Zone) -> list[dict[str, Any]]:
    """Every visit of the zone (newest first): who, which day, its findings and the counts of each status."""
    rows = list(session.scalars(select(SiteVisit).where(SiteVisit.zone_id == zone.id)
                                .order_by(SiteVisit.visited_on.desc(), SiteVisit.id.desc())))
    if not rows:
        return []
    found = list(session.scalars(select(SiteVisitFinding).options(defer(SiteVisitFinding.photo))
                                 .where(SiteVisitFinding.visit_id.in_([v.id for v in rows]))
                                 .order_by(SiteVisitFinding.observed_at, SiteVisitFinding.id)))
    out = []
    for visit in rows:
        mine = [finding_dict(f, zone.code) for f in found if f.visit_id == visit.id]
        counts = {label: sum(1 for f in mine if f["status"] == key) for key, label in rules.STATUSES.items()}
        counts["建筑"] = sum(1 for f in mine if f["target_kind"] == "building")
        out.append({"id": visit.id, "expert": visit.expert, "visited_on": visit.visited_on.isoformat(),
                    "findings": mine, "counts": counts})
    return out


def latest_findings(all_visits: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    return rules.latest_by_target([f for v in all_visits for f in v["findings"]])


def photo(*, session: Session, user: User, code: str, finding_id: int) -> bytes:
    zone = reading_zone(session, user, code)
    row = session.get(SiteVisitFinding, finding_id)
    visit = session.get(SiteVisit, row.visit_id) if row is not None else None
    if row is None or visit is None or visit.zone_id != zone.id or row.photo is None:
        raise NotFoundError("photo_not_found", f"集聚区“{code}”没有编号为{finding_id}的考察照片",
                            {"code": code, "finding": finding_id})
    return row.photo
