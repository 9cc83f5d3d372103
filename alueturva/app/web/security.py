"""Who is signed in, what their role lets them do, and CSRF tokens on every form.

The session cookie holds a random token whose hash names a server-side session (``alueturva.auth.sessions``);
it is ``HttpOnly``, ``SameSite=Lax`` and ``Secure`` when the public address is https. A signed-in form carries the
session's own CSRF token; the sign-in form, before any session exists, a token that must match a cookie of its own
(double submit). A POST without the right token is refused with 403 and changes nothing.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.responses import Response

from alueturva.auth import sessions
from alueturva.auth.models import Role
from alueturva.auth.sessions import SignedIn
from alueturva.db import get_database
from alueturva.settings import get_settings

SESSION_COOKIE = "alueturva_session"
LOGIN_CSRF_COOKIE = "alueturva_login_csrf"
CSRF_FIELD = "csrf_token"


class SignInRequired(Exception):
    """No live session: the page answers with the sign-in page (303), then comes back to ``next_path``."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class PageForbidden(Exception):
    """Signed in, but the role may not do this (403 page); ``reason`` is a text key."""

    status_code = 403

    def __init__(self, reason: str) -> None:
        self.reason = reason


class PageMissing(PageForbidden):
    """No such alert, person or group (404 page)."""

    status_code = 404

    def __init__(self) -> None:
        super().__init__("not_found")


def set_cookie(response: Response, name: str, value: str, *, max_age: int | None = None, strict: bool = False) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        secure=get_settings().secure_cookies,
        samesite="strict" if strict else "lax",
        path="/",
    )


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, secure=get_settings().secure_cookies, samesite="lax")


def session_cookie_max_age() -> int:
    return int(get_settings().web_session_max_hours * 3600)


def _where_from(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{request.url.path}{query}"


def signed_in_user(request: Request) -> SignedIn:
    token = request.cookies.get(SESSION_COOKIE)
    user = None
    if token and len(token) <= 100:
        with get_database().session() as session:
            user = sessions.signed_in(session, token=token)
    if user is None:
        raise SignInRequired(_where_from(request) if request.method == "GET" else "/")
    request.state.actor = user.principal.actor
    return user


def tokens_match(expected: str | None, given: object) -> bool:
    return bool(expected) and isinstance(given, str) and hmac.compare_digest(str(expected), given)


async def check_csrf(request: Request, user: SignedIn) -> None:
    if request.method in ("GET", "HEAD"):
        return
    form = await request.form()
    if not tokens_match(user.csrf_token, form.get(CSRF_FIELD)):
        raise PageForbidden("csrf_refused")


def page_user(role: Role | None) -> Any:
    """A page's user, who must hold ``role`` (None: any signed-in user); on a POST the form must carry the session's
    CSRF token."""

    async def _check(request: Request, user: Annotated[SignedIn, Depends(signed_in_user)]) -> SignedIn:
        if role is not None and not user.principal.may(role):
            raise PageForbidden("forbidden")
        await check_csrf(request, user)
        return user

    return Annotated[SignedIn, Depends(_check)]


AnyUser = page_user(None)
ViewerUser = page_user(Role.viewer)
OperatorUser = page_user(Role.operator)
AdminUser = page_user(Role.admin)


def login_csrf_token(request: Request) -> str:
    """The sign-in form's token: the one its cookie already holds, or a new one (set by ``remember_login_csrf``)."""
    existing = request.cookies.get(LOGIN_CSRF_COOKIE)
    return existing if existing and len(existing) <= 100 else secrets.token_urlsafe(32)


def remember_login_csrf(response: Response, token: str) -> None:
    set_cookie(response, LOGIN_CSRF_COOKIE, token, strict=True)
