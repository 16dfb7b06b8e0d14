"""Integrity across zones on a page and as JSON (issue 14): /integrity and /api/integrity for the province (every
finding) and the city bureaus (the findings that name a zone of their city). The findings are computed by PostGIS
in services/integrity.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from zonegeo.api.deps import Bureau, SessionDep, SettingsDep
from zonegeo.api.schemas import IntegrityReport, ORJSONResponse, documented
from zonegeo.db.models import User
from zonegeo.services import integrity

router = APIRouter()


def _mine(session, user: User, settings) -> tuple[list[dict[str, Any]], bool]:
    cities = integrity.configured_cities(settings.city_boundaries)
    if user.role == "province":
        return integrity.findings(session, cities=cities), cities is not None
    city = user.city or ""
    return integrity.for_city(integrity.findings(session, city=city, cities=cities), city), cities is not None


@router.get("/api/integrity", response_class=ORJSONResponse, response_model=IntegrityReport,
            responses=documented(IntegrityReport), summary="跨集聚区核查（省局全部，设区市本市）")
def integrity_json(session: SessionDep, settings: SettingsDep, user: Bureau) -> ORJSONResponse:
    found, checked = _mine(session, user, settings)
    return ORJSONResponse(integrity.summary(found, cities_checked=checked) | {"findings": found})


@router.get("/integrity", response_class=HTMLResponse, include_in_schema=False)
def integrity_page(request: Request, session: SessionDep, settings: SettingsDep, user: Bureau) -> HTMLResponse:
    found, checked = _mine(session, user, settings)
    context = {"user": user, "findings": found, "summary": integrity.summary(found, cities_checked=checked)}
    return request.app.state.templates.TemplateResponse(request, "integrity.html", context)
