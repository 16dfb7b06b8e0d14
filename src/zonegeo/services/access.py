"""Who may see and change which zone: public (published only), applicant (own zones), city bureau (its
city), province (all), expert (assigned zones, read and opinion only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from zonegeo.db import repo
from zonegeo.db.models import User, Zone, ZoneMember
from zonegeo.errors import InputError, NotFoundError, PermissionDeniedError

PUBLIC_HIDDEN = ("revoked",)
MEMBER_RELATIONS = ("applicant", "expert")


def relation(session: Session, user: User, zone: Zone) -> str | None:
    return session.scalar(select(ZoneMember.relation).where(ZoneMember.zone_id == zone.id,
                                                            ZoneMember.user_id == user.id))


def can_see(session: Session, user: User | None, zone: Zone) -> bool:
    if user is None:
        return zone.published and zone.status not in PUBLIC_HIDDEN
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


def writable_zone(session: Session, user: User, code: str) -> Zone:
    """The zone if ``user`` may change its files and records (experts and the public never may)."""
    zone = visible_zone(session, user, code)
    if user.role == "expert":
        raise PermissionDeniedError("read_only", "评审专家只能查看和提交评审意见", {"code": code})
    return zone


def visible_zones(session: Session, user: User | None) -> list[Zone]:
    return [z for z in repo.list_zones(session) if can_see(session, user, z)]


def add_member(*, session: Session, code: str, username: str, relation_: str) -> None:
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
