"""Per person: what reached them, when, and what they did (the calls: placed, answered, how long); deputies alerted
for them. Names, numbers and email addresses only in the full report; a redacted one keeps organisations and roles.

Its queries run on the session's connection (Core rows): tens of thousands of plain rows, which the ORM's result
handling would only slow down."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql import FromClause

from alueturva.personal.pseudonym import readable
from alueturva.personal.pseudonym import shown as shown_name
from contacts.catalogue import roles_by_key
from contacts.models import Membership
from drills.measures import Measures
from drills.report.schemas import NamedPerson, PersonCalls, ReportPerson, TimelineEvent


def _roles(session: Session, person_ids: set[int], language: str) -> dict[int, list[str]]:
    names = {key: getattr(role.names, language) for key, role in roles_by_key().items()}
    roles: dict[int, list[str]] = defaultdict(list)
    rows = session.connection().execute(
        select(Membership.person_id, Membership.role_key).order_by(
            Membership.person_id, Membership.order, Membership.id
        )
    )
    for person_id, role_key in rows:
        role = names.get(role_key, role_key)
        if person_id in person_ids and role not in roles[person_id]:
            roles[person_id].append(role)
    return roles


CALL_CHANNELS = ("voice", "phone")  # our calls, and those of an exercise log


@dataclass(frozen=True)
class ReportRows:
    """What a report reads of its people and their messages, once (the people's table and the roster fixes both
    use them): each recipient with their contacts, in the report's order (organisation, name), and each message in
    the order it was made."""

    people: Sequence[Any]
    messages: Sequence[Any]


def report_rows(session: Session, measured: Measures, recipients: FromClause) -> ReportRows:
    """The recipients (``figures.recipients_table``) with their contacts, and the messages (``drills.measures``)."""
    contacts, messages = measured.contacts.subquery(), measured.messages.subquery()
    connection = session.connection()
    people = connection.execute(
        select(
            recipients.c.recipient_id,
            recipients.c.person_id,
            recipients.c.deputy_for_id,
            recipients.c.added_at,
            recipients.c.acknowledged_at,
            recipients.c.ack_method,
            recipients.c.ack_late,
            recipients.c.response,
            recipients.c.alert_at,
            recipients.c.organisation,
            recipients.c.phase,
            contacts.c.name,
            contacts.c.mobile,
            contacts.c.email,
        )
        .join(contacts, contacts.c.recipient_id == recipients.c.recipient_id)
        .order_by(recipients.c.organisation, contacts.c.name, recipients.c.recipient_id)
    ).all()
    sent = connection.execute(
        select(
            messages.c.recipient_id,
            messages.c.channel,
            messages.c.kind,
            messages.c.state,
            messages.c.sent_at,
            messages.c.delivered_at,
            messages.c.failed_at,
            messages.c.error_code,
            messages.c.duration_seconds,
        )
    ).all()
    return ReportRows(people, sent)


def _message_events(messages: Sequence[Any]) -> tuple[dict[int, list[TimelineEvent]], dict[int, PersonCalls]]:
    """Each recipient's message events, and their calls: ``attempts`` placed, ``answered``, ``seconds`` in all
    (None while no duration is known)."""
    events: dict[int, list[TimelineEvent]] = {}
    calls: dict[int, PersonCalls] = {}
    for recipient_id, channel, kind, _, sent_at, delivered_at, failed_at, error_code, seconds in messages:
        timeline = events.get(recipient_id)
        if timeline is None:
            timeline = events[recipient_id] = []
        reminder = kind == "reminder"
        if channel in CALL_CHANNELS and sent_at is not None:
            call = calls.setdefault(recipient_id, {"attempts": 0, "answered": 0, "seconds": None})
            call["attempts"] += 1
            call["answered"] += delivered_at is not None
            if seconds is not None:
                call["seconds"] = (call["seconds"] or 0) + seconds
        if sent_at is not None:
            timeline.append({"at": sent_at.isoformat(), "event": "sent", "channel": channel, "reminder": reminder})
        if delivered_at is not None:
            at = delivered_at.isoformat()
            timeline.append(
                {"at": at, "event": "delivered", "channel": channel, "reminder": reminder}
                if seconds is None
                else {"at": at, "event": "delivered", "channel": channel, "reminder": reminder, "seconds": seconds}
            )
        if failed_at is not None:
            at = failed_at.isoformat()
            timeline.append(
                {"at": at, "event": "failed", "channel": channel, "reminder": reminder, "error": error_code}
            )
    return events, calls


_AT = itemgetter("at")  # ISO 8601 times of one offset (UTC) sort as the moments they name


def people(
    session: Session,
    rows: ReportRows,
    *,
    options: list[str],
    language: str,
    redact: bool,
    contact_details: bool = True,
    label: Callable[[str | None], str] = lambda organisation: organisation or "",
) -> list[NamedPerson | ReportPerson]:
    """Each person the drill's alerts (or its log) reached out to, with their timeline (oldest event first).
    Redacted: no names; without ``contact_details``: names, but no mobile numbers or email addresses. ``options``:
    the poll's answers in the report's language (``drills.measures.poll_options``); ``label`` names an organisation
    in it. A person's acknowledgement time is the difference of the whole-second times the timeline shows, so that
    "9 min 13 s" stands beside "9.09.13 kuitattu" for an alert at 9.00.00."""
    events, calls = _message_events(rows.messages)
    names = {row.recipient_id: shown_name(row.name, language) for row in rows.people}
    for row in rows.people:
        if row.deputy_for_id is not None:  # the deputy's name only in a full report
            alerted: TimelineEvent = {"at": row.added_at.isoformat(), "event": "deputy_alerted"}
            deputy = alerted if redact else {**alerted, "deputy": names[row.recipient_id]}
            events.setdefault(row.deputy_for_id, []).append(deputy)
    roles = _roles(session, {row.person_id for row in rows.people if row.person_id is not None}, language)
    result: list[NamedPerson | ReportPerson] = []
    for row in rows.people:
        timeline = events.get(row.recipient_id, [])
        if row.acknowledged_at is not None:
            at = row.acknowledged_at.isoformat()
            timeline.append({"at": at, "event": "acknowledged", "method": row.ack_method, "late": row.ack_late})
        timeline.sort(key=_AT)
        shown: ReportPerson = {
            "organisation": label(row.organisation),
            "phase": row.phase,
            "roles": roles.get(row.person_id, []) if row.person_id is not None else [],
            "on_roster": row.person_id is not None,
            "deputy": row.deputy_for_id is not None,
            "acknowledged_at": row.acknowledged_at,
            "ack_seconds": whole_seconds_between(row.alert_at, row.acknowledged_at),
            "late": row.ack_late,
            "response": row.response,
            "answer": options[row.response - 1] if row.response and row.response <= len(options) else None,
            "calls": calls.get(row.recipient_id),
            "timeline": timeline,
        }
        if redact:
            result.append(shown)
            continue
        named: NamedPerson = {
            **shown,
            "person_id": row.person_id,
            "name": names[row.recipient_id],
            "mobile": readable(row.mobile) if contact_details else None,
            "email": readable(row.email) if contact_details else None,
            "deputy_for": names.get(row.deputy_for_id) if row.deputy_for_id else None,
        }
        result.append(named)
    return result


def whole_seconds_between(start: datetime | None, end: datetime | None) -> int | None:
    """Seconds from ``start`` to ``end`` as their clock times read, to the second (the report shows times without
    fractions: 9.00.00 to 9.09.13 is 553 s whatever the fractions were)."""
    if start is None or end is None:
        return None
    return int(end.replace(microsecond=0).timestamp() - start.replace(microsecond=0).timestamp())
