"""Telling the sending operator who is still silent (an email to the address given in the alert request)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from alerting.channels import SendError, email_sender
from alerting.messages import render_plain_email
from alerting.models import Alert, Recipient
from alueturva.db import get_database
from alueturva.settings import get_settings
from contacts.models import Organisation, Person

log = logging.getLogger(__name__)


def send_silent_summary(alert_id: int) -> None:
    """Queue job: email the alert's ``notify_email`` the list of recipients who have not acknowledged yet."""
    with get_database().session() as session:
        alert = session.get(Alert, alert_id)
        if alert is None or not alert.notify_email:
            return
        rows = session.execute(
            select(Person.name, Organisation.short_name, Recipient.id)
            .join(Person, Person.id == Recipient.person_id)
            .join(Organisation, Organisation.id == Recipient.organisation_id)
            .where(Recipient.alert_id == alert_id, Recipient.acknowledged_at.is_(None))
            .order_by(Organisation.short_name, Person.name)
        ).all()
        title, exercise, to = alert.title, alert.exercise, alert.notify_email
    if not rows:
        return
    prefix = "[HARJOITUS / ÖVNING / EXERCISE] " if exercise else ""
    lines = [f"- {name} ({organisation}), recipient {recipient_id}" for name, organisation, recipient_id in rows]
    text = (
        f"Alert {alert_id}: {title}\n\n"
        f"Not acknowledged yet ({len(rows)}):\n" + "\n".join(lines) + "\n\n"
        f"{get_settings().public_base_url.rstrip('/')}/api/v1/alerts/{alert_id}/recipients\n"
    )
    message = render_plain_email(
        subject=f"{prefix}Kuittaamatta / Okvitterat / Not acknowledged: {title}", text=text, to=to, language="fi"
    )
    try:
        email_sender().send_email(message=message, reference=f"alert:{alert_id}:silent-summary")
    except SendError as exc:
        log.warning("silent summary not sent", extra={"alert_id": alert_id, "code": exc.code})
