"""Helpers for drill tests: planning through the API, replying as Twilio would, and moving a drill's clock.

A drill's objectives count minutes from each alert's creation. Rather than wait those minutes, a test moves the drill
and its alerts back in time (``age_drill``): a reply sent after ``age_drill(..., minutes=12)`` arrives 12 minutes
(more) after its alert.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from alerting.models import Alert, Delivery, EscalationTimer, Recipient
from alueturva.auth.models import Role
from alueturva.db import Database
from drills.models import Drill, DrillAlert
from loopback.twilio_server import FakeTwilio
from tests.conftest import auth

SMS_URL = "http://127.0.0.1:8000/webhooks/twilio/sms"


def plan(client: TestClient, keys: dict[Role, str], **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/drills", json=fields, headers=auth(keys[Role.operator]))
    assert response.status_code == 201, response.text
    return dict(response.json())


def act(client: TestClient, keys: dict[Role, str], path: str, **body: Any) -> dict[str, Any]:
    """POST an operator action on a drill (``/api/v1/drills/...``), expecting success."""
    response = client.post(f"/api/v1/drills/{path}", json=body or None, headers=auth(keys[Role.operator]))
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def read(client: TestClient, keys: dict[Role, str], drill_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/drills/{drill_id}", headers=auth(keys[Role.viewer]))
    assert response.status_code == 200, response.text
    return dict(response.json())


def objectives(drill: dict[str, Any]) -> list[tuple[str, bool | None, Any]]:
    return [(objective["kind"], objective["met"], objective["value"]) for objective in drill["objectives"]]


def age_drill(database: Database, drill_id: int, *, minutes: float) -> None:
    """Move the drill and everything of its alerts ``minutes`` into the past: their creation, escalation steps,
    deliveries and the acknowledgements already made."""
    back = timedelta(minutes=minutes)
    with database.session() as session:
        alert_ids = [
            a for a in session.scalars(select(DrillAlert.alert_id).where(DrillAlert.drill_id == drill_id)) if a
        ]
        drill = session.get(Drill, drill_id)
        assert drill is not None and drill.started_at is not None
        drill.started_at -= back
        for column in ("ends_at", "ended_at"):
            if (at := getattr(drill, column)) is not None:
                setattr(drill, column, at - back)
        for alert in session.scalars(select(Alert).where(Alert.id.in_(alert_ids))):
            alert.created_at -= back
            alert.closes_at -= back
        for recipient in session.scalars(
            select(Recipient).where(Recipient.alert_id.in_(alert_ids), Recipient.acknowledged_at.is_not(None))
        ):
            assert recipient.acknowledged_at is not None
            recipient.acknowledged_at -= back
        for timer in session.scalars(select(EscalationTimer).where(EscalationTimer.alert_id.in_(alert_ids))):
            timer.due_at -= back
        for delivery in session.scalars(select(Delivery).where(Delivery.alert_id.in_(alert_ids))):
            for column in ("created_at", "enqueued_at", "sent_at", "delivered_at", "failed_at", "next_attempt_at"):
                if (at := getattr(delivery, column)) is not None:
                    setattr(delivery, column, at - back)
        for recipient in session.scalars(select(Recipient).where(Recipient.alert_id.in_(alert_ids))):
            recipient.added_at -= back


def reply(fake: FakeTwilio, client: TestClient, sender: str, body: str) -> str:
    """An SMS reply from ``sender``, signed as Twilio signs it; the TwiML answer."""
    params = fake.inbound_sms_params(from_=sender, body=body)
    response = client.post(SMS_URL, data=params, headers=fake.signed(SMS_URL, params))
    assert response.status_code == 200, response.text
    return response.text


def short_code(database: Database, alert_id: int) -> str:
    with database.session() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        return alert.short_code
