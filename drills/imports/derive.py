"""An imported drill's recipients, messages and phases, made from all of its log's events (again after every file,
so that two files about the same exercise give one picture).

- A **phase** is each distinct phase the log names, numbered in the order they began.
- A **recipient** is a person (or someone the roster does not know) in one phase. Their times count from their
  first message or call (``alert_at``); the first ``acknowledged`` or ``answered`` event acknowledges.
- A **message** starts with ``sent`` or ``called``; a later ``delivered`` or ``failed`` on the same channel ends the
  latest message still open there (one without a ``sent`` row is a message of its own).
- The poll's answers are the distinct answer texts, in the order they first appear.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from drills.imports.matching import Match, Roster, identity
from drills.models import Drill, DrillPhase, DrillState, ImportedEvent, ImportedMessage, ImportedRecipient

STARTS = ("sent", "called")
ACKNOWLEDGES = ("acknowledged", "answered")


@dataclass
class Derived:
    recipients: int = 0
    matched: dict[str, int] = field(default_factory=lambda: {"number": 0, "email": 0, "name": 0})  # people, by how
    unmatched: list[dict[str, object]] = field(default_factory=list)  # the first row of each, with what the log says
    phases: list[str] = field(default_factory=list)


def _phase_starts(events: Sequence[ImportedEvent]) -> dict[str, datetime]:
    """Each phase the log names and when it began (its first event), in the order they began. ``events`` are in
    time order."""
    first: dict[str, datetime] = {}
    for event in events:
        if event.phase is not None and event.phase not in first:
            first[event.phase] = event.at
    return dict(sorted(first.items(), key=lambda item: (item[1], item[0])))


def _replace_phases(session: Session, drill: Drill, starts: dict[str, datetime]) -> None:
    """The drill's phases as the log names them, numbered in the order they began. The old rows go first (as when
    a plan's phases are replaced, ``drills.plans.update``): numbers are unique per drill."""
    drill.phases.clear()
    session.flush()
    drill.phases.extend(
        DrillPhase(number=number, name=name, started_at=started)
        for number, (name, started) in enumerate(starts.items(), start=1)
    )


def _messages(events: list[ImportedEvent]) -> list[ImportedMessage]:
    messages: list[ImportedMessage] = []
    open_on: dict[str, ImportedMessage] = {}
    for event in events:
        if event.event in STARTS:
            message = ImportedMessage(channel=event.channel, state="sent", sent_at=event.at)
            messages.append(message)
            open_on[event.channel] = message
        elif event.event in ("delivered", "failed"):
            ended = open_on.pop(event.channel, None)
            if ended is None:
                ended = ImportedMessage(channel=event.channel, state="sent")
                messages.append(ended)
            if event.event == "delivered":
                ended.state, ended.delivered_at = "delivered", event.at
            else:
                ended.state, ended.failed_at, ended.error = "failed", event.at, event.error
    return messages


def _recipient(
    drill: Drill, events: list[ImportedEvent], match: Match, phase: int | None, answers: list[str]
) -> ImportedRecipient:
    starts = [event.at for event in events if event.event in STARTS]
    acknowledgement = next((event for event in events if event.event in ACKNOWLEDGES), None)
    answer = next((event.answer for event in events if event.answer), None)
    return ImportedRecipient(
        drill_id=drill.id,
        phase=phase,
        person_id=match.person_id,
        name=next((event.name for event in events if event.name), None) or "",
        mobile=next((event.number for event in events if event.number), None),
        email=next((event.email for event in events if event.email), None),
        organisation_id=match.organisation_id,
        organisation_name=match.organisation_name,
        alert_at=min(starts) if starts else events[0].at,
        acknowledged_at=acknowledgement.at if acknowledgement else None,
        ack_channel=acknowledgement.channel if acknowledgement else None,
        response=answers.index(answer) + 1 if answer else None,
        messages=_messages(events),
    )


def derive(session: Session, *, drill: Drill, roster: Roster) -> Derived:
    """Replace the drill's recipients, messages and phases by those its events make now."""
    events = session.scalars(
        select(ImportedEvent).where(ImportedEvent.drill_id == drill.id).order_by(ImportedEvent.at, ImportedEvent.id)
    ).all()
    session.execute(delete(ImportedRecipient).where(ImportedRecipient.drill_id == drill.id))
    starts = _phase_starts(events)
    _replace_phases(session, drill, starts)
    numbers = {name: number for number, name in enumerate(starts, start=1)}
    answers = list(dict.fromkeys(event.answer for event in events if event.answer))
    drill.response_options = [{"fi": answer} for answer in answers]
    grouped: dict[tuple[str, int | None], list[ImportedEvent]] = defaultdict(list)
    matches: dict[tuple[str, int | None], Match] = {}
    derived = Derived(phases=list(starts))
    for event in events:
        match = roster.match(event)
        phase = numbers.get(event.phase) if event.phase is not None else None
        key = (identity(event, match), phase)
        grouped[key].append(event)
        matches.setdefault(key, match)
    seen: set[str] = set()
    for (who, phase), group in grouped.items():
        match = matches[(who, phase)]
        session.add(_recipient(drill, group, match, phase, answers))
        if who in seen:
            continue
        seen.add(who)
        if match.person_id is not None:
            derived.matched[match.by] += 1
        else:
            first = group[0]
            derived.unmatched.append({"row": first.row_number, "name": first.name, "organisation": first.organisation})
    derived.recipients = len(grouped)
    if events:
        drill.started_at, drill.ended_at = events[0].at, max(event.at for event in events)
    drill.state = DrillState.ended
    session.flush()
    return derived
