"""Signing in and out, and the language switch.

A failed sign-in is counted per client address and per email and address (``alueturva.throttling``); past either
limit the next attempt from there gets 429 before any password is checked, so a flood costs no hashing. The right
password from an address without failures always works. An email failing from many addresses makes each sign-in to
it wait a while first, in the event loop (no thread is held). Every failure gets the same message, whether the email
names an account or not."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

import anyio
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
from alueturva.auth.users import authenticate, in_hashing_thread
from alueturva.db import get_database, utcnow
from alueturva.i18n import LANGUAGES, format_clock
from alueturva.settings import get_settings
from alueturva.throttling import (
    client_address,
    login_account_failures,
    login_account_slowdown,
    login_failures,
    retry_after_header,
    throttle_for,
)

log = logging.getLogger(__name__)

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
    retry_at: str | None = None,
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
        retry_at=retry_at,
    )
    remember_login_csrf(response, token)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: NextPath = "/") -> HTMLResponse:
    return _login_page(request, next_path=next)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _login_page(request, next_path=next, status_code=403, error="csrf_refused", email=email)
    throttle, address, account = throttle_for(request.app.state), client_address(request.scope), email.strip().lower()
    per_account = f"{account} {address}"
    wait = await throttle.blocked(login_failures(), address)
    wait = wait or await throttle.blocked(login_account_failures(), per_account)
    if wait is not None:
        retry_at = format_clock(utcnow() + timedelta(seconds=wait), page_language(request))
        page = _login_page(
            request, next_path=next, status_code=429, error="login_failed", email=email, retry_at=retry_at
        )
        page.headers.update(retry_after_header(wait))
        return page
    if await throttle.blocked(login_account_slowdown(), account) is not None:
        log.info("sign-in slowed down: failures for this email from many addresses", extra={"address": address})
        await anyio.sleep(get_settings().login_slowdown_seconds)
    token = await in_hashing_thread(lambda: _sign_in(email, password))
    if token is None:
        await throttle.hit(login_failures(), address)
        await throttle.hit(login_account_failures(), per_account)
        await throttle.hit(login_account_slowdown(), account)
        return _login_page(request, next_path=next, status_code=401, error="login_failed", email=email)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(response, SESSION_COOKIE, token, max_age=session_cookie_max_age())
    clear_cookie(response, LOGIN_CSRF_COOKIE)
    return response


def _sign_in(email: str, password: str) -> str | None:
    """A new session's token if the password is the account's, else None (in a hashing thread)."""
    with get_database().session() as session:
        user = authenticate(session, email=email, password=password)
        return sessions.start_session(session, user=user) if user else None


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
