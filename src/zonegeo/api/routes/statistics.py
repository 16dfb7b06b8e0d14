"""/statistics: the province's figures (a city bureau: its own city's) as tables and charts, and /statistics/map, the
map of the zones coloured by state shown in the page."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from zonegeo.api.deps import Bureau, RulesDep, SessionDep, SettingsDep
from zonegeo.domain.model import JIANGSU_CITIES
from zonegeo.maps.overlays import js_data
from zonegeo.services import exports, statistics

router = APIRouter(include_in_schema=False)
CityParam = Annotated[str | None, Query(max_length=16)]


@router.get("/statistics", response_class=HTMLResponse)
def statistics_page(request: Request, session: SessionDep, rules: RulesDep, user: Bureau,
                    city: CityParam = None) -> HTMLResponse:
    scope = exports.scope_for(user, city=city)
    data = statistics.compute(session=session, scope=scope, rules=rules, today=dt.date.today())
    query = "?" + urlencode({"city": scope.city}) if scope.city and user.role == "province" else ""
    context = {"user": user, "data": data, "cities": JIANGSU_CITIES, "city": scope.city,
               "charts_json": js_data({"charts": statistics.charts(data)}), "map_url": "/statistics/map" + query,
               "exports_url": "/exports" + query}
    return request.app.state.templates.TemplateResponse(request, "statistics.html", context)


@router.get("/statistics/map", response_class=HTMLResponse)
def statistics_map(session: SessionDep, settings: SettingsDep, user: Bureau, city: CityParam = None) -> HTMLResponse:
    scope = exports.scope_for(user, city=city)
    return HTMLResponse(statistics.state_map_html(session=session, scope=scope, tiles=settings.tiles,
                                                  tianditu_key=settings.tianditu_key))
