"""The embedded default's demo outbox (what the console backends sent) and `alueturva sms reply`, which answers an
alert through the same inbound path as a Twilio webhook."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from alerting import flows
from alerting.console_cli import outbox_app, sms_app
from alerting.models import Alert, InboundMessage, OutboxMessage, Recipient
from alerting.schemas import AlertCreate
from alueturva.audit.models import AuditEvent
from alueturva.auth.models import Role
from alueturva.db import Database
from alueturva.errors import Invalid
from alueturva.queue import InProcessQueue
from alueturva.settings import get_settings
from tests.conftest import auth
from tests.support.roster import Roster, make_roster

runner = CliRunner()


@pytest.fixture
def roster(database: Database) -> Roster:
    return make_roster(database)


def _send(roster: Roster, queue: InProcessQueue, **fields: object) -> Alert:
    body = {
        "title": {"fi": "Harjoitus", "sv": "Övning"},
        "message": {"fi": "Kokoontuminen klo 14.", "sv": "Samling kl. 14."},
        "targets": {"groups": [roster.group_id]},
        "exercise": True,
        **fields,
    }
    alert_id = flows.create_alert(AlertCreate.model_validate(body), actor="test").alert_id
    assert queue.join()
    with flows.get_database().session() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        return alert


def test_the_console_backends_keep_what_they_sent_for_operators_to_read(
    client: TestClient,
    keys: dict[Role, str],
    roster: Roster,
    queue: InProcessQueue,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    alert = _send(roster, queue)
    response = client.get("/api/v1/outbox", headers=auth(keys[Role.operator]))
    assert response.status_code == 200, response.text
    outbox = response.json()
    assert outbox["total"] == 7  # aino, bertil, deputy: SMS and email; cecilia: email
    sms = {item["to"]: item for item in outbox["items"] if item["channel"] == "sms"}
    assert sms[roster.mobiles["bertil"]]["body"].startswith("ÖVNING – Övning\nSamling kl. 14.")
    assert sms[roster.mobiles["aino"]]["body"].startswith("HARJOITUS – Harjoitus\nKokoontuminen klo 14.")
    emails = {item["to"]: item for item in outbox["items"] if item["channel"] == "email"}
    assert emails["bertil@example.fi"]["subject"] == "ÖVNING – Övning"
    assert "/ack/" in emails["bertil@example.fi"]["body"] and alert.short_code in emails["bertil@example.fi"]["body"]
    only_bertil = client.get(
        "/api/v1/outbox", params={"to": roster.mobiles["bertil"]}, headers=auth(keys[Role.admin])
    ).json()
    assert only_bertil["total"] == 1
    # it holds numbers and texts: operators and admins only
    assert client.get("/api/v1/outbox", headers=auth(keys[Role.viewer])).status_code == 403
    assert client.get("/api/v1/outbox", headers=auth(keys[Role.reporter])).status_code == 403
    assert client.get("/api/v1/outbox").status_code == 401
    # the log still says only that messages went out, by id
    logged = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert "sms sent (console)" in logged
    for secret in [*roster.mobiles.values(), "bertil@example.fi", "Övning", "Samling"]:
        assert secret not in logged


def test_alueturva_outbox_prints_the_messages(roster: Roster, queue: InProcessQueue) -> None:
    _send(roster, queue)
    shown = runner.invoke(outbox_app, ["--to", "040 1110002", "--limit", "5"])
    assert shown.exit_code == 0, shown.output
    assert "ÖVNING – Övning" in shown.output and "+358401110002" in shown.output and "1 of 1" in shown.output


def test_an_sms_reply_goes_through_the_inbound_path_recorded_and_audited(
    roster: Roster, queue: InProcessQueue, database: Database
) -> None:
    alert = _send(
        roster,
        queue,
        response_options=[{"fi": "Tulen", "sv": "Jag kommer"}, {"fi": "En pääse", "sv": "Jag kan inte"}],
    )
    answered = runner.invoke(sms_app, ["reply", "--from", "040 111 0002", f"1 {alert.short_code}"])
    assert answered.exit_code == 0, answered.output
    assert "answered: Tack, ditt svar Jag kommer har registrerats: Övning" in answered.output
    with database.session() as session:
        bertil = session.scalars(
            select(Recipient).where(Recipient.alert_id == alert.id, Recipient.person_id == roster.people["bertil"])
        ).one()
        assert bertil.response == 1 and bertil.ack_method is not None and bertil.ack_method.value == "sms"
        assert bertil.ack_by == f"sms:person:{roster.people['bertil']}"
        inbound = session.scalars(select(InboundMessage)).one()
        assert inbound.provider_id.startswith("console-") and inbound.outcome == "answered"
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.acknowledge")).one()
        assert audit.actor == f"sms:person:{roster.people['bertil']}" and audit.details["method"] == "sms"
        reply = session.scalars(select(OutboxMessage).where(OutboxMessage.reference == "reply:answered")).one()
        assert reply.to == roster.mobiles["bertil"] and reply.body.startswith("Tack")
    again = runner.invoke(sms_app, ["reply", "--from", roster.mobiles["bertil"], "ok"])
    assert "duplicate:" in again.output
    stranger = runner.invoke(sms_app, ["reply", "--from", "+358409999999", "ok"])
    assert stranger.exit_code == 0 and "unknown_sender:" in stranger.output


def test_sms_reply_is_only_for_the_embedded_default(
    roster: Roster, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALUETURVA_SMS_BACKEND", "twilio")
    monkeypatch.setenv("ALUETURVA_TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    monkeypatch.setenv("ALUETURVA_TWILIO_AUTH_TOKEN", "token")
    monkeypatch.setenv("ALUETURVA_TWILIO_FROM", "+358401234567")
    get_settings.cache_clear()
    refused = runner.invoke(sms_app, ["reply", "--from", roster.mobiles["aino"], "ok"])
    assert isinstance(refused.exception, Invalid) and "embedded default" in str(refused.exception)
    with database.session() as session:
        assert session.scalars(select(InboundMessage)).first() is None
