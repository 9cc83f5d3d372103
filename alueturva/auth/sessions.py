"""Web console sessions, kept on the server: the browser holds a random token, the database its hash. A session
ends when idle too long (``web_session_idle_minutes``), at its absolute expiry (``web_session_max_hours``), at
sign-out, when revoked, or when its account is disabled."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from alueturva.auth.models import User, WebSession
from alueturva.auth.service import Principal
from alueturva.auth.users import audit_user, principal_for_user
from alueturva.db import utcnow
from alueturva.settings import get_settings

# last_seen_at is written at most this often: a page that polls every few seconds need not write each time.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class SignedIn:
    """What a page needs of its signed-in user, read once per request."""

    session_id: int
    user_id: int
    name: str
    email: str
    principal: Principal
    csrf_token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, *, user: User, now: datetime | None = None) -> str:
    """A new session for ``user``; returns the cookie's token (shown to the browser only)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    max_age = timedelta(hours=get_settings().web_session_max_hours)
    web_session = WebSession(
        token_hash=_hash(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + max_age,
    )
    session.add(web_session)
    session.flush()
    audit_user(
        session,
        actor=f"web:user:{user.id}",
        action="user.sign_in",
        user_id=user.id,
        details={"session_id": web_session.id},
    )
    return token


def _live(web_session: WebSession, now: datetime) -> bool:
    idle = timedelta(minutes=get_settings().web_session_idle_minutes)
    return (
        web_session.revoked_at is None
        and web_session.expires_at > now
        and web_session.last_seen_at + idle > now
        and web_session.user.active
    )


def signed_in(session: Session, *, token: str, now: datetime | None = None) -> SignedIn | None:
    """The session's user if the token names a live session (and marks it used); None otherwise."""
    now = now or utcnow()
    web_session = session.scalar(select(WebSession).where(WebSession.token_hash == _hash(token)))
    if web_session is None or not _live(web_session, now):
        return None
    if now - web_session.last_seen_at >= TOUCH_EVERY:
        web_session.last_seen_at = now
    user = web_session.user
    return SignedIn(
        session_id=web_session.id,
        user_id=user.id,
        name=user.name,
        email=user.email,
        principal=principal_for_user(user),
        csrf_token=web_session.csrf_token,
    )


def end_session(session: Session, *, token: str) -> None:
    """Sign-out: the session is revoked at once (the cookie alone no longer opens anything)."""
    web_session = session.scalar(select(WebSession).where(WebSession.token_hash == _hash(token)))
    if web_session is None or web_session.revoked_at is not None:
        return
    web_session.revoked_at = utcnow()
    audit_user(
        session,
        actor=f"web:user:{web_session.user_id}",
        action="user.sign_out",
        user_id=web_session.user_id,
        details={"session_id": web_session.id},
    )


def revoke_sessions(session: Session, *, user: User, actor: Principal) -> int:
    """End every live session of ``user`` (a lost phone, a person who left); how many there were."""
    now = utcnow()
    result = session.execute(
        update(WebSession)
        .where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None), WebSession.expires_at > now)
        .values(revoked_at=now),
        execution_options={"synchronize_session": False},
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    audit_user(session, actor=actor.actor, action="user.sessions_revoked", user_id=user.id, details={"sessions": count})
    return count
