"""Logging in to the web pages (signed session cookie) and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from zonegeo.api.csrf import check_csrf, csrf_token
from zonegeo.api.deps import LoggedIn, SessionDep, Viewer
from zonegeo.errors import AuthenticationError
from zonegeo.services import audit, auth

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: Viewer, next: str = "/") -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(
        request, "login.html", {"csrf": csrf_token(request), "next": next, "error": None, "user": user})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, session: SessionDep, user: Viewer, username: Annotated[str, Form()],
          password: Annotated[str, Form()], csrf: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"):
    check_csrf(request, csrf)
    try:
        found = auth.check_password(session=session, username=username, password=password)
    except AuthenticationError as exc:
        return request.app.state.templates.TemplateResponse(
            request, "login.html", {"csrf": csrf_token(request), "next": next, "error": exc.message, "user": None},
            status_code=401)
    request.session.clear()
    request.session["user_id"] = found.id
    audit.record(session, found, "login", f"user/{found.username}")
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, user: LoggedIn, csrf: Annotated[str, Form()] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/", status_code=303)
