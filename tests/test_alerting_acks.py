"""Status callbacks, SMS-reply acknowledgements, acknowledgement links and operator acknowledgements."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from alerting import flows
from alerting.models import Alert, AlertStatus, Delivery, InboundMessage, Recipient
from alerting.schemas import AlertCreate
from alerting.tokens import make_ack_token
from alueturva.audit.models import AuditEvent
from alueturva.auth.models import Role
from alueturva.db import Database
from alueturva.queue import InProcessQueue
from alueturva.settings import get_settings
from loopback.twilio_server import FakeTwilio
from tests.conftest import auth
from tests.support.roster import Roster, make_roster, settled, wait_until

SMS_URL = "http://127.0.0.1:8000/webhooks/twilio/sms"


@pytest.fixture
def roster(database: Database) -> Roster:
    return make_roster(database)


def _send(database: Database, roster: Roster, **fields: object) -> int:
    body: dict[str, object] = {"title": "Myrsky", "message": "Kokoonnu.", "targets": {"groups": [roster.group_id]}}
    body.update(fields)
    alert_id = flows.create_alert(AlertCreate.model_validate(body), actor="test").alert_id
    assert wait_until(lambda: settled(database, alert_id))
    return alert_id


def _recipient(database: Database, alert_id: int, person_id: int) -> Recipient:
    with database.session() as session:
        return session.scalars(
            select(Recipient).where(Recipient.alert_id == alert_id, Recipient.person_id == person_id)
        ).one()


def _code(database: Database, alert_id: int) -> str:
    with database.session() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        return alert.short_code


def _count(database: Database, model: type) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _sms_delivery(database: Database, alert_id: int, address: str) -> Delivery:
    with database.session() as session:
        return session.scalars(select(Delivery).where(Delivery.alert_id == alert_id, Delivery.address == address)).one()


# --- status callbacks -------------------------------------------------------------------------------------------


def test_status_callbacks_move_deliveries_forward_only(
    twilio_settings: FakeTwilio, client: TestClient, keys: dict[Role, str], roster: Roster, database: Database
) -> None:
    alert_id = _send(database, roster, channels=["sms"])
    aino = _sms_delivery(database, alert_id, roster.mobiles["aino"])
    bertil = _sms_delivery(database, alert_id, roster.mobiles["bertil"])
    fake = twilio_settings
    assert aino.provider_id and bertil.provider_id
    assert fake.send_status_callback(aino.provider_id, "delivered", http=client) == 204
    assert fake.send_status_callback(aino.provider_id, "sent", http=client) == 204  # late, out of order
    assert fake.send_status_callback(aino.provider_id, "delivered", http=client) == 204  # duplicate
    assert fake.send_status_callback(aino.provider_id, "failed", error_code="30008", http=client) == 204
    assert fake.send_status_callback(bertil.provider_id, "undelivered", error_code="30003", http=client) == 204
    assert fake.send_status_callback(bertil.provider_id, "delivered", http=client) == 204  # after a final state
    aino, bertil = (_sms_delivery(database, alert_id, roster.mobiles[k]) for k in ("aino", "bertil"))
    assert aino.state.value == "delivered" and aino.delivered_at is not None and aino.error_code is None
    assert (bertil.state.value, bertil.error_code) == ("undelivered", "30003")
    status = client.get(f"/api/v1/alerts/{alert_id}", headers=auth(keys[Role.viewer])).json()
    assert status["counts"]["delivered"] == 1


def test_counts_add_up_per_recipient_and_per_organisation(
    twilio_settings: FakeTwilio, client: TestClient, keys: dict[Role, str], roster: Roster, database: Database
) -> None:
    """SMS only: Aino's message delivered and acknowledged, Bertil's number refused by the provider, Cecilia
    without a mobile number, the deputy's message sent."""
    twilio_settings.invalid_numbers.add(roster.mobiles["bertil"])
    alert_id = _send(database, roster, channels=["sms"])
    aino = _sms_delivery(database, alert_id, roster.mobiles["aino"])
    assert aino.provider_id
    assert twilio_settings.send_status_callback(aino.provider_id, "delivered", http=client) == 204
    recipient = _recipient(database, alert_id, roster.people["aino"])
    flows.acknowledge_on_behalf(alert_id=alert_id, recipient_id=recipient.id, actor="test", response=None, note=None)

    status = client.get(f"/api/v1/alerts/{alert_id}", headers=auth(keys[Role.viewer])).json()

    counts = {"targeted": 4, "sent": 2, "delivered": 1, "no_receipt": 0, "failed": 2, "acknowledged": 1}
    assert status["counts"] == counts
    keys_ = ("targeted", "sent", "delivered", "failed", "acknowledged")
    assert [(row["organisation"], *(row[key] for key in keys_)) for row in status["by_organisation"]] == [
        ("Kannus", 2, 2, 1, 0, 1),
        ("Kaustinen", 1, 0, 0, 1, 0),
        ("Kokkola", 1, 0, 0, 1, 0),
    ]


