"""Signing in and out, and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from alueturva.app.web.layout import LANGUAGE_COOKIE, page_language, render
from alueturva.app.web.security import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    AnyUser,
    clear_cookie,
    login_csrf_token,
    remember_login_csrf,
    session_cookie_max_age,
    set_cookie,
    tokens_match,
)
from alueturva.auth import sessions
from alueturva.auth.users import authenticate
from alueturva.db import get_database
from alueturva.i18n import LANGUAGES, format_time

router = APIRouter(include_in_schema=False)

NextPath = Annotated[str, Query(max_length=500)]


def safe_next(path: str) -> str:
    """Only a path of this site: never another host (``//evil.example``) after signing in."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


def _login_page(
    request: Request,
    *,
    next_path: str,
    status_code: int = 200,
    error: str | None = None,
    email: str = "",
    locked_until: str | None = None,
) -> HTMLResponse:
    token = login_csrf_token(request)
    response = render(
        request,
        "login.html.j2",
        user=None,
        status_code=status_code,
        csrf_token=token,
        next_path=safe_next(next_path),
        error=error,
        email=email,
        locked_until=locked_until,
    )
    remember_login_csrf(response, token)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: NextPath = "/") -> HTMLResponse:
    return _login_page(request, next_path=next)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _login_page(request, next_path=next, status_code=403, error="csrf_refused", email=email)
    with get_database().session() as session:
        attempt = authenticate(session, email=email, password=password)
        token = sessions.start_session(session, user=attempt.user) if attempt.user else None
    if token is None:
        locked = format_time(attempt.locked_until, page_language(request)) if attempt.locked_until else None
        return _login_page(
            request, next_path=next, status_code=401, error="login_failed", email=email, locked_until=locked
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(response, SESSION_COOKIE, token, max_age=session_cookie_max_age())
    clear_cookie(response, LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, _: AnyUser) -> Response:
    with get_database().session() as session:
        sessions.end_session(session, token=request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    clear_cookie(response, SESSION_COOKIE)
    return response


@router.get("/language/{language}")
def choose_language(language: str, next: NextPath = "/") -> Response:
    """Remember the visitor's language (a preference cookie; nothing on the server changes)."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if language in LANGUAGES:
        set_cookie(response, LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600)
    return response
