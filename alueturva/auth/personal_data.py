"""What the console's sessions hold about people: when an account was signed in (retention kind ``sessions``).
A session ended before retention's cutoff counts in no report: it is deleted, not pseudonymised."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from alueturva.auth.models import User, WebSession
from alueturva.db import utcnow
from alueturva.personal.holders import Holder, Retention, Subject
from alueturva.personal.pseudonym import person_pseudonym


def _expired(session: Session, *, before: datetime, after_id: int, limit: int) -> Sequence[int]:
    query = select(WebSession.id).where(WebSession.expires_at < before, WebSession.id > after_id)
    return session.scalars(query.order_by(WebSession.id).limit(limit)).all()


def _delete(session: Session, *, ids: Sequence[int]) -> int:
    session.execute(delete(WebSession).where(WebSession.id.in_(ids)))
    return len(ids)


def _account(session: Session, subject: Subject) -> User | None:
    """A console account is the person's when it has their email address."""
    return None if subject.email is None else session.scalar(select(User).where(User.email == subject.email))


def _export_account(session: Session, *, subject: Subject) -> list[dict[str, Any]]:
    user = _account(session, subject)
    if user is None:
        return []
    return [
        {
            "name": user.name,
            "email": user.email,
            "console_role": user.role.value,
            "created_at": user.created_at,
            "last_login_at": user.last_login_at,
        }
    ]


def _export_sessions(session: Session, *, subject: Subject) -> list[dict[str, Any]]:
    user = _account(session, subject)
    if user is None:
        return []
    sessions = session.scalars(select(WebSession).where(WebSession.user_id == user.id).order_by(WebSession.id))
    return [{"signed_in_at": s.created_at, "last_seen_at": s.last_seen_at, "ended_at": s.revoked_at} for s in sessions]


def _erase_account(session: Session, *, subject: Subject) -> int:
    """A console account with the person's address: closed, its sessions ended, name and address a pseudonym."""
    user = _account(session, subject)
    if user is None:
        return 0
    session.execute(update(WebSession).where(WebSession.user_id == user.id).values(revoked_at=utcnow()))
    pseudonym = person_pseudonym(subject.person_id)
    user.name, user.email, user.active = pseudonym, pseudonym, False
    return 1


HOLDERS = (
    Holder("auth.account", export=_export_account, erase=_erase_account),
    Holder("auth.sessions", Retention("sessions", _expired, _delete), export=_export_sessions),
)