def test_forged_status_callbacks_are_refused_and_change_nothing(
    twilio_settings: FakeTwilio, client: TestClient, roster: Roster, database: Database
) -> None:
    alert_id = _send(database, roster, channels=["sms"])
    aino = _sms_delivery(database, alert_id, roster.mobiles["aino"])
    url = f"http://127.0.0.1:8000/webhooks/twilio/status?delivery={aino.id}"
    params = {"MessageSid": str(aino.provider_id), "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32}
    assert client.post(url, data=params).status_code == 403  # unsigned
    assert client.post(url, data=params, headers={"X-Twilio-Signature": "Zm9yZ2Vk"}).status_code == 403
    other = f"http://127.0.0.1:8000/webhooks/twilio/status?delivery={aino.id + 1}"
    signed_for_other = twilio_settings.signed(other, params)
    assert client.post(url, data=params, headers=signed_for_other).status_code == 403  # signature of another URL
    tampered = {**params, "MessageStatus": "failed"}
    assert client.post(url, data=tampered, headers=twilio_settings.signed(url, params)).status_code == 403
    assert _sms_delivery(database, alert_id, roster.mobiles["aino"]).state.value == "sent"


# --- SMS replies ------------------------------------------------------------------------------------------------


def _reply(fake: FakeTwilio, client: TestClient, sender: str, body: str) -> tuple[int, str]:
    params = fake.inbound_sms_params(from_=sender, body=body)
    response = client.post(SMS_URL, data=params, headers=fake.signed(SMS_URL, params))
    return response.status_code, response.text


@pytest.mark.parametrize("body", ["OK", " ok ", "Ok!", "Kuittaa", "KVITTERA.", "kuittaan", "ok."])
def test_a_bare_acknowledgement_word_acknowledges_the_newest_open_alert(
    twilio_settings: FakeTwilio, client: TestClient, roster: Roster, database: Database, body: str
) -> None:
    older = _send(database, roster, channels=["sms"])
    newer = _send(database, roster, channels=["sms"], title="Toinen")
    status, twiml = _reply(twilio_settings, client, "040 1110001", body)  # the national format works too
    assert status == 200 and "<Message>" in twiml and "Kiitos" in twiml and "Toinen" in twiml
    assert _recipient(database, newer, roster.people["aino"]).acknowledged_at is not None
    assert _recipient(database, older, roster.people["aino"]).acknowledged_at is None
    recipient = _recipient(database, newer, roster.people["aino"])
    assert (recipient.ack_method.value if recipient.ack_method else None) == "sms"
    assert recipient.ack_by == f"sms:person:{roster.people['aino']}"


def test_a_code_picks_the_alert_and_digits_answer_the_poll(
    twilio_settings: FakeTwilio, client: TestClient, roster: Roster, database: Database
) -> None:
    poll = _send(database, roster, channels=["sms"], response_options=["Tulen paikalle", "En pääse"])
    _send(database, roster, channels=["sms"], title="Uudempi")
    code = _code(database, poll)
    status, twiml = _reply(twilio_settings, client, roster.mobiles["aino"], f"2, {code}")
    assert status == 200 and "En pääse" in twiml
    recipient = _recipient(database, poll, roster.people["aino"])
    assert recipient.acknowledged_at is not None and recipient.response == 2
    status, twiml = _reply(twilio_settings, client, roster.mobiles["bertil"], f"ok{code}")
    assert "Tack" in twiml  # Swedish for a Swedish speaker
    assert _recipient(database, poll, roster.people["bertil"]).acknowledged_at is not None
    _, twiml = _reply(twilio_settings, client, roster.mobiles["deputy"], f"7 {code}")
    assert "Vaihtoehdot" in twiml and _recipient(database, poll, roster.people["deputy"]).acknowledged_at is None
    _, twiml = _reply(twilio_settings, client, roster.mobiles["deputy"], "ok 9999" if code != "9999" else "ok 1111")
    assert "ei löydy" in twiml


def test_unknown_senders_and_unclear_replies_are_recorded_and_answered_helpfully(
    twilio_settings: FakeTwilio, client: TestClient, roster: Roster, database: Database
) -> None:
    alert_id = _send(database, roster, channels=["sms"])
    status, twiml = _reply(twilio_settings, client, "+358409999999", "OK")
    assert status == 200 and "ei löydy" in twiml
    status, twiml = _reply(twilio_settings, client, "+46701234567", "kvittera")
    assert status == 200 and "finns inte" in twiml  # a Swedish word gets a Swedish answer
    status, twiml = _reply(twilio_settings, client, "not a number", "")
    assert status == 200 and "<Message>" in twiml
    status, twiml = _reply(twilio_settings, client, roster.mobiles["bertil"], "vad betyder detta?")
    assert status == 200 and "förstods inte" in twiml
    assert _recipient(database, alert_id, roster.people["bertil"]).acknowledged_at is None
    with database.session() as session:
        outcomes = [m.outcome for m in session.scalars(select(InboundMessage).order_by(InboundMessage.id))]
    assert outcomes == ["unknown_sender", "unknown_sender", "unknown_sender", "unparseable"]


def test_an_sms_acknowledgement_and_a_later_poll_answer_are_audited_once_each(
    twilio_settings: FakeTwilio, client: TestClient, roster: Roster, database: Database
) -> None:
    alert_id = _send(database, roster, channels=["sms"], response_options=["Tulen", "En pääse"])
    code = _code(database, alert_id)
    aino, recipient_id = roster.people["aino"], _recipient(database, alert_id, roster.people["aino"]).id
    for body in ("OK", "OK", f"2 {code}", f"1 {code}"):  # acknowledged, again, the answer, another answer
        assert _reply(twilio_settings, client, roster.mobiles["aino"], body)[0] == 200
    with database.session() as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.in_(["alert.acknowledge", "alert.respond"]))
            .order_by(AuditEvent.id)
        ).all()
        outcomes = [m.outcome for m in session.scalars(select(InboundMessage).order_by(InboundMessage.id))]
    assert [(e.action, e.actor, e.entity_type, e.entity_id, e.details) for e in events] == [
        (
            "alert.acknowledge",
            f"sms:person:{aino}",
            "alert",
            str(alert_id),
            {"recipient_id": recipient_id, "method": "sms", "response": None, "late": False},
        ),
        (
            "alert.respond",
            f"sms:person:{aino}",
            "alert",
            str(alert_id),
            {"recipient_id": recipient_id, "method": "sms", "response": 2},
        ),
    ]
    assert all(event.at.tzinfo is not None for event in events)
    assert outcomes == ["acknowledged", "duplicate", "duplicate", "duplicate"]
    assert _recipient(database, alert_id, aino).response == 2


