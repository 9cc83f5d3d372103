"""What a claimed delivery becomes before it is sent: its address and its rendered message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.messages import MessageContent, render_email, render_sms
from alerting.models import Alert, Channel, DeliveryKind, Recipient
from alerting.tokens import ack_url


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    channel: Channel
    attempts: int
    to: str
    sms_body: str | None = None
    email: EmailMessage | None = None


def content_of(alert: Alert) -> MessageContent:
    return MessageContent(
        title=alert.title,
        message=alert.message,
        exercise=alert.exercise,
        code=alert.short_code,
        options=tuple(alert.response_options),
    )


def prepare(session: Session, claimed: Sequence[Any]) -> list[Outgoing]:
    """Render each claimed delivery's message (SMS texts are shared per alert, language and kind)."""
    alerts = {
        alert.id: alert
        for alert in session.scalars(select(Alert).where(Alert.id.in_({row.alert_id for row in claimed})))
    }
    languages = dict(
        session.execute(
            select(Recipient.id, Recipient.language).where(Recipient.id.in_({row.recipient_id for row in claimed}))
        ).all()
    )
    sms_texts: dict[tuple[int, str, str], str] = {}
    outgoing = []
    for row in claimed:
        alert, language, kind = alerts[row.alert_id], languages[row.recipient_id], DeliveryKind(row.kind).value
        if Channel(row.channel) is Channel.sms:
            key = (alert.id, language, kind)
            if key not in sms_texts:
                sms_texts[key] = render_sms(content_of(alert), kind=kind, language=language)
            outgoing.append(Outgoing(row.id, Channel.sms, row.attempts, row.address, sms_body=sms_texts[key]))
        else:
            message = render_email(
                content_of(alert),
                kind=kind,
                language=language,
                to=row.address,
                ack_url=ack_url(alert_id=alert.id, recipient_id=row.recipient_id),
            )
            outgoing.append(Outgoing(row.id, Channel.email, row.attempts, row.address, email=message))
    return outgoing
