"""Telling the sending operator who is still silent (an email to the address given in the alert request)."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select

from alerting.channels import SendError, email_sender, open_sms_sender
from alerting.messages import MessageContent, alert_content, render_plain_email
from alerting.models import Alert, Recipient
from alerting.texts import texts
from alueturva.db import get_database
from alueturva.i18n import Language
from alueturva.settings import get_settings
from contacts.models import Organisation, Person

log = logging.getLogger(__name__)

# The operator's language is not known: the summary is in both official languages, and in English.
SUMMARY_LANGUAGES: tuple[Language, ...] = ("fi", "sv", "en")


def silent_summary(
    *, alert_id: int, content: MessageContent, rows: list[tuple[str, str, int]], link: str
) -> tuple[str, str]:
    """Subject and text: who is still silent, in Finnish, in Swedish and in English, each part in its own words."""
    exercise = " / ".join(texts(language)["exercise"] for language in SUMMARY_LANGUAGES)
    prefix = f"[{exercise}] " if content.exercise else ""
    subject = prefix + " / ".join(texts(language)["silent_subject"] for language in SUMMARY_LANGUAGES)
    subject += f": {content.title.fi}"
    parts = []
    for language in SUMMARY_LANGUAGES:
        t = texts(language)
        title = content.title.get(language) or content.title.fi
        lines = [t["silent_heading"].format(alert_id=alert_id, title=title), ""]
        lines.append(t["silent_count"].format(count=len(rows)))
        lines += [t["silent_line"].format(name=name, organisation=org, recipient_id=rid) for name, org, rid in rows]
        lines += ["", f"{t['silent_link']} {link}"]
        parts.append("\n".join(lines))
    return subject, "\n\n---\n\n".join(parts) + "\n"


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
            .order_by(Organisation.short_name, Person.name, Recipient.id)
        ).all()
        content, to = alert_content(alert), alert.notify_email
    if not rows:
        return
    link = f"{get_settings().public_base_url.rstrip('/')}/api/v1/alerts/{alert_id}/recipients"
    silent = [(row.name, row.short_name, row.id) for row in rows]
    subject, text = silent_summary(alert_id=alert_id, content=content, rows=silent, link=link)
    message = render_plain_email(subject=subject, text=text, to=to, languages=SUMMARY_LANGUAGES)
    try:
        email_sender().send_email(message=message, reference=f"alert:{alert_id}:silent-summary")
    except SendError as exc:
        log.warning("silent summary not sent", extra={"alert_id": alert_id, "code": exc.code})


def send_notice(*, channel: str, to: str, subject: str, text: str, language: Language, reference: str) -> str:
    """Send one message that asks for no acknowledgement (another domain's notice, e.g. a drill's feedback request)
    by SMS or email, now, through the configured channel; the provider's id. Raises ``SendError``. No delivery row
    tracks it: the caller keeps its own outbox."""
    if channel == "email":
        message = render_plain_email(subject=subject, text=text, to=to, languages=(language,))
        return email_sender().send_email(message=message, reference=reference)

    async def _sms() -> str:
        sender = open_sms_sender(connections=1)
        try:
            return await sender.send_sms(to=to, body=text, delivery_id=0)  # 0: no delivery row takes its receipts
        finally:
            await sender.close()

    return asyncio.run(_sms())
