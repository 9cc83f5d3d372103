"""The demo outbox: what the console backends of the embedded default "sent", so that a new user can read the
messages (``alueturva outbox``, ``GET /api/v1/outbox``). It holds numbers, addresses and texts: operators and admins
only; the logs keep ids only, as in production."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerting.models import Channel, OutboxMessage
from alueturva.db import get_database, utcnow

PROVIDER_PREFIX = "console-"  # the console SMS backend's message ids


def keep(*, channel: Channel, to: str, body: str, reference: str, subject: str | None = None) -> int:
    """Store one message as sent, in its own transaction; its id."""
    with get_database().session() as session:
        message = OutboxMessage(
            sent_at=utcnow(), channel=channel, to=to, subject=subject, body=body, reference=reference[:120]
        )
        session.add(message)
        session.flush()
        return message.id


def keep_email(message: EmailMessage, *, reference: str) -> int:
    """An email as a person reads it: its subject and its plain-text part."""
    plain = message.get_body(preferencelist=("plain",))
    body = plain.get_content() if plain is not None else str(message.get_payload())
    return keep(
        channel=Channel.email, to=str(message["To"]), subject=str(message["Subject"]), body=body, reference=reference
    )


def list_messages(
    session: Session, *, to: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[Sequence[OutboxMessage], int]:
    """Newest first; ``to`` narrows to one number or address."""
    conditions = [OutboxMessage.to == to] if to else []
    total = session.scalar(select(func.count(OutboxMessage.id)).where(*conditions)) or 0
    rows = session.scalars(
        select(OutboxMessage).where(*conditions).order_by(OutboxMessage.id.desc()).limit(limit).offset(offset)
    ).all()
    return rows, total
