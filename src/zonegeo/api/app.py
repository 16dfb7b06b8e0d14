"""The application factory: settings, lifespan (engine and pool), routers, assets, error handlers."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import text
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Scope

from zonegeo import __version__
from zonegeo.api.admission import AdmissionMiddleware
from zonegeo.api.body_limit import BodyLimitMiddleware
from zonegeo.api.csrf import CsrfMiddleware, csrf_token
from zonegeo.api.deps import SessionDep, Viewer
from zonegeo.api.errors import add_exception_handlers
from zonegeo.api.header import header, public_nav
from zonegeo.api.input_guard import InputGuardMiddleware
from zonegeo.api.public_cache import PublicCacheMiddleware
from zonegeo.api.request_id import RequestIdMiddleware
from zonegeo.api.routes import annual_reports as annual_report_routes
from zonegeo.api.routes import apply, auth, changes, decisions, lifecycle, pages, uploads, versions, zone_desk, zones
from zonegeo.api.routes import evaluations as evaluation_routes
from zonegeo.api.routes import expert as expert_routes
from zonegeo.api.routes import notices as notice_routes
from zonegeo.api.routes import register as register_routes
from zonegeo.api.routes.audit_pages import router as audit_pages_router
from zonegeo.api.routes.downloads import router as downloads_router
from zonegeo.api.routes.exports import router as exports_router
from zonegeo.api.routes.integrity import router as integrity_router
from zonegeo.api.routes.pdfs import documents as pdf_documents
from zonegeo.api.routes.pdfs import router as pdfs_router
from zonegeo.api.routes.statistics import router as statistics_router
from zonegeo.api.security_headers import SecurityHeadersMiddleware
from zonegeo.config import Settings
from zonegeo.ingest.holidays import load_calendar
from zonegeo.ingest.rules_file import load_rules
from zonegeo.maps.assets import ASSET_DIR
from zonegeo.ogc.app import OgcApp
from zonegeo.services import audit
from zonegeo.services.unit_of_work import UnitOfWork

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"  # vendored web assets of the app's own pages (Swagger UI)


def _public_state(scope: Scope) -> str:
    """What names the state of everything public: the newest audit entry (every write appends one)."""
    with scope["app"].state.uow() as session:
        return str(audit.latest_id(session))


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.uow = UnitOfWork.from_settings(settings)
        # Synchronous routes run in anyio's thread pool: sized with the pool (see api/admission.py), with room
        # for the static files' reads, which are not held in line.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads or connections + 8
        from zonegeo.services.uploads import sweep_upload_folders  # left by uploads a killed server was reading

        sweep_upload_folders(settings.upload_temp_max_age_s)
        from zonegeo.services.deadlines import recompute_at_startup  # provisional deadlines whose year is now known

        recompute_at_startup(app.state.uow, app.state.calendar, app.state.rules)
        try:
            yield
        finally:
            app.state.uow.dispose()

    app = FastAPI(title="zonegeo 集聚区空间登记系统", version=__version__, lifespan=lifespan,
                  description="江苏省知识产权服务业集聚发展区的四至范围、核心区、建筑和服务机构登记与核验。",
                  docs_url=None, redoc_url=None)  # /docs below, from the app's own Swagger UI copy
    app.state.settings = settings
    app.state.rules = load_rules(settings.rules_file)
    app.state.calendar = load_calendar(settings.holidays_dir)
    app.state.templates = Jinja2Templates(directory=TEMPLATES)
    app.state.templates.env.globals["csrf_token"] = csrf_token  # the logout form in every page's header
    app.state.templates.env.globals.update(header=header, header_public_nav=public_nav)  # api/header.py
    app.state.templates.env.globals["pdf_documents"] = pdf_documents  # zone.html's 打印文件 links
    app.state.templates.env.globals["visit_summary"] = expert_routes.visit_summary  # zone.html's 实地考察
    add_exception_handlers(app)
    connections = settings.db_pool_size + settings.db_max_overflow
    # innermost: requests wait in line before they touch the database (api/admission.py says why)
    app.add_middleware(AdmissionMiddleware, max_active=connections, max_wait_s=settings.admission_wait_s,
                       max_waiting=settings.admission_queue)
    app.add_middleware(CsrfMiddleware)  # inside the session middleware: it reads the decoded session
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key or secrets.token_hex(32),
                       session_cookie="zonegeo_session", same_site="lax", max_age=8 * 3600,
                       https_only=settings.cookie_secure)
    # anonymous public reads answered from memory (and 304s) without waiting in line or rendering again
    app.add_middleware(PublicCacheMiddleware, state=_public_state, session_cookie="zonegeo_session",
                       ttl_s=settings.public_cache_ttl_s, max_bytes=settings.public_cache_mb << 20)
    app.add_middleware(InputGuardMiddleware)  # inside the body limit: it reads bounded bodies only
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_mb * 1024 * 1024,
                       session_cookie="zonegeo_session")
    app.add_middleware(RequestIdMiddleware)  # every response, errors included, names its request
    app.add_middleware(SecurityHeadersMiddleware, session_cookie="zonegeo_session", hsts=settings.cookie_secure)
    app.mount("/assets", StaticFiles(directory=ASSET_DIR), name="assets")
    # The public site written by `zonegeo publish`; any static web server can serve the same folder.
    app.mount("/public", StaticFiles(directory=settings.maps_dir, html=True, check_dir=False), name="public")
    app.include_router(zones.router)
    app.include_router(uploads.router)
    app.include_router(versions.router)
    app.include_router(changes.router)
    app.include_router(lifecycle.router)
    app.include_router(apply.router)  # /apply, /zones/{code}/materials, /templates/…
    app.include_router(auth.router)
    app.include_router(auth.api)
    app.include_router(pages.router)
    app.include_router(register_routes.router)  # institution register drafts: API and page
    app.include_router(zone_desk.router)
    app.include_router(audit_pages_router)  # /audit, /zones/{code}/audit, /audit.xlsx
    app.include_router(exports_router)  # /exports and its .xlsx, .gpkg and Shapefile downloads
    app.include_router(statistics_router)  # /statistics (tables, charts) and /statistics/map
    app.include_router(expert_routes.router)  # /expert, /zones/{code}/expert, /zones/{code}/visit, /visit-sw.js
    app.include_router(expert_routes.api)  # /api/zones/{code}/visit/findings, /api/zones/{code}/visits
    app.include_router(integrity_router)  # /integrity, /api/integrity
    app.include_router(evaluation_routes.router)  # /evaluations, /evaluations/{n}, …/zones/{code}, exports
    app.include_router(decisions.router)  # /zones/{code}/decide, /zones/{code}/versions/{n}/decide
    app.include_router(annual_report_routes.router)  # /annual-reports, /api/annual-reports (总结报告)
    app.include_router(downloads_router)  # /zones/{code}/layout.gpkg, /zones/{code}/layout.geojson
    app.include_router(pdfs_router)  # /zones/{code}/report.pdf, acceptance.pdf, evaluation.pdf, …/receipt.pdf
    app.include_router(notice_routes.router)  # /notices, /notices/{code} (公示, objections), /announcements (公告)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/ogc", OgcApp(settings), name="ogc")  # OGC API – Features of the published layers (pygeoapi)

    @app.get("/docs", include_in_schema=False)
    def docs(user: Viewer) -> HTMLResponse:  # Swagger UI served by the app: works with no network
        page = get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} · 接口文档",
                                   swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger-ui/swagger-ui.css",
                                   swagger_favicon_url="/static/swagger-ui/favicon-32x32.png")
        return HTMLResponse(bytes(page.body).replace(b"<html>", b'<html lang="zh-CN">', 1))  # the page's language

    @app.get("/healthz", tags=["运维"], summary="健康检查（含数据库连接）")
    def healthz(session: SessionDep, user: Viewer) -> dict[str, str]:
        session.execute(text("SELECT 1"))
        return {"status": "ok"}

    return app


def create_app_from_environment() -> FastAPI:
    """The app of one uvicorn worker process (`zonegeo serve --workers N`): settings from ZONEGEO_* variables."""
    return create_app(Settings())
