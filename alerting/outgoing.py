"""What a claimed delivery becomes before it is sent: its address and its rendered message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.messages import MessageContent, alert_content, render_email, render_sms
from alerting.models import Alert, Channel, DeliveryKind, Recipient
from alerting.tokens import ack_url
from alueturva.localized import Version, versions_for
from contacts.models import Organisation


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    channel: Channel
    attempts: int
    to: str
    sms_body: str | None = None
    email: EmailMessage | None = None


def reader_versions(
    session: Session, content_of: dict[int, MessageContent], recipient_ids: set[int]
) -> dict[int, Version]:
    """Each recipient's version of their alert's text (``versions_for``: their language, their organisation's)."""
    rows = session.execute(
        select(Recipient.id, Recipient.alert_id, Recipient.language, Organisation.languages)
        .join(Organisation, Organisation.id == Recipient.organisation_id)
        .where(Recipient.id.in_(recipient_ids))
    ).all()
    return {
        row.id: versions_for(
            content_of[row.alert_id].languages, reader=row.language, organisation_languages=row.languages or []
        )
        for row in rows
    }


def prepare(session: Session, claimed: Sequence[Any]) -> list[Outgoing]:
    """Render each claimed delivery's message (SMS texts are shared per alert, version and kind)."""
    contents = {
        alert.id: alert_content(alert)
        for alert in session.scalars(select(Alert).where(Alert.id.in_({row.alert_id for row in claimed})))
    }
    versions = reader_versions(session, contents, {row.recipient_id for row in claimed})
    sms_texts: dict[tuple[int, Version, str], str] = {}
    outgoing = []
    for row in claimed:
        content, version, kind = contents[row.alert_id], versions[row.recipient_id], DeliveryKind(row.kind).value
        if Channel(row.channel) is Channel.sms:
            key = (row.alert_id, version, kind)
            if key not in sms_texts:
                sms_texts[key] = render_sms(content, kind=kind, version=version)
            outgoing.append(Outgoing(row.id, Channel.sms, row.attempts, row.address, sms_body=sms_texts[key]))
        else:
            message = render_email(
                content,
                kind=kind,
                version=version,
                to=row.address,
                ack_url=ack_url(alert_id=row.alert_id, recipient_id=row.recipient_id),
            )
            outgoing.append(Outgoing(row.id, Channel.email, row.attempts, row.address, email=message))
    return outgoing
