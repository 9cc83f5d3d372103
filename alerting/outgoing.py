"""What a claimed delivery becomes before it is sent: its address and its rendered message."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.messages import MessageContent, render_email, render_sms
from alerting.models import Alert, Channel, DeliveryKind, Recipient
from alerting.tokens import ack_url

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class Unpreparable:
    """A claimed delivery whose message could not be made, and why (an exception in one line)."""

    delivery_id: int
    reason: str


def _sms_text(cache: dict[tuple[int, str, str], str | Exception], alert: Alert, language: str, kind: str) -> str:
    """The SMS text of (alert, language, kind), rendered once per job; a failure is remembered too."""
    key = (alert.id, language, kind)
    if key not in cache:
        try:
            cache[key] = render_sms(content_of(alert), kind=kind, language=language)
        except Exception as exc:
            cache[key] = exc
    text = cache[key]
    if isinstance(text, Exception):
        raise text
    return text


def prepare(session: Session, claimed: Sequence[Any]) -> tuple[list[Outgoing], list[Unpreparable]]:
    """Render each claimed delivery's message (SMS texts are shared per alert, language and kind).

    A delivery that cannot be prepared is set aside with its reason and the others go on (docs/alerting.md §6).
    """
    alerts = {
        alert.id: alert
        for alert in session.scalars(select(Alert).where(Alert.id.in_({row.alert_id for row in claimed})))
    }
    recipients = {
        recipient.id: recipient
        for recipient in session.execute(
            select(Recipient.id, Recipient.alert_id, Recipient.language, Recipient.link_nonce).where(
                Recipient.id.in_({row.recipient_id for row in claimed})
            )
        )
    }
    sms_texts: dict[tuple[int, str, str], str | Exception] = {}
    outgoing: list[Outgoing] = []
    unpreparable: list[Unpreparable] = []
    for row in claimed:
        alert, recipient, kind = alerts[row.alert_id], recipients[row.recipient_id], DeliveryKind(row.kind).value
        language = recipient.language
        try:
            if Channel(row.channel) is Channel.sms:
                body = _sms_text(sms_texts, alert, language, kind)
                outgoing.append(Outgoing(row.id, Channel.sms, row.attempts, row.address, sms_body=body))
                continue
            message = render_email(
                content_of(alert),
                kind=kind,
                language=language,
                to=row.address,
                ack_url=ack_url(recipient),
            )
            outgoing.append(Outgoing(row.id, Channel.email, row.attempts, row.address, email=message))
        except Exception as exc:
            log.warning("delivery cannot be prepared", extra={"delivery_id": row.id, "error": type(exc).__name__})
            unpreparable.append(Unpreparable(row.id, f"{type(exc).__name__}: {exc}"))
    return outgoing, unpreparable
