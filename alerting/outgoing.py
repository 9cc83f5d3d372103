"""What a claimed delivery becomes before it is sent: its address and its rendered message."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.call_scripts import alert_call
from alerting.channels import CallScript
from alerting.messages import MessageContent, alert_content, render_email, render_sms
from alerting.models import Alert, Channel, DeliveryKind, Recipient
from alerting.tokens import ack_url
from alueturva.localized import Version, versions_for
from contacts.models import Organisation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    channel: Channel
    attempts: int
    to: str
    sms_body: str | None = None
    email: EmailMessage | None = None
    script: CallScript | None = None  # what a call says (the provider may ask for it again when it is answered)


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


@dataclass(frozen=True)
class Unpreparable:
    """A claimed delivery whose message could not be made, and why (an exception in one line)."""

    delivery_id: int
    reason: str


TextKey = tuple[Channel, int, Version, str]  # channel, alert id, version, kind


def _rendered(cache: dict[TextKey, Any], key: TextKey, content: MessageContent) -> Any:
    """The SMS text or call script of (alert, version, kind), made once per job; a failure is remembered too."""
    channel, _, version, kind = key
    if key not in cache:
        try:
            if channel is Channel.voice:
                cache[key] = alert_call(content, kind=kind, version=version)
            else:
                cache[key] = render_sms(content, kind=kind, version=version)
        except Exception as exc:
            cache[key] = exc
    made = cache[key]
    if isinstance(made, Exception):
        raise made
    return made


def link_holders(session: Session, recipient_ids: set[int]) -> dict[int, Any]:
    """What each recipient's acknowledgement link is made of (``tokens.LinkHolder``)."""
    rows = session.execute(
        select(Recipient.id, Recipient.alert_id, Recipient.link_nonce).where(Recipient.id.in_(recipient_ids))
    )
    return {row.id: row for row in rows}


def prepare(session: Session, claimed: Sequence[Any]) -> tuple[list[Outgoing], list[Unpreparable]]:
    """Render each claimed delivery's message (SMS texts and call scripts are shared per alert, version and kind).

    A delivery that cannot be prepared is set aside with its reason and the others go on (docs/alerting.md §8).
    """
    contents = {
        alert.id: alert_content(alert)
        for alert in session.scalars(select(Alert).where(Alert.id.in_({row.alert_id for row in claimed})))
    }
    versions = reader_versions(session, contents, {row.recipient_id for row in claimed})
    holders = link_holders(session, {row.recipient_id for row in claimed if Channel(row.channel) is Channel.email})
    rendered: dict[TextKey, Any] = {}
    outgoing: list[Outgoing] = []
    unpreparable: list[Unpreparable] = []
    for row in claimed:
        content, version, kind = contents[row.alert_id], versions[row.recipient_id], DeliveryKind(row.kind).value
        channel = Channel(row.channel)
        try:
            if channel is Channel.sms:
                body = _rendered(rendered, (channel, row.alert_id, version, kind), content)
                outgoing.append(Outgoing(row.id, Channel.sms, row.attempts, row.address, sms_body=body))
                continue
            if channel is Channel.voice:
                script = _rendered(rendered, (channel, row.alert_id, version, kind), content)
                outgoing.append(Outgoing(row.id, Channel.voice, row.attempts, row.address, script=script))
                continue
            message = render_email(
                content,
                kind=kind,
                version=version,
                to=row.address,
                ack_url=ack_url(holders[row.recipient_id]),
            )
            outgoing.append(Outgoing(row.id, Channel.email, row.attempts, row.address, email=message))
        except Exception as exc:
            log.warning("delivery cannot be prepared", extra={"delivery_id": row.id, "error": type(exc).__name__})
            unpreparable.append(Unpreparable(row.id, f"{type(exc).__name__}: {exc}"))
    return outgoing, unpreparable
