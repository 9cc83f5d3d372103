"""What the console's sessions hold about people: when an account was signed in (retention kind ``sessions``).
A session ended before retention's cutoff counts in no report: it is deleted, not pseudonymised."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from alueturva.auth.models import WebSession
from alueturva.personal.holders import Holder


def _expired(session: Session, *, before: datetime, after_id: int, limit: int) -> Sequence[int]:
    query = select(WebSession.id).where(WebSession.expires_at < before, WebSession.id > after_id)
    return session.scalars(query.order_by(WebSession.id).limit(limit)).all()


def _delete(session: Session, *, ids: Sequence[int]) -> int:
    session.execute(delete(WebSession).where(WebSession.id.in_(ids)))
    return len(ids)


HOLDERS = (Holder("auth.sessions", "sessions", _expired, _delete),)
