"""What each audience may see of a zone, its layout versions, its institutions and its report: one policy,
used by the API, the web pages, the maps and the static public site.

The public (no login) sees published zones that are not revoked, their approved layout only, and public
attributes only: no credit code of a natural person (个体工商户, 92…), no invalid code and no 信用代码无效 flags,
no warnings (they are for reviewers, credit-code findings among them), no evidence naming the institutions that
were not counted. Logged-in users see everything of the
zones they may see (``services/access.py`` decides which)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, select
from sqlalchemy.orm import Session

from zonegeo.db import repo
from zonegeo.db.models import User, Zone, ZoneVersion
from zonegeo.domain import versions
from zonegeo.domain.credit_code import is_natural_person_code, is_valid
from zonegeo.domain.lifecycle import PUBLIC_HIDDEN_STATES
from zonegeo.errors import InputError

AUDIENCES = ("reviewer", "public", "offline")  # offline: the reviewer's map as one file for a site visit


@dataclass(frozen=True)
class Disclosure:
    """One audience's view. The map renderer reads the same object (``maps.render.MapPolicy``)."""

    audience: str
    public: bool
    verdict: bool = True  # the conclusion (量化条件全部符合 / 未全部符合) and each rule's result
    invalid_codes: bool = True  # 信用代码无效 flags and the list of invalid codes
    warnings: bool = True  # the report's warnings (credit-code findings, gaps, branches …) are for reviewers
    evidence: bool = True  # rule evidence naming institutions (e.g. excluded for an invalid code)

    def credit_code(self, code: str) -> str:
        """The credit code as this audience may see it: the public sees valid codes of organisations only (a
        natural person's is personal data; an invalid one is a reviewer's finding)."""
        if self.public and (is_natural_person_code(code) or not is_valid(code)):
            return ""
        return code

    def sees_version(self, state: str) -> bool:
        return not self.public or state == versions.APPROVED


REVIEWER = Disclosure("reviewer", public=False)
OFFLINE = Disclosure("offline", public=False)
PUBLIC = Disclosure("public", public=True, invalid_codes=False, warnings=False, evidence=False)


def for_user(user: Any, *, offline: bool = False) -> Disclosure:
    """The policy for a caller: the public without a login, the full view with one (``offline``: the site-visit
    file)."""
    if user is None:
        return PUBLIC
    return OFFLINE if offline else REVIEWER


def for_audience(audience: str) -> Disclosure:
    policies = {p.audience: p for p in (REVIEWER, OFFLINE, PUBLIC)}
    if audience not in policies:
        raise InputError("unknown_audience", f"受众“{audience}”不正确，应为：{'、'.join(policies)}",
                         {"audience": audience, "allowed": list(policies)})
    return policies[audience]


# ---- zones -------------------------------------------------------------------------------------------------

def zone_is_public(zone: Zone) -> bool:
    """Whether the public may see this zone at all (its layout is a further condition: ``shown_version``)."""
    return bool(zone.published) and zone.status not in PUBLIC_HIDDEN_STATES


def public_zones_clause() -> ColumnElement[bool]:
    """``zone_is_public`` as a SQL condition on ``Zone``."""
    return and_(Zone.published.is_(True), Zone.status.not_in(PUBLIC_HIDDEN_STATES))


def shown_version(session: Session, zone: Zone, policy: Disclosure) -> ZoneVersion | None:
    """The layout an audience is shown by default: the approved one; reviewers of a zone with no approved layout
    yet (a new application) see its newest version instead. The public never sees a draft."""
    approved = repo.approved_version(session, zone)
    if approved is not None or policy.public:
        return approved
    return repo.latest_version(session, zone)


def shown_versions(session: Session, zone_ids: list[int], policy: Disclosure) -> dict[int, ZoneVersion]:
    """``shown_version`` of many zones in one query (buildings not loaded): zone id → version."""
    if not zone_ids:
        return {}
    approved_first = case((ZoneVersion.state == versions.APPROVED, 0), else_=1)
    stmt = (select(ZoneVersion).where(ZoneVersion.zone_id.in_(zone_ids), ZoneVersion.state != versions.WITHDRAWN)
            .distinct(ZoneVersion.zone_id).order_by(ZoneVersion.zone_id, approved_first, ZoneVersion.number.desc()))
    if policy.public:
        stmt = stmt.where(ZoneVersion.state == versions.APPROVED)
    return {v.zone_id: v for v in session.scalars(stmt)}


# ---- 公示 and 公告: public by the regulation, beyond the public map ------------------------------------------------

NOTICED_STATES = ("noticed",)  # 向社会公示: the zone, its layout and report are public while (and after) noticed


def announced_zones_clause() -> ColumnElement[bool]:
    """The zones the 公告 speaks of: those on the public site, revoked ones included (取消称号并予以公告)."""
    return Zone.published.is_(True)


def noticed_version(session: Session, zone: Zone) -> ZoneVersion | None:
    """The layout shown in a 公示: the approved one, else the newest submitted one (never a draft)."""
    approved = repo.approved_version(session, zone)
    if approved is not None:
        return approved
    submitted = [v for v in repo.list_versions(session, zone) if v.state == "submitted"]
    return submitted[-1] if submitted else None


def visible_versions(policy: Disclosure, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Version dicts (``zones.version_dict``) this audience may see."""
    return [v for v in rows if policy.sees_version(v["state"])]


# Who acted, as the public sees it: an organisation, never an account's username (issue 11).
ORGANISATIONS = {"province": "江苏省知识产权局", "expert": "评审专家组"}
ACTOR_FIELDS = ("uploaded_by", "decided_by", "decided_by_name")


def organisation(session: Session, zone: Zone, username: str) -> str:
    if not username:
        return ""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:  # the command line ("cli") or the system at start-up
        return "系统导入"
    if user.role == "applicant":
        return zone.builder or "建设主体"
    if user.role == "city":
        return f"{user.city}知识产权局"
    return ORGANISATIONS.get(user.role, "")


def public_actors(policy: Disclosure, session: Session, zone: Zone, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Version dicts with each actor field named by its organisation when ``policy`` is the public's."""
    if not policy.public:
        return rows
    return [v | {k: organisation(session, zone, v[k]) for k in ACTOR_FIELDS if k in v} for v in rows]


# ---- reports -----------------------------------------------------------------------------------------------

# Rules whose evidence names institutions and why they were not counted (位于四至范围外, 信用代码无效).
INSTITUTION_EVIDENCE = ("institutions",)


def _blank_codes(value: Any, policy: Disclosure) -> Any:
    """Every ``credit_code`` anywhere in a JSON value, as ``policy`` may see it."""
    if isinstance(value, dict):
        return {k: (policy.credit_code(v) if k == "credit_code" and isinstance(v, str) else _blank_codes(v, policy))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_blank_codes(v, policy) for v in value]
    return value


def report(policy: Disclosure, data: dict[str, Any]) -> dict[str, Any]:
    """A report dict (``Report.to_dict()``) as ``policy`` may see it. The same for the API, the zone page and
    the static site; the map renderer applies the same policy to its popups and legend."""
    if not policy.public:
        return data
    out = dict(data)
    inst = dict(out["institutions"])
    if not policy.invalid_codes:
        inst["invalid_credit_codes"] = []
    out["institutions"] = inst
    if not policy.evidence:
        out["rules"] = [r | {"evidence": {}} if r["id"] in INSTITUTION_EVIDENCE else r for r in out["rules"]]
    if not policy.warnings:  # they flag things for the reviewer, credit-code findings among them
        out["warnings"] = []
    return _blank_codes(out, policy)