@pytest.mark.parametrize("text", [None, "", "OK", "Kiitos: Myrsky & <tulva> \"Ö\" 'x' (koodi 1234).\r\n\t]]>"])
def test_the_twiml_answer_is_what_the_sdk_writes(text: str | None) -> None:
    from twilio.twiml.messaging_response import MessagingResponse

    from alerting.channels.twilio_sms import TwilioWebhooks

    expected = MessagingResponse()
    if text:
        expected.message(text)
    assert TwilioWebhooks().reply(text) == (str(expected), "application/xml")


def test_forged_or_replayed_sms_webhooks_are_refused_and_record_nothing(
    twilio_settings: FakeTwilio, client: TestClient, roster: Roster, database: Database
) -> None:
    alert_id = _send(database, roster, channels=["sms"])
    params = twilio_settings.inbound_sms_params(from_=roster.mobiles["aino"], body="OK")
    assert client.post(SMS_URL, data=params).status_code == 403
    forged = {**params, "From": roster.mobiles["bertil"]}
    assert client.post(SMS_URL, data=forged, headers=twilio_settings.signed(SMS_URL, params)).status_code == 403
    assert _count(database, InboundMessage) == 0
    assert _recipient(database, alert_id, roster.people["bertil"]).acknowledged_at is None
    headers = twilio_settings.signed(SMS_URL, params)
    assert client.post(SMS_URL, data=params, headers=headers).status_code == 200
    audit_before = _count(database, AuditEvent)
    assert client.post(SMS_URL, data=params, headers=headers).status_code == 409  # replayed
    assert _count(database, InboundMessage) == 1 and _count(database, AuditEvent) == audit_before


