"""The alerts a drill sends, as an outbox: a row written with the drill's change, then the alert created through the
alerting domain with the row's idempotency key. A crash in between is finished by the next scheduler tick, and
nothing is sent twice."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from alerting.public import AlertCreate, create_alert
from alueturva.db import get_database
from alueturva.errors import DomainError, Invalid
from alueturva.i18n import LANGUAGES
from drills import service
from drills.models import Drill, DrillAlertPurpose

log = logging.getLogger(__name__)

MAX_ALERT_ATTEMPTS = 100  # a transient failure (the database away) is retried every tick for a good while


def alert_request(
    drill: Drill, *, title: dict[str, str], message: dict[str, str], targets: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The body of an alert the drill sends: an exercise, with the drill's targets (unless given), channels, poll
    and escalation. The poll's answers are used in the languages the title is written in, so that no reader gets a
    mix of languages."""
    languages = [language for language in LANGUAGES if title.get(language)]
    return {
        "title": title,
        "message": message,
        "targets": targets or drill.targets,
        "channels": drill.channels,
        "exercise": True,
        "response_options": [
            {language: option[language] for language in languages if language in option}
            for option in drill.response_options or []
        ],
        "escalation": drill.escalation,
    }


def check_alert_texts(drill: Drill) -> None:
    """Refuse, before anything is stored, a drill whose alerts could not be sent as written: each alert it will send
    (its own, each phase's) must have its title, message and every poll answer in the same languages."""
    alerts: list[tuple[str, dict[str, str] | None, dict[str, str] | None]] = [("", drill.title, drill.message)]
    alerts += [(f"phases.{phase.number}: ", phase.title, phase.message) for phase in drill.phases]
    for where, title, message in alerts:
        if not title or not message:
            continue
        try:
            AlertCreate.model_validate(alert_request(drill, title=title, message=message))
        except ValidationError as exc:
            problems = "; ".join(str(error["msg"]).removeprefix("Value error, ") for error in exc.errors())
            raise Invalid(where + problems) from exc


def queue_alert(
    session: Session,
    drill: Drill,
    *,
    purpose: DrillAlertPurpose,
    key: str,
    title: dict[str, str],
    message: dict[str, str],
    targets: dict[str, Any] | None = None,
    phase: int | None = None,
) -> None:
    """The outbox row of an alert the drill sends (``alert_request``), under its idempotency key."""
    request = alert_request(drill, title=title, message=message, targets=targets) | {"idempotency_key": key}
    service.add_drill_alert(
        session, drill_id=drill.id, purpose=purpose, phase=phase, idempotency_key=key, request=request
    )


def send_reaction_alert(*, drill_id: int, key: str, title: dict[str, str], message: dict[str, str]) -> int:
    """The alert an exercise decision's reaction rule sends: an exercise alert to the drill's own targets."""
    with get_database().session() as session:
        drill = service.get_drill(session, drill_id=drill_id)
        if not any(row.idempotency_key == key for row in service.drill_alerts(session, drill_id=drill_id)):
            queue_alert(session, drill, purpose=DrillAlertPurpose.reaction, key=key, title=title, message=message)
    send_pending_alerts(drill_id=drill_id)
    with get_database().session() as session:
        row = next(r for r in service.drill_alerts(session, drill_id=drill_id) if r.idempotency_key == key)
        if row.alert_id is None:
            raise RuntimeError(f"the drill's reaction alert is not sent yet: {row.last_error}")
        return row.alert_id


def _send_one(pending: service.PendingAlert, now: datetime | None, dispatch: bool) -> bool:
    """Create one outbox row's alert (its own transaction, under the row's idempotency key), then record it."""
    try:
        created = create_alert(
            AlertCreate.model_validate(pending.request), actor=pending.actor, now=now, dispatch=dispatch
        )
    except Exception as exc:
        log.warning("drill alert not sent", extra={"drill_alert_id": pending.id, "error": type(exc).__name__})
        refused = isinstance(exc, DomainError)  # trying again cannot help
        error = str(exc.detail) if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        with get_database().session() as session:
            service.record_alert_failure(
                session, row_id=pending.id, error=error, give_up=refused, max_attempts=MAX_ALERT_ATTEMPTS
            )
        return False
    with get_database().session() as session:
        service.record_alert_made(session, row_id=pending.id, alert_id=created.alert_id)
    return True


def send_pending_alerts(*, drill_id: int | None = None, now: datetime | None = None, dispatch: bool = True) -> int:
    """Create the alerts of the outbox rows that have none yet (idempotent); how many were created."""
    with get_database().session() as session:
        pending = service.pending_drill_alerts(session, drill_id=drill_id, max_attempts=MAX_ALERT_ATTEMPTS)
    return sum(_send_one(row, now, dispatch) for row in pending)
