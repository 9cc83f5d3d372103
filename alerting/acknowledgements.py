"""Acknowledgements: the first one of a recipient is recorded and audited, however many arrive at once, and stops
the calls still waiting to be placed to them (an SMS, a link, an operator or a key press: whichever came first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from alerting.models import AckMethod, Alert, AlertStatus, Channel, Delivery, DeliveryState, Recipient
from alueturva.audit import service as audit
from alueturva.db import utcnow
from alueturva.errors import Invalid


@dataclass(frozen=True)
class AckOutcome:
    already: bool  # the recipient had acknowledged before: nothing changed (except a first poll answer)
    late: bool  # the acknowledgement came after the alert closed or was cancelled


_recipients = cast(Table, Recipient.__table__)
# Built once (the SMS reply path runs them for every acknowledgement in a burst).
_FIRST_ACKNOWLEDGEMENT = (
    update(_recipients)
    .where(_recipients.c.id == bindparam("b_id"), _recipients.c.acknowledged_at.is_(None))
    .values(
        acknowledged_at=bindparam("b_now"),
        ack_method=bindparam("b_method"),
        ack_by=bindparam("b_actor"),
        ack_late=bindparam("b_late"),
        response=bindparam("b_response"),
    )
)
_deliveries = cast(Table, Delivery.__table__)
# A recipient's calls not placed yet; those already ringing are stopped by the sweeper (``calls.calls_to_stop``).
_PENDING_CALLS_NOT_NEEDED = (
    update(_deliveries)
    .where(
        _deliveries.c.recipient_id == bindparam("b_id"),
        _deliveries.c.channel == Channel.voice.name,
        _deliveries.c.state == DeliveryState.queued.name,
    )
    .values(
        state=DeliveryState.cancelled.name,
        next_attempt_at=None,
        error_code="acknowledged",
        error_message="not called: acknowledged before the call",
    )
)
_FIRST_RESPONSE = (
    update(_recipients)
    .where(_recipients.c.id == bindparam("b_id"), _recipients.c.response.is_(None))
    .values(response=bindparam("b_response"))
)


# PostgreSQL: the first acknowledgement, the calls it makes unnecessary and its audit event in one statement
# (data-modifying CTEs: one round trip instead of three for every acknowledgement of a burst); how many were first.
_first = _FIRST_ACKNOWLEDGEMENT.returning(_recipients.c.id).cte("first_acknowledgement")
_FIRST_ACKNOWLEDGEMENT_AND_ITS_EFFECTS = (
    select(func.count())
    .select_from(_first)
    .add_cte(
        _PENDING_CALLS_NOT_NEEDED.where(_deliveries.c.recipient_id.in_(select(_first.c.id))).cte("calls_not_needed"),
        audit.appended_for_each(_first, action="alert.acknowledge", entity_type="alert").cte("audited"),
    )
)


def _first_acknowledgement(
    connection: Connection, values: dict[str, object], *, alert_id: int, details: dict[str, object]
) -> bool:
    """Record the acknowledgement if it is the recipient's first, stop their calls not placed yet and audit it;
    whether it was the first. One statement on PostgreSQL, three on SQLite (which has no data-modifying CTEs)."""
    if connection.dialect.name == "postgresql":
        audited = {"b_at": utcnow(), "b_entity_id": str(alert_id), "b_details": details}
        return bool(connection.execute(_FIRST_ACKNOWLEDGEMENT_AND_ITS_EFFECTS, {**values, **audited}).scalar())
    if not connection.execute(_FIRST_ACKNOWLEDGEMENT, values).rowcount:
        return False
    connection.execute(_PENDING_CALLS_NOT_NEEDED, {"b_id": values["b_id"]})
    actor = str(values["b_actor"])
    audit.append(
        connection, actor=actor, action="alert.acknowledge", entity_type="alert", entity_id=alert_id, details=details
    )
    return True


def record_acknowledgement(
    session: Session,
    *,
    alert_id: int,
    recipient_id: int,
    late: bool,
    method: AckMethod,
    actor: str,
    response: int | None,
    now: datetime,
    details: dict[str, object] | None = None,
) -> AckOutcome:
    """Acknowledge atomically: only the first acknowledgement of a recipient is recorded (and audited), however many
    arrive at once. A later one may still add a poll answer if none was given."""
    connection = session.connection()
    values = {
        "b_id": recipient_id,
        "b_now": now,
        "b_method": method,
        "b_actor": actor,
        "b_late": late,
        "b_response": response,
    }
    audited = {
        "recipient_id": recipient_id,
        "method": method.value,
        "response": response,
        "late": late,
        **(details or {}),
    }
    if _first_acknowledgement(connection, values, alert_id=alert_id, details=audited):
        return AckOutcome(already=False, late=late)
    if (
        response is not None
        and connection.execute(_FIRST_RESPONSE, {"b_id": recipient_id, "b_response": response}).rowcount
    ):
        audit.append(
            connection,
            actor=actor,
            action="alert.respond",
            entity_type="alert",
            entity_id=alert_id,
            details={"recipient_id": recipient_id, "method": method.value, "response": response},
        )
    return AckOutcome(already=True, late=late)


def is_late(alert: Alert, now: datetime) -> bool:
    return alert.status is not AlertStatus.open or now >= alert.closes_at


def check_response(alert: Alert, response: int | None) -> None:
    if response is not None and not 1 <= response <= len(alert.response_options):
        raise Invalid(
            f"response {response} is not an option of alert {alert.id}"
            + (f"; choose 1 to {len(alert.response_options)}" if alert.response_options else "; it has none")
        )


def acknowledge(
    session: Session,
    *,
    recipient: Recipient,
    method: AckMethod,
    actor: str,
    response: int | None = None,
    now: datetime | None = None,
    details: dict[str, object] | None = None,
) -> AckOutcome:
    """Record an acknowledgement (idempotent: a second one changes nothing). After the alert closed it is late."""
    alert = recipient.alert
    check_response(alert, response)
    now = now or utcnow()
    outcome = record_acknowledgement(
        session,
        alert_id=alert.id,
        recipient_id=recipient.id,
        late=is_late(alert, now),
        method=method,
        actor=actor,
        response=response,
        now=now,
        details=details,
    )
    session.expire(recipient)  # written around the ORM: read it again when asked
    return outcome
