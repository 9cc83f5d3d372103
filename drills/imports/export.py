"""A drill's event log as CSV, in the columns of the built-in ``alueturva`` mapping: one row per message sent or
called, delivered or failed, and per acknowledgement or answer, with the phase's name. Whatever ran the drill, its
log can be read back (``alueturva drill import``). It names people and their numbers: for operators and admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alueturva.csvfile import write_csv
from alueturva.i18n import helsinki
from drills.imports.mapping import built_in
from drills.measures import measures, poll_options
from drills.models import Drill

# How an acknowledgement came, as a log's channel: an SMS reply, a link (in an email or an SMS: written as email), an
# operator who entered it (after a phone call), a key pressed during a call.
ACK_CHANNELS = {"sms": "sms", "link": "email", "operator": "phone", "voice": "phone"}


def _time(moment: datetime) -> str:
    """Finnish time with its offset, to the second: read back as the same moment, even at the clock change."""
    return helsinki(moment).isoformat(timespec="seconds")


def _acknowledgement(row: Any, options: list[str]) -> tuple[str, str]:
    answer = options[row.response - 1] if row.response and row.response <= len(options) else ""
    return ("answered" if answer else "acknowledged"), answer


def event_log(session: Session, drill: Drill) -> str:
    measured = measures(session, drill)
    recipients = measured.recipients.subquery()
    contacts = measured.contacts.subquery()
    messages = measured.messages.subquery()
    people = {
        row.recipient_id: row
        for row in session.execute(
            select(
                recipients.c.recipient_id,
                recipients.c.organisation,
                recipients.c.phase,
                recipients.c.acknowledged_at,
                recipients.c.ack_method,
                recipients.c.response,
                contacts.c.name,
                contacts.c.mobile,
                contacts.c.email,
            ).join(contacts, contacts.c.recipient_id == recipients.c.recipient_id)
        )
    }
    phase_names = {phase.number: phase.name for phase in drill.phases}
    options = poll_options(session, drill, measured, "fi")
    events: list[tuple[datetime, int, str, str, str, str | None]] = []
    for message in session.execute(select(messages)):
        for event, at, error in (
            ("called" if message.channel in ("phone", "voice") else "sent", message.sent_at, None),
            ("delivered", message.delivered_at, None),
            ("failed", message.failed_at, message.error_code),
        ):
            if at is not None:
                events.append((at, message.recipient_id, message.channel, event, "", error))
    for person in people.values():
        if person.acknowledged_at is not None:
            event, answer = _acknowledgement(person, options)
            channel = ACK_CHANNELS.get(person.ack_method or "", person.ack_method or "sms")
            events.append((person.acknowledged_at, person.recipient_id, channel, event, answer, None))
    mapping = built_in("alueturva")
    columns = [mapping.columns[field] for field in mapping.required]
    rows = []
    for at, recipient_id, channel, event, answer, error in sorted(events, key=lambda item: (item[0], item[1])):
        person = people[recipient_id]
        cells = (
            _time(at),
            person.name or "",
            person.mobile or "",
            person.email or "",
            person.organisation or "",
            channel,
            event,
            answer,
            phase_names.get(person.phase, "") if person.phase else "",
            error or "",
        )
        rows.append(cells)
    return write_csv(columns, rows)
