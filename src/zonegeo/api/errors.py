"""One table from errors to HTTP statuses; API errors as JSON {code, message, detail}, pages as HTML."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from zonegeo.errors import (
    AuthenticationError,
    ConfigError,
    ConflictError,
    InputError,
    InternalError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    ZonegeoError,
)
from zonegeo.services.unit_of_work import database_error

log = logging.getLogger("zonegeo")
# every message a form leaves in the session to show once after its redirect: dropped when the request fails after
# all (the commit refused), so that no page ever says "stored" for what was not
FLASH_KEYS = ("zone_desk", "register_desk", "changes_desk", "annual_report_flash", "notice_receipt")
STATUS = {NotFoundError: 404, InputError: 422, ConflictError: 409, ConfigError: 503, AuthenticationError: 401,
          PermissionDeniedError: 403, UnavailableError: 503, InternalError: 500}
HTTP_MESSAGES = {404: ("not_found", "页面或资源不存在"), 405: ("method_not_allowed", "不支持该请求方法")}


def _respond(request: Request, status: int, code: str, message: str, detail: dict,
             headers: dict[str, str] | None = None) -> Response:
    body = {"code": code, "message": message, "detail": detail}
    # A form's one-time message ("已提交" …) is set before its transaction commits; when the request ends in an
    # error instead (a failed COMMIT included), that message never came true: drop it before the cookie is written.
    if "session" in request.scope:
        for key in FLASH_KEYS:
            request.session.pop(key, None)
    if request.url.path.startswith("/api") or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse(body, status_code=status, headers=headers)
    if status == 401 and request.method == "GET":  # a page that needs a login: go and log in, then come back
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "error.html", {"error": body, "status": status},
                                      status_code=status, headers=headers)


def _request_id(request: Request) -> str:
    return request.scope.get("state", {}).get("request_id", "")


async def _zonegeo_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ZonegeoError)
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    detail, headers = exc.detail, None
    if isinstance(exc, UnavailableError):
        headers = {"Retry-After": str(exc.retry_after_s)}
    if isinstance(exc, InternalError):  # the cause goes to the log under the request id, never to the user
        rid = _request_id(request)
        log.error("request %s on %s failed: %s", rid, request.url.path, exc.code, exc_info=exc.__cause__ or exc)
        detail = {"request_id": rid}
    return _respond(request, status, exc.code, exc.message, detail, headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [{"where": ".".join(map(str, e.get("loc", []))), "problem": e.get("msg", "")} for e in exc.errors()]
    first = problems[0] if problems else {"where": "", "problem": ""}
    more = f"（另有{len(problems) - 1}处）" if len(problems) > 1 else ""
    return _respond(request, 422, "invalid_request", f"请求参数有误：{first['where']}：{first['problem']}{more}",
                    {"errors": problems, "field": first["where"]})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code, message = HTTP_MESSAGES.get(exc.status_code, ("http_error", "请求无法处理"))
    return _respond(request, exc.status_code, code, message, {"path": request.url.path})


async def _unexpected(request: Request, exc: Exception) -> Response:
    if isinstance(exc, SQLAlchemyError):  # a database error that escaped a unit of work: translated the same way
        mapped = database_error(exc)
        mapped.__cause__ = exc
        return await _zonegeo_error(request, mapped)
    rid = _request_id(request)
    log.error("request %s on %s failed", rid, request.url.path, exc_info=exc)
    return _respond(request, 500, "internal_error", "系统内部错误，请稍后重试或联系管理员（请提供请求编号）",
                    {"request_id": rid})


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ZonegeoError, _zonegeo_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