def test_webhooks_refuse_everything_when_twilio_is_not_configured(
    client: TestClient, roster: Roster, database: Database
) -> None:
    assert get_settings().twilio_auth_token is None
    response = client.post(SMS_URL, data={"From": "+358401110001", "Body": "OK", "MessageSid": "SM1"})
    assert response.status_code == 403
    assert _count(database, InboundMessage) == 0


# --- acknowledgement links --------------------------------------------------------------------------------------


def _link(recipient: Recipient, *, alert_id: int | None = None) -> str:
    """The recipient's link (signed for ``alert_id`` instead of its own alert, if given)."""
    token = make_ack_token(
        alert_id=recipient.alert_id if alert_id is None else alert_id,
        recipient_id=recipient.id,
        nonce=recipient.link_nonce,
    )
    return f"/ack/{token}"


def test_the_link_page_shows_the_alert_and_only_post_acknowledges(
    client: TestClient, roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    alert_id = _send(database, roster, exercise=True, response_options=["Tulen", "En pääse"])
    bertil = _recipient(database, alert_id, roster.people["bertil"])
    page = client.get(_link(bertil))
    assert page.status_code == 200
    assert 'lang="sv"' in page.text and "ÖVNING" in page.text and "Myrsky" in page.text
    assert "En pääse" in page.text and 'method="post"' in page.text
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    assert _recipient(database, alert_id, roster.people["bertil"]).acknowledged_at is None
    english = client.get(_link(bertil) + "?lang=en")
    assert 'lang="en"' in english.text and "EXERCISE" in english.text
    done = client.post(_link(bertil), data={"response": "1"})
    assert done.status_code == 200 and "Tack" in done.text
    recipient = _recipient(database, alert_id, roster.people["bertil"])
    assert recipient.response == 1 and recipient.ack_by == f"link:recipient:{bertil.id}"
    again = client.post(_link(bertil), data={"response": "2"})
    assert again.status_code == 200 and "redan" in again.text
    assert _recipient(database, alert_id, roster.people["bertil"]).response == 1
    with database.session() as session:
        acks = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.acknowledge")).all()
    assert [event.actor for event in acks] == [f"link:recipient:{bertil.id}"]


def test_tampered_expired_and_mismatched_links_are_refused_and_record_nothing(
    client: TestClient, roster: Roster, database: Database, queue: InProcessQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    alert_id = _send(database, roster)
    aino = _recipient(database, alert_id, roster.people["aino"])
    link = _link(aino)
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    assert client.get(tampered).status_code == 400
    assert client.post(tampered, data={}).status_code == 400
    assert client.post("/ack/not-a-token", data={}).status_code == 400
    assert client.post(_link(aino, alert_id=alert_id + 1), data={}).status_code == 404  # signed, but wrong alert
    bad = client.post(link, data={"response": "5"})  # this alert has no options
    assert bad.status_code == 422
    monkeypatch.setenv("ALUETURVA_ACK_TOKEN_MAX_AGE_SECONDS", "1")
    get_settings.cache_clear()
    time.sleep(2.1)
    expired = client.post(link, data={})
    assert expired.status_code == 410 and "vanhentunut" in expired.text
    assert _recipient(database, alert_id, roster.people["aino"]).acknowledged_at is None
    with database.session() as session:
        assert session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.acknowledge")).first() is None


def test_an_acknowledgement_after_the_alert_closed_is_kept_and_marked_late(
    client: TestClient, roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    alert_id = _send(database, roster)
    with database.session() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        alert.status = AlertStatus.closed
    aino = _recipient(database, alert_id, roster.people["aino"])
    page = client.post(_link(aino), data={})
    assert page.status_code == 200 and "myöhästyneenä" in page.text
    recipient = _recipient(database, alert_id, roster.people["aino"])
    assert recipient.acknowledged_at is not None and recipient.ack_late


# --- operators --------------------------------------------------------------------------------------------------


def test_an_operator_acknowledges_on_someones_behalf_and_is_recorded(
    client: TestClient, keys: dict[Role, str], roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    alert_id = _send(database, roster, response_options=["Tulen", "En pääse"])
    aino = _recipient(database, alert_id, roster.people["aino"])
    url = f"/api/v1/alerts/{alert_id}/recipients/{aino.id}/acknowledge"
    assert client.post(url, json={}, headers=auth(keys[Role.viewer])).status_code == 403
    assert client.post(url, json={"response": 3}, headers=auth(keys[Role.operator])).status_code == 422
    assert client.post(url, json={"reason": "x"}, headers=auth(keys[Role.operator])).status_code == 422
    missing = f"/api/v1/alerts/{alert_id}/recipients/999999/acknowledge"
    assert client.post(missing, json={}, headers=auth(keys[Role.operator])).status_code == 404
    response = client.post(url, json={"response": 1, "note": "soitti"}, headers=auth(keys[Role.operator]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ack_method"] == "operator" and body["response_text"] == "Tulen"
    assert re.match(r"apikey:\d+", body["ack_by"])
    with database.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.acknowledge")).one()
    assert event.actor == body["ack_by"] and event.details["note"] == "soitti"
    status = client.get(f"/api/v1/alerts/{alert_id}", headers=auth(keys[Role.viewer])).json()
    assert status["counts"]["acknowledged"] == 1


def test_the_link_page_and_the_sms_reply_use_the_readers_version(
    twilio_settings: FakeTwilio, client: TestClient, roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    alert_id = _send(
        database,
        roster,
        title={"fi": "Myrsky", "sv": "Storm"},
        message={"fi": "Kokoontuminen.", "sv": "Samling."},
        response_options=[{"fi": "Tulen", "sv": "Jag kommer"}, {"fi": "En pääse", "sv": "Jag kan inte"}],
    )
    bertil = _recipient(database, alert_id, roster.people["bertil"])  # Swedish, in bilingual Kokkola
    swedish = client.get(_link(bertil)).text
    assert "Storm" in swedish and "Samling." in swedish and "Jag kommer" in swedish
    assert "Myrsky" not in swedish and "Tulen" not in swedish
    assert re.search(r"Skickat \d{1,2}\.\d{1,2}\.\d{4} kl\. \d{1,2}\.\d{2}", swedish)
    both = client.get(_link(bertil) + "?lang=en").text  # no English text: Finnish and Swedish
    assert '<div lang="fi">' in both and '<div lang="sv">' in both and "Tulen / Jag kommer" in both
    aino = _recipient(database, alert_id, roster.people["aino"])  # Finnish-only Kannus
    finnish_only = client.get(_link(aino) + "?lang=en").text
    assert "Myrsky" in finnish_only and "Storm" not in finnish_only
    _, twiml = _reply(twilio_settings, client, roster.mobiles["bertil"], f"1 {_code(database, alert_id)}")
    assert "Tack, ditt svar Jag kommer har registrerats: Storm" in twiml


def test_replies_that_send_people_to_the_duty_officer_give_the_number(
    twilio_settings: FakeTwilio, client: TestClient, roster: Roster, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, twiml = _reply(twilio_settings, client, "+358409999999", "OK")
    assert "Ota yhteys päivystäjään." in twiml
    monkeypatch.setenv("ALUETURVA_DUTY_OFFICER_PHONE", "06 828 9100")
    get_settings.cache_clear()
    _, twiml = _reply(twilio_settings, client, "+358409999998", "OK")
    assert "Soita päivystäjälle, puh. +358 6 8289100." in twiml
    _, twiml = _reply(twilio_settings, client, "+46701234567", "kvittera")
    assert "Ring jourhavande, tfn +358 6 8289100." in twiml
