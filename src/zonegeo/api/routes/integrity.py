"""Integrity across zones on a page and as JSON (issue 14): /integrity and /api/integrity for the province (every
finding) and the city bureaus (the findings that name a zone of their city). The findings are computed by PostGIS
in services/integrity.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from zonegeo.api.deps import Bureau, SessionDep
from zonegeo.api.schemas import IntegrityReport, ORJSONResponse, documented
from zonegeo.db.models import User
from zonegeo.services import integrity

router = APIRouter()


def _mine(session, user: User) -> list[dict[str, Any]]:
    if user.role == "province":
        return integrity.findings(session)
    return integrity.for_city(integrity.findings(session, city=user.city or ""), user.city or "")


@router.get("/api/integrity", response_class=ORJSONResponse, response_model=IntegrityReport,
            responses=documented(IntegrityReport), summary="跨集聚区核查（省局全部，设区市本市）")
def integrity_json(session: SessionDep, user: Bureau) -> ORJSONResponse:
    found = _mine(session, user)
    return ORJSONResponse(integrity.summary(found) | {"findings": found})


@router.get("/integrity", response_class=HTMLResponse, include_in_schema=False)
def integrity_page(request: Request, session: SessionDep, user: Bureau) -> HTMLResponse:
    found = _mine(session, user)
    context = {"user": user, "findings": found, "summary": integrity.summary(found)}
    return request.app.state.templates.TemplateResponse(request, "integrity.html", context)
