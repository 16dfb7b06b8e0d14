"""Who may see and change which zone: public (published only), applicant (own zones), city bureau (its
city), province (all), expert (assigned zones, read and opinion only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from zonegeo.db import repo
from zonegeo.db.models import User, Zone, ZoneMember
from zonegeo.errors import InputError, NotFoundError, PermissionDeniedError
from zonegeo.services import audit, disclosure

MEMBER_RELATIONS = ("applicant", "expert")

# Role rules of the endpoints (``api/deps.py`` builds its dependencies from these, so the authorisation-matrix
# test reads them from the route table); the per-zone rules are the functions below.
READ_ROLES = ("applicant", "city", "province", "expert")  # any login
WRITE_ROLES = ("applicant", "city", "province")  # change a zone's files and records
BUREAU_ROLES = ("city", "province")  # change events and their reports across zones
PROVINCE_ROLES = ("province",)
EXPERT_ROLES = ("expert",)
REVIEW_WRITE_ROLES = ("expert", "province")  # 需人工审核 records (experts: assigned zones only)
REVIEW_READ_ROLES = ("expert", "province", "city")


def relation(session: Session, user: User, zone: Zone) -> str | None:
    return session.scalar(select(ZoneMember.relation).where(ZoneMember.zone_id == zone.id,
                                                            ZoneMember.user_id == user.id))


def can_see(session: Session, user: User | None, zone: Zone) -> bool:
    if user is None:
        return disclosure.zone_is_public(zone)
    if user.role == "province":
        return True
    if user.role == "city":
        return zone.city == user.city
    return relation(session, user, zone) is not None  # applicant (own) or expert (assigned)


def visible_zone(session: Session, user: User | None, code: str) -> Zone:
    """The zone if ``user`` may see it; otherwise 'not found', so that hidden zones are not revealed."""
    zone = repo.get_zone(session, code)
    if not can_see(session, user, zone):
        raise NotFoundError("zone_not_found", f"集聚区“{code}”不存在", {"code": code})
    return zone


def can_write(session: Session, user: User | None, zone: Zone) -> bool:
    """Whether ``user`` may change the zone's files and records (experts and the public never may)."""
    return user is not None and user.role in WRITE_ROLES and can_see(session, user, zone)


def writable_zone(session: Session, user: User, code: str) -> Zone:
    """The zone if ``user`` may change its files and records; 'not found' if they may not even see it."""
    zone = visible_zone(session, user, code)
    if not can_write(session, user, zone):
        raise PermissionDeniedError("read_only", "评审专家只能查看和提交评审意见", {"code": code})
    return zone


def city_scope(user: User, city: str | None) -> str | None:
    """The city whose records a bureau user may list: a city bureau its own, whatever it asks for; the province
    the one it asks for (None: all)."""
    return user.city if user.role == "city" else city


def review_rights(session: Session, user: User, zone: Zone) -> dict[str, bool]:
    """What the review page offers ``user`` on this zone: recording results, deciding a proposed revocation."""
    return {"can_record": can_record_reviews(session, user, zone), "is_reviewer": user.role in REVIEW_WRITE_ROLES,
            "can_decide_revocation": user.role in PROVINCE_ROLES}


def can_record_reviews(session: Session, user: User | None, zone: Zone) -> bool:
    """Whether ``user`` may record 需人工审核 results on this zone now (an assigned expert or the province)."""
    from zonegeo.services import reviews

    if user is None or user.role not in REVIEW_WRITE_ROLES or zone.status not in reviews.OPEN_STATES:
        return False
    return user.role != "expert" or relation(session, user, zone) == "expert"


def visible_zones(session: Session, user: User | None) -> list[Zone]:
    """The zones ``user`` may see (``can_see`` as one query), in the order of ``repo.list_zones``."""
    stmt = select(Zone).order_by(Zone.city, Zone.code)
    if user is None:
        stmt = stmt.where(disclosure.public_zones_clause())
    elif user.role == "city":
        stmt = stmt.where(Zone.city == user.city)
    elif user.role != "province":
        stmt = stmt.where(Zone.id.in_(select(ZoneMember.zone_id).where(ZoneMember.user_id == user.id)))
    return list(session.scalars(stmt))


def add_member(*, session: Session, code: str, username: str, relation_: str, by: User | None = None,
               actor: str = "cli") -> None:
    """Grant ``username`` a zone (as its applicant or its expert); a new grant is audited (``by`` the logged-in
    user, else ``actor``, e.g. the CLI)."""
    from zonegeo.services.auth import get_user

    if relation_ not in MEMBER_RELATIONS:
        raise InputError("unknown_relation", f"关系“{relation_}”不正确，应为：{'、'.join(MEMBER_RELATIONS)}",
                         {"relation": relation_, "allowed": list(MEMBER_RELATIONS)})
    zone, user = repo.get_zone(session, code), get_user(session, username)
    if user.role != relation_:  # an applicant owns zones, an expert is assigned to them
        raise PermissionDeniedError("wrong_role", f"用户“{username}”的角色不是{relation_}", {"username": username})
    if relation(session, user, zone) is None:
        session.add(ZoneMember(zone_id=zone.id, user_id=user.id, relation=relation_))
        session.flush()
        audit.record(session, by, "member_added", f"zone/{code}", actor=actor,
                     after={"username": username, "relation": relation_})
