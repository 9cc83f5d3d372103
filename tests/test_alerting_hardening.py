"""Acknowledgement links and replies that cannot be abused (issue 14): a leaked key alone signs no link, an empty
Twilio token accepts no webhook, a short code means one open alert, and odd link answers are refused cleanly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import insert, select
from twilio.request_validator import RequestValidator

from alerting import flows
from alerting.models import Alert, AlertStatus, InboundMessage, Recipient
from alerting.schemas import AlertCreate
from alerting.tokens import ack_path
from alueturva.db import Database, utcnow
from alueturva.errors import Conflict
from alueturva.queue import InProcessQueue
from alueturva.settings import get_settings
from tests.support.roster import Roster, make_roster

SMS_URL = "http://127.0.0.1:8000/webhooks/twilio/sms"


@pytest.fixture
def roster(database: Database) -> Roster:
    return make_roster(database)


def _alert(roster: Roster, **fields: object) -> int:
    body: dict[str, object] = {"title": "Myrsky", "message": "M", "targets": {"groups": [roster.group_id]}}
    return flows.create_alert(AlertCreate.model_validate({**body, **fields}), actor="test").alert_id


def _recipients(database: Database, alert_id: int) -> list[Recipient]:
    with database.session() as session:
        return list(session.scalars(select(Recipient).where(Recipient.alert_id == alert_id).order_by(Recipient.id)))


def _acknowledged(database: Database, recipient_id: int) -> bool:
    with database.session() as session:
        recipient = session.get(Recipient, recipient_id)
        return recipient is not None and recipient.acknowledged_at is not None


def test_a_link_signed_with_the_key_alone_is_refused(
    client: TestClient, roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    """Alert and recipient ids are small integers: with the secret key an attacker could sign them. Each recipient
    also has a random nonce, stored with it, that the link must carry."""
    alert_id = _alert(roster)
    aino, bertil, *_ = _recipients(database, alert_id)
    assert aino.link_nonce and bertil.link_nonce and aino.link_nonce != bertil.link_nonce
    assert len(aino.link_nonce) >= 32
    key = get_settings().secret_key.get_secret_value()
    forged = {
        "the old format": URLSafeTimedSerializer(key, salt="alueturva.alerting.ack-link.v1").dumps([alert_id, aino.id]),
        "a guessed nonce": URLSafeTimedSerializer(key, salt="alueturva.alerting.ack-link.v2").dumps(
            [alert_id, aino.id, "0" * 32]
        ),
        "another recipient's nonce": URLSafeTimedSerializer(key, salt="alueturva.alerting.ack-link.v2").dumps(
            [alert_id, aino.id, bertil.link_nonce]
        ),
    }
    for name, token in forged.items():
        assert client.post(f"/ack/{token}", data={}).status_code in (400, 404), name
    assert not _acknowledged(database, aino.id)
    with database.session() as session:
        genuine = ack_path(session.get(Recipient, aino.id))  # type: ignore[arg-type]
    assert client.post(genuine, data={}).status_code == 200
    assert _acknowledged(database, aino.id)


@pytest.mark.parametrize("response", ["²", "١", "٣", "1.0", "-1", "01x"])
def test_a_link_answer_that_is_not_an_option_number_is_refused_with_422(
    client: TestClient, roster: Roster, database: Database, queue: InProcessQueue, response: str
) -> None:
    alert_id = _alert(roster, response_options=["Tulen", "En pääse"])
    aino = _recipients(database, alert_id)[0]
    with database.session() as session:
        path = ack_path(session.get(Recipient, aino.id))  # type: ignore[arg-type]
    page = client.post(path, data={"response": response})
    assert page.status_code == 422
    assert not _acknowledged(database, aino.id)


def test_an_empty_twilio_auth_token_accepts_no_webhook(
    client: TestClient, roster: Roster, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signature computed with an empty key must not pass (it would with the validator alone)."""
    monkeypatch.setenv("ALUETURVA_TWILIO_AUTH_TOKEN", "")
    get_settings.cache_clear()
    alert_id = _alert(roster, channels=["sms"])
    params = {"From": roster.mobiles["aino"], "Body": "OK", "MessageSid": "SM" + "1" * 32, "AccountSid": "AC1"}
    signature = RequestValidator("").compute_signature(SMS_URL, params)
    assert RequestValidator("").validate(SMS_URL, params, signature)
    response = client.post(SMS_URL, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    with database.session() as session:
        assert session.scalars(select(InboundMessage)).first() is None
    assert not _acknowledged(database, _recipients(database, alert_id)[0].id)


def test_a_signed_reply_that_is_not_a_short_form_is_refused_and_records_nothing(
    client: TestClient, roster: Roster, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The webhook's form is parsed by hand (``alerting.webhooks._form_fields``): more fields than Twilio ever sends
    are a 400 that says so; a body that is not a form has no fields, so its signature cannot hold (403)."""
    monkeypatch.setenv("ALUETURVA_TWILIO_AUTH_TOKEN", "test-token")
    get_settings.cache_clear()
    alert_id = _alert(roster, channels=["sms"])
    params = {"From": roster.mobiles["aino"], "Body": "OK", "MessageSid": "SM" + "2" * 32, "AccountSid": "AC1"}
    padded = {**params, **{f"Extra{n}": "x" for n in range(100)}}
    signed = {"X-Twilio-Signature": RequestValidator("test-token").compute_signature(SMS_URL, padded)}
    response = client.post(SMS_URL, data=padded, headers=signed)
    assert response.status_code == 400 and "more than 100 form fields" in response.json()["detail"]
    signed = {"X-Twilio-Signature": RequestValidator("test-token").compute_signature(SMS_URL, params)}
    assert client.post(SMS_URL, json=params, headers=signed).status_code == 403
    with database.session() as session:
        assert session.scalars(select(InboundMessage)).first() is None
    assert not _acknowledged(database, _recipients(database, alert_id)[0].id)
    assert client.post(SMS_URL, data=params, headers=signed).status_code == 200
    assert _acknowledged(database, _recipients(database, alert_id)[0].id)


def _open_alerts_with_codes(database: Database, codes: list[str]) -> None:
    now = utcnow()
    rows = [
        {
            "title": "Vanha",
            "message": "M",
            "exercise": False,
            "status": AlertStatus.open,
            "short_code": code,
            "channels": ["sms"],
            "targets": {},
            "response_options": [],
            "escalation": {},
            "created_by": "test",
            "created_at": now,
            "closes_at": now + timedelta(hours=4),
        }
        for code in codes
    ]
    with database.session() as session:
        session.execute(insert(Alert), rows)


def test_a_short_code_is_never_shared_by_two_open_alerts(
    roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    """With every code but one held by an open alert, a new alert gets that one; with none left it is refused."""
    _open_alerts_with_codes(database, [str(code) for code in range(1000, 10_000) if code != 4821])
    alert_id = _alert(roster)
    with database.session() as session:
        assert session.get(Alert, alert_id).short_code == "4821"  # type: ignore[union-attr]
    with pytest.raises(Conflict, match="short code"):
        _alert(roster)
    with database.session() as session:  # a closed alert's code is free again
        session.get(Alert, alert_id).status = AlertStatus.closed  # type: ignore[union-attr]
    again = _alert(roster)
    with database.session() as session:
        assert session.get(Alert, again).short_code == "4821"  # type: ignore[union-attr]
