"""Logging in to the web pages (a server-side session named by the signed cookie), out, and the province's view of
every user's sessions (API and page)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from zonegeo.api.csrf import check_csrf, csrf_token
from zonegeo.api.deps import LoggedIn, Province, SessionDep, Viewer
from zonegeo.api.forms import FormText
from zonegeo.api.schemas import ORJSONResponse, SessionsEnded, WebSessionsPublic, documented
from zonegeo.errors import AuthenticationError
from zonegeo.services import auth
from zonegeo.services import sessions as web_sessions

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/users/{username}/sessions", tags=["用户会话"])


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _login_page(request: Request, next: str, error: str | None = None, status: int = 200,
                headers: dict[str, str] | None = None) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(
        request, "login.html", {"csrf": csrf_token(request), "next": next, "error": error, "user": None,
                                "lockout_rule": auth.LOCKOUT_RULE}, status_code=status, headers=headers)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: Viewer, next: str = "/") -> HTMLResponse:
    return _login_page(request, next)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, session: SessionDep, user: Viewer, username: FormText,
          password: FormText, csrf: FormText = "", next: FormText = "/"):
    check_csrf(request, csrf)
    try:
        _, token = auth.login(session=session, username=username, password=password, address=_address(request),
                                  user_agent=request.headers.get("user-agent", ""))
    except AuthenticationError as exc:  # answered, not raised: the failure count and its audit entry are committed
        locked = isinstance(exc, auth.LoginLockedError)
        status, headers = (429, {"Retry-After": str(exc.detail["retry_after_s"])}) if locked else (401, None)
        if "text/html" in request.headers.get("accept", ""):
            return _login_page(request, next, exc.message, status, headers)
        return JSONResponse(exc.to_dict(), status_code=status, headers=headers)
    request.session.clear()  # a new csrf token too: nothing from before the login is carried over
    request.session["sid"] = token
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, session: SessionDep, user: LoggedIn, csrf: FormText = "") -> RedirectResponse:
    check_csrf(request, csrf)
    web_sessions.end(session=session, token=request.session.get("sid", ""), user=user)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.get("/sessions", response_class=HTMLResponse)
def sessions_page(request: Request, session: SessionDep, user: Province) -> HTMLResponse:
    return _sessions_page(request, session, user)


def _sessions_page(request: Request, session: Any, user: Any, message: str = "") -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(
        request, "sessions.html", {"sessions": web_sessions.list_active(session=session), "user": user,
                                   "csrf": csrf_token(request), "message": message})


@router.post("/sessions/end", response_class=HTMLResponse)
def end_sessions_form(request: Request, session: SessionDep, user: Province, username: FormText,
                      session_id: Annotated[int | None, Form()] = None,
                      csrf: FormText = "") -> HTMLResponse:
    check_csrf(request, csrf)
    n = web_sessions.end_for(session=session, username=username, by=user, session_id=session_id)
    return _sessions_page(request, session, user, f"已结束用户 {username} 的{n}个会话")


@api.get("", response_class=ORJSONResponse, responses=documented(WebSessionsPublic),
         summary="一个用户的网页登录会话（仅省知识产权局）")
def list_sessions(username: str, session: SessionDep, user: Province, include_ended: bool = False) -> Response:
    return ORJSONResponse({"data": web_sessions.list_for(session=session, username=username,
                                                         include_ended=include_ended)})


@api.delete("", response_class=ORJSONResponse, responses=documented(SessionsEnded),
            summary="结束一个用户的全部网页会话（仅省知识产权局）")
def end_all_sessions(username: str, session: SessionDep, user: Province) -> Response:
    return ORJSONResponse({"ended": web_sessions.end_for(session=session, username=username, by=user)})


@api.delete("/{session_id}", response_class=ORJSONResponse, responses=documented(SessionsEnded),
            summary="结束一个用户的某个网页会话（仅省知识产权局）")
def end_one_session(username: str, session_id: int, session: SessionDep, user: Province) -> Response:
    return ORJSONResponse({"ended": web_sessions.end_for(session=session, username=username, by=user,
                                                        session_id=session_id)})
