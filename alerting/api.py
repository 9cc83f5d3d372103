"""The alerting HTTP API (docs/architecture.md §5): thin routes over ``flows`` and ``service``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from alerting import demo_outbox, flows, service
from alerting.cap import alert_as_cap
from alerting.models import Alert, Delivery, Recipient
from alerting.schemas import (
    AcknowledgeOnBehalf,
    AlertCancel,
    AlertCreate,
    AlertList,
    AlertRead,
    AlertSummary,
    DeliveryRead,
    OutboxList,
    OutboxMessageRead,
    RecipientList,
    RecipientRead,
)
from alueturva.api_types import MAX_ID, PathId, SafeQueryText
from alueturva.audit.reads import record_reads
from alueturva.auth.dependencies import DbSession, Operator, Viewer
from alueturva.db import get_database
from alueturva.errors import API_ERRORS

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], responses=API_ERRORS)
outbox_router = APIRouter(prefix="/api/v1/outbox", tags=["alerts"], responses=API_ERRORS)


@router.post(
    "",
    response_model=AlertRead,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": AlertRead, "description": "The alert made earlier with this idempotency key"}},
)
def create_alert(body: AlertCreate, principal: Operator, response: Response) -> AlertRead:
    """Create and send an alert. A repeated ``idempotency_key`` returns the same alert (200) and sends nothing."""
    created = flows.create_alert(body, actor=principal.actor)
    if not created.created:
        response.status_code = status.HTTP_200_OK
    return flows.alert_status(created.alert_id)


@router.get("", response_model=AlertList)
def list_alerts(
    session: DbSession,
    _: Viewer,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> AlertList:
    alerts, total = service.list_alerts(session, limit=limit, offset=offset)
    return AlertList(items=[AlertSummary.model_validate(alert) for alert in alerts], total=total)


@router.get("/{alert_id}", response_model=AlertRead)
def get_alert(alert_id: PathId, _: Viewer) -> AlertRead:
    return flows.alert_status(alert_id)


def _recipient_read(alert: Alert, recipient: Recipient, name: str, deliveries: list[Delivery]) -> RecipientRead:
    return RecipientRead(
        id=recipient.id,
        person_id=recipient.person_id,
        name=name,
        organisation_id=recipient.organisation_id,
        language=recipient.language,
        deputy_for_id=recipient.deputy_for_id,
        acknowledged_at=recipient.acknowledged_at,
        ack_method=recipient.ack_method.value if recipient.ack_method else None,
        ack_by=recipient.ack_by,
        ack_late=recipient.ack_late,
        response=recipient.response,
        response_text=alert.response_options[recipient.response - 1] if recipient.response else None,
        deliveries=[
            DeliveryRead(
                id=d.id,
                channel=d.channel.value,
                kind=d.kind.value,
                round=d.round,
                state=d.state.value,
                attempts=d.attempts,
                created_at=d.created_at,
                sent_at=d.sent_at,
                delivered_at=d.delivered_at,
                failed_at=d.failed_at,
                next_attempt_at=d.next_attempt_at,
                error_code=d.error_code,
                error_message=d.error_message,
                answered_by=d.answered_by,
                duration_seconds=d.duration_seconds,
            )
            for d in deliveries
        ],
    )


@router.get("/{alert_id}/recipients", response_model=RecipientList)
def list_recipients(
    alert_id: PathId,
    session: DbSession,
    principal: Viewer,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> RecipientList:
    """Per recipient: each delivery's state and times, the acknowledgement and the chosen response."""
    alert = service.get_alert(session, alert_id=alert_id)
    rows, total = service.list_recipients(session, alert_id=alert_id, limit=limit, offset=offset)
    if principal.sees_contact_details:  # each delivery's number or address
        route = "GET /api/v1/alerts/{id}/recipients"
        record_reads(session, actor=principal.actor, person_ids=(row[0].person_id for row in rows), route=route)
    return RecipientList(items=[_recipient_read(alert, *row) for row in rows], total=total)


@router.get(
    "/{alert_id}/cap",
    response_class=Response,
    responses={200: {"content": {"application/cap+xml": {}}, "description": "CAP 1.2 XML"}},
)
def get_cap(alert_id: PathId, session: DbSession, _: Viewer) -> Response:
    """The alert as CAP 1.2 XML (``status`` Exercise for drills, one ``info`` per language)."""
    alert = service.get_alert(session, alert_id=alert_id)
    return Response(alert_as_cap(alert), media_type="application/cap+xml")


@router.post("/{alert_id}/cancel", response_model=AlertRead)
def cancel_alert(alert_id: PathId, principal: Operator, body: AlertCancel | None = None) -> AlertRead:
    """Stop escalation and unsent messages; everyone already alerted gets a cancellation notice. The optional
    ``reason`` is kept on the alert and in the audit log."""
    flows.cancel_alert(alert_id=alert_id, actor=principal.actor, reason=body.reason if body else None)
    return flows.alert_status(alert_id)


@router.post("/{alert_id}/recipients/{recipient_id}/acknowledge", response_model=RecipientRead)
def acknowledge_on_behalf(
    alert_id: PathId, recipient_id: PathId, body: AcknowledgeOnBehalf, principal: Operator
) -> RecipientRead:
    """Record an acknowledgement someone gave another way (e.g. by phone); the operator is recorded as actor."""
    flows.acknowledge_on_behalf(
        alert_id=alert_id, recipient_id=recipient_id, actor=principal.actor, response=body.response, note=body.note
    )
    with get_database().session() as session:
        alert = service.get_alert(session, alert_id=alert_id)
        rows, _ = service.list_recipients(session, alert_id=alert_id, recipient_id=recipient_id)
        return _recipient_read(alert, *rows[0])


@outbox_router.get("", response_model=OutboxList)
def list_outbox(
    session: DbSession,
    _: Operator,
    to: Annotated[SafeQueryText | None, Query(max_length=254, description="One number or address")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> OutboxList:
    """What the console backends of the embedded default "sent" (SMS and email), newest first: the text, to whom
    and when. Operators and admins only: it holds phone numbers and addresses. Empty with Twilio and SMTP."""
    rows, total = demo_outbox.list_messages(session, to=to, limit=limit, offset=offset)
    return OutboxList(items=[OutboxMessageRead.model_validate(row) for row in rows], total=total)
