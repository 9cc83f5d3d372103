"""Voice calls (issue 22): the real ``twilio`` SDK places calls on the loopback Twilio, which runs them like Twilio
does: it fetches the call's TwiML from our signed webhook, says it, presses the phone's keys into ``<Gather>`` and
posts status callbacks, each signed with ``X-Twilio-Signature``. Nothing of ours is mocked.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from alerting import flows
from alerting.models import Alert, AlertEvent, Delivery, Recipient
from alerting.schemas import AlertCreate
from alerting.sweeper import sweep
from alueturva.audit.models import AuditEvent
from alueturva.db import Database
from alueturva.queue import InProcessQueue, set_queue
from alueturva.settings import get_settings
from loopback.ports import free_port
from loopback.processes import ApiServer, SchedulerProcess, service_env
from loopback.twilio_server import FakeTwilio, Phone
from tests.support.fixtures import WorkerPool
from tests.support.roster import Roster, make_roster, settled, wait_until
from tests.support.twilio_spec import SPEC, description, problems
from tests.test_alerting_reliability import FAST_RECOVERY, needs_postgresql

QUIET = {"resend_times": 0, "deputy_after_minutes": None, "notify_operator_after_minutes": None}


@pytest.fixture
def voice(twilio_settings: FakeTwilio, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilio]:
    """Calls (and SMS) through the loopback Twilio, which posts its webhooks to the application."""
    monkeypatch.setenv("ALUETURVA_VOICE_BACKEND", "twilio")
    monkeypatch.setenv("ALUETURVA_VOICE_CALLS_PER_SECOND", "50")
    get_settings.cache_clear()
    twilio_settings.webhook_http = client
    yield twilio_settings
    assert wait_until(twilio_settings.calls_done)
    get_settings.cache_clear()


@pytest.fixture
def roster(database: Database) -> Roster:
    return make_roster(database)


def send(roster: Roster, people: list[str], **fields: Any) -> int:
    body: dict[str, Any] = {
        "title": "Myrsky",
        "message": "Kokoontuminen klo 14.30.",
        "targets": {"people": [roster.people[key] for key in people]},
        "channels": ["voice"],
        "escalation": QUIET,
    }
    body.update(fields)
    return flows.create_alert(AlertCreate.model_validate(body), actor="operator:test").alert_id


def calls_settled(database: Database, fake: FakeTwilio, alert_id: int) -> bool:
    return settled(database, alert_id) and fake.calls_done()


def call_deliveries(database: Database, alert_id: int) -> list[Delivery]:
    with database.session() as session:
        return list(
            session.scalars(
                select(Delivery).where(Delivery.alert_id == alert_id, Delivery.channel == "voice").order_by(Delivery.id)
            )
        )


def recipient(database: Database, alert_id: int, person_id: int) -> Recipient:
    with database.session() as session:
        return session.scalars(
            select(Recipient).where(Recipient.alert_id == alert_id, Recipient.person_id == person_id)
        ).one()


def wait_for_call_end(database: Database, fake: FakeTwilio, alert_id: int) -> None:
    """Every call placed, run and its final status recorded."""

    def ended() -> bool:
        rows = call_deliveries(database, alert_id)
        final = all(d.state.value not in ("queued", "sending", "sent") for d in rows)
        return bool(rows) and final and fake.calls_done() and all(c["status"] != "in-progress" for c in fake.calls)

    assert wait_until(ended), [(d.state, d.error_code) for d in call_deliveries(database, alert_id)]


def webhook_statuses(fake: FakeTwilio) -> set[int]:
    return {status for call in fake.calls for _, status in call["webhooks"]}


def test_a_call_acknowledged_by_keypad_speaks_the_exercise_first(
    voice: FakeTwilio, roster: Roster, database: Database, client: TestClient, keys: dict[Any, str]
) -> None:
    from alueturva.auth.models import Role
    from tests.conftest import auth

    aino = roster.mobiles["aino"]
    voice.phones[aino] = Phone(answer="human", keys="1", duration=37)
    alert_id = send(roster, ["aino"], exercise=True)
    wait_for_call_end(database, voice, alert_id)
    [call] = voice.calls_to(aino)
    assert call["spoken"][0].startswith("Tämä on harjoitus. Alueturvan hälytys: Myrsky.")
    assert "Kokoontuminen kello neljätoista kolmekymmentä." in call["spoken"][0]
    assert call["spoken"][0].endswith("Kuittaa hälytys painamalla numeroa yksi.")
    assert call["spoken"][-1] == "Kiitos, kuittaus kirjattu: Myrsky. Tämä oli harjoitus."
    first = call["twiml"][0]
    assert re.search(r'<Gather action="[^"]+/webhooks/twilio/voice/gather\?delivery=\d+"', first)
    assert 'numDigits="1"' in first and 'voice="Polly.Suvi-Neural"' in first and 'language="fi-FI"' in first
    assert first.count("<Gather") == 2, "the message is repeated once"
    assert webhook_statuses(voice) <= {200, 204}
    person = recipient(database, alert_id, roster.people["aino"])
    assert person.ack_method is not None and person.ack_method.value == "voice"
    assert person.ack_by == f"voice:person:{roster.people['aino']}"
    [delivery] = call_deliveries(database, alert_id)
    assert (delivery.state.value, delivery.answered_by, delivery.duration_seconds) == ("delivered", "human", 37)
    assert delivery.provider_id == call["sid"]
    with database.session() as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.acknowledge")).one()
    assert audit.actor == f"voice:person:{roster.people['aino']}" and audit.details["method"] == "voice"
    shown = client.get(f"/api/v1/alerts/{alert_id}/recipients", headers=auth(keys[Role.viewer])).json()
    [call_shown] = shown["items"][0]["deliveries"]
    assert (call_shown["channel"], call_shown["answered_by"], call_shown["duration_seconds"]) == ("voice", "human", 37)
    assert shown["items"][0]["ack_method"] == "voice"


def test_a_poll_is_answered_with_one_digit_per_answer(voice: FakeTwilio, roster: Roster, database: Database) -> None:
    aino = roster.mobiles["aino"]
    voice.phones[aino] = Phone(keys="2")
    alert_id = send(roster, ["aino"], response_options=["Tulen paikalle", "En pääse"])
    wait_for_call_end(database, voice, alert_id)
    [call] = voice.calls_to(aino)
    assert call["spoken"][0].endswith("Vastaa painamalla vaihtoehdon numeroa. Yksi: Tulen paikalle. Kaksi: En pääse.")
    assert not call["spoken"][0].startswith("Tämä on harjoitus"), "a real alert says nothing of an exercise"
    assert call["spoken"][-1] == "Kiitos, vastauksesi En pääse kirjattu: Myrsky."
    assert recipient(database, alert_id, roster.people["aino"]).response == 2


def test_a_key_that_is_no_choice_is_told_and_the_choices_said_once_more(
    voice: FakeTwilio, roster: Roster, database: Database
) -> None:
    aino = roster.mobiles["aino"]
    voice.phones[aino] = Phone(keys="71")
    alert_id = send(roster, ["aino"], response_options=["Tulen paikalle", "En pääse"])
    wait_for_call_end(database, voice, alert_id)
    [call] = voice.calls_to(aino)
    assert "Numeroa seitsemän ei voi valita." in call["spoken"]
    assert call["keys"] == ["7", "1"]
    assert recipient(database, alert_id, roster.people["aino"]).response == 1


def test_a_swedish_reader_is_called_in_swedish(voice: FakeTwilio, roster: Roster, database: Database) -> None:
    bertil = roster.mobiles["bertil"]
    voice.phones[bertil] = Phone(keys="1")
    alert_id = send(
        roster,
        ["bertil"],
        exercise=True,
        title={"fi": "Myrsky", "sv": "Storm"},
        message={"fi": "Kokous 28.11. klo 9.05.", "sv": "Möte den 28.11. kl. 9.05."},
    )
    wait_for_call_end(database, voice, alert_id)
    [call] = voice.calls_to(bertil)
    assert call["spoken"][0] == (
        "Detta är en övning. Larm från Alueturva: Storm. Möte den tjugoåttonde november klockan nio noll fem. "
        "Kvittera larmet genom att trycka på siffran ett."
    )
    assert 'voice="Polly.Elin-Neural"' in call["twiml"][0] and 'language="sv-SE"' in call["twiml"][0]
    assert "Suvi" not in call["twiml"][0], "no word of another language"
    assert call["spoken"][-1] == "Tack, kvitteringen har registrerats: Storm. Detta var en övning."


def test_an_answering_machine_gets_where_to_acknowledge_and_nobody_counts_as_reached(
    voice: FakeTwilio, roster: Roster, database: Database, client: TestClient, keys: dict[Any, str]
) -> None:
    from alueturva.auth.models import Role
    from tests.conftest import auth

    aino = roster.mobiles["aino"]
    voice.phones[aino] = Phone(answer="machine_end_beep", keys="1")
    alert_id = send(roster, ["aino"], exercise=True)
    wait_for_call_end(database, voice, alert_id)
    [call] = voice.calls_to(aino)
    with database.session() as session:
        code = session.get(Alert, alert_id).short_code  # type: ignore[union-attr]
    spoken_code = " ".join(["nolla", "yksi", "kaksi", "kolme", "neljä", "viisi", "kuusi", "seitsemän", "kahdeksan",
                            "yhdeksän"][int(digit)] for digit in code)  # fmt: skip
    assert call["spoken"] == [
        f"Tämä on harjoitus. Alueturvan hälytys: Myrsky. Kuittaa hälytys tekstiviestillä OK {spoken_code} tai "
        "hälytyksen linkistä. Tämä oli harjoitus."
    ]
    assert call["keys"] == [], "a machine is not asked for a key"
    [delivery] = call_deliveries(database, alert_id)
    assert (delivery.state.value, delivery.error_code, delivery.answered_by) == (
        "undelivered",
        "machine",
        "machine_end_beep",
    )
    assert delivery.duration_seconds == 42
    assert recipient(database, alert_id, roster.people["aino"]).acknowledged_at is None
    counts = client.get(f"/api/v1/alerts/{alert_id}", headers=auth(keys[Role.viewer])).json()["counts"]
    # reported not reached (a machine), as an undelivered SMS: not sent, failed (one meaning everywhere)
    assert (counts["sent"], counts["delivered"], counts["failed"], counts["acknowledged"]) == (0, 0, 1, 0)


@pytest.mark.parametrize("answer", ["no-answer", "busy", "failed"])
def test_an_unanswered_call_is_recorded_with_twilios_status(
    voice: FakeTwilio, roster: Roster, database: Database, answer: str
) -> None:
    voice.phones[roster.mobiles["aino"]] = Phone(answer=answer)
    alert_id = send(roster, ["aino"])
    wait_for_call_end(database, voice, alert_id)
    [delivery] = call_deliveries(database, alert_id)
    state = "failed" if answer == "failed" else "undelivered"
    assert (delivery.state.value, delivery.error_code) == (state, answer)
    assert answer in (delivery.error_message or "")
    assert recipient(database, alert_id, roster.people["aino"]).acknowledged_at is None


def _sweep_at(database: Database, fake: FakeTwilio, alert_id: int, when: datetime) -> None:
    sweep(now=when)
    assert wait_until(lambda: calls_settled(database, fake, alert_id))


def _created(database: Database, alert_id: int) -> datetime:
    with database.session() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        return alert.created_at


def test_no_answer_then_the_deputy_is_alerted_and_a_later_call_step_calls_the_deputy_too(
    voice: FakeTwilio, roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    aino, deputy = roster.mobiles["aino"], roster.mobiles["deputy"]
    voice.phones[aino] = Phone(answer="no-answer")
    voice.phones[deputy] = Phone(keys="1")
    escalation = {**QUIET, "call_after_minutes": 5, "deputy_after_minutes": 15}
    alert_id = send(roster, ["aino"], channels=["sms"], escalation=escalation)
    assert wait_until(lambda: settled(database, alert_id))
    created = _created(database, alert_id)
    _sweep_at(database, voice, alert_id, created + timedelta(minutes=4))
    assert voice.calls == []
    _sweep_at(database, voice, alert_id, created + timedelta(minutes=6))
    wait_for_call_end(database, voice, alert_id)
    [call] = voice.calls_to(aino)
    assert call["spoken"] == [], "nobody answered"
    assert [(d.state.value, d.error_code) for d in call_deliveries(database, alert_id)] == [
        ("undelivered", "no-answer")
    ]
    _sweep_at(database, voice, alert_id, created + timedelta(minutes=16))  # the deputy step
    deputy_recipient = recipient(database, alert_id, roster.people["deputy"])
    assert deputy_recipient.deputy_for_id == recipient(database, alert_id, roster.people["aino"]).id
    assert [m["to"] for m in voice.messages].count(deputy) == 1
    assert voice.calls_to(deputy) == [], "the call step came before the deputy step"

    later = send(roster, ["aino"], channels=["sms"], escalation={**escalation, "call_after_minutes": 20})
    assert wait_until(lambda: settled(database, later))
    created = _created(database, later)
    _sweep_at(database, voice, later, created + timedelta(minutes=16))
    _sweep_at(database, voice, later, created + timedelta(minutes=21))
    wait_for_call_end(database, voice, later)
    assert len(voice.calls_to(deputy)) == 1, "a call step after the deputy step calls the deputy too"
    assert recipient(database, later, roster.people["deputy"]).ack_method.value == "voice"  # type: ignore[union-attr]
    with database.session() as session:
        events = [e.kind for e in session.scalars(select(AlertEvent).where(AlertEvent.alert_id == later))]
    assert events.count("calls_started") == 1


def _acknowledged_while_ringing(
    voice: FakeTwilio, roster: Roster, database: Database, queue: InProcessQueue
) -> tuple[dict[str, Any], Delivery]:
    """Bertil's phone rings until stopped; he is acknowledged for by an operator meanwhile, and the sweeper stops
    the call. His call at the fake provider, and its delivery."""
    bertil = roster.mobiles["bertil"]
    voice.phones[bertil] = Phone(ring=30)
    ringing = send(roster, ["bertil"], channels=["voice"])
    assert wait_until(lambda: [d.state.value for d in call_deliveries(database, ringing)] == ["sent"])
    flows.acknowledge_on_behalf(
        alert_id=ringing, recipient_id=recipient(database, ringing, roster.people["bertil"]).id, actor="test",
        response=None, note="soitti itse",
    )  # fmt: skip
    sweep()
    assert queue.join()
    [call] = voice.calls_to(bertil)
    [delivery] = call_deliveries(database, ringing)
    return call, delivery


def test_an_sms_acknowledgement_stops_a_pending_call_and_one_that_rings(
    voice: FakeTwilio, roster: Roster, database: Database, client: TestClient
) -> None:
    """A call not placed yet is cancelled with the acknowledgement; one already ringing is stopped at Twilio."""
    set_queue(InProcessQueue(workers=0))  # the call's job waits while the person answers the SMS
    alert_id = send(roster, ["aino"], channels=["sms", "voice"])
    [pending] = call_deliveries(database, alert_id)
    assert pending.state.value == "queued"
    with database.session() as session:
        code = session.get(Alert, alert_id).short_code  # type: ignore[union-attr]
    sms_url = f"{get_settings().public_base_url}/webhooks/twilio/sms"
    reply = voice.send_inbound_sms(sms_url, from_=roster.mobiles["aino"], body=f"ok {code}", http=client)
    assert reply == 200
    [cancelled] = call_deliveries(database, alert_id)
    assert (cancelled.state.value, cancelled.error_code) == ("cancelled", "acknowledged")
    working = InProcessQueue(workers=2)
    set_queue(working)
    sweep(now=datetime.now().astimezone() + timedelta(minutes=1))
    assert working.join()
    assert voice.calls == [], "no call is placed to someone who acknowledged"

    call, stopped = _acknowledged_while_ringing(voice, roster, database, working)
    assert call["cancel_requested"]
    assert (stopped.state.value, stopped.error_code) == ("cancelled", "stopped")
    set_queue(None)


def test_a_stopped_call_reported_cancelled_before_the_stop_is_answered_is_still_recorded_as_stopped(
    voice: FakeTwilio, roster: Roster, database: Database, client: TestClient
) -> None:
    """Twilio may post the stopped call's status before it answers the request that stopped it: the delivery still
    ends with our reason (acknowledged another way), not only the provider's word."""
    working = InProcessQueue(workers=2)
    set_queue(working)
    voice.cancel_reported_first = True
    call, stopped = _acknowledged_while_ringing(voice, roster, database, working)
    assert call["cancel_requested"] and call["cancel_reported"]
    assert call["webhooks"][-1] == (call["status_callback"], 204), "the provider's report of the stop was taken"
    assert (stopped.state.value, stopped.error_code) == ("cancelled", "stopped")
    assert stopped.error_message == "stopped while ringing: acknowledged another way, or the alert ended"
    set_queue(None)


def test_every_request_the_channels_send_passes_twilios_openapi_description(
    voice: FakeTwilio, roster: Roster, database: Database
) -> None:
    voice.phones[roster.mobiles["aino"]] = Phone(ring=30)
    alert_id = send(roster, ["aino", "bertil"], channels=["sms", "voice"], response_options=["Kyllä", "Ei"])
    assert wait_until(lambda: settled(database, alert_id) and len(voice.calls) == 2)
    flows.cancel_alert(alert_id=alert_id, actor="test", reason="testi")
    sweep()  # stops the call still ringing
    assert wait_until(lambda: any(r["path"].endswith(f"{voice.calls_to(roster.mobiles['aino'])[0]['sid']}.json")
                                  for r in voice.api_requests))  # fmt: skip
    kinds = {re.sub(r"/(AC|CA)\w+", "/…", r["path"]) for r in voice.api_requests}
    assert kinds == {
        "/2010-04-01/Accounts/…/Messages.json",
        "/2010-04-01/Accounts/…/Calls.json",
        "/2010-04-01/Accounts/…/Calls/….json",
    }
    for request in voice.api_requests:
        assert problems(request["method"], request["path"], request["pairs"]) == [], request


def test_the_shipped_openapi_description_is_twilios() -> None:
    shared = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "twilio_api_v2010.json"
    if shared.exists():
        assert SPEC.read_bytes() == shared.read_bytes()
    assert description()["info"]["title"] == "Twilio - Api"


def test_the_openapi_check_finds_what_twilio_would_ignore_or_refuse() -> None:
    call = "/2010-04-01/Accounts/AC0/Calls.json"
    good = [("To", "+358401110001"), ("From", "+358401234567"), ("Url", "https://a.example/webhooks/twilio/voice")]
    assert problems("POST", call, good) == []
    assert problems("POST", call, [*good, ("MachineDetecton", "Enable")]) == [
        "MachineDetecton is no parameter of this operation"
    ]
    assert problems("POST", call, [*good[:2], ("Url", "/relative")]) == ["Url: '/relative' is not a 'uri'"]
    assert problems("POST", call, [*good, ("Timeout", "soon")]) == ["Timeout: 'soon' is not of type 'integer'"]
    assert problems("POST", "/2010-04-01/Accounts/AC0/Messages.json", [("Body", "x")]) == [
        "body: 'To' is a required property"
    ]


def test_forged_unknown_or_incomplete_call_webhooks_are_refused_and_change_nothing(
    voice: FakeTwilio, roster: Roster, database: Database, client: TestClient
) -> None:
    voice.phones[roster.mobiles["aino"]] = Phone(answer="no-answer")
    alert_id = send(roster, ["aino"])
    wait_for_call_end(database, voice, alert_id)
    [delivery] = call_deliveries(database, alert_id)
    base = get_settings().public_base_url
    for path in ("voice", "voice/gather", "voice/status"):
        url = f"{base}/webhooks/twilio/{path}?delivery={delivery.id}"
        params = {
            "CallSid": delivery.provider_id or "",
            "CallStatus": "completed",
            "Digits": "1",
            "AnsweredBy": "human",
        }
        assert client.post(url, data=params).status_code == 403
        assert client.post(url, data=params, headers={"X-Twilio-Signature": "forged"}).status_code == 403
        assert (
            client.post(
                url, data={"CallStatus": "completed"}, headers=voice.signed(url, {"CallStatus": "completed"})
            ).status_code
            == 400
        )
        other = {**params, "CallSid": "CA" + "f" * 32}
        expected = 204 if path == "voice/status" else 404
        assert client.post(url, data=other, headers=voice.signed(url, other)).status_code == expected
    nameless = f"{base}/webhooks/twilio/voice/status"
    params = {"CallSid": delivery.provider_id or "", "CallStatus": "completed"}
    assert client.post(nameless, data=params, headers=voice.signed(nameless, params)).status_code == 400
    after = call_deliveries(database, alert_id)[0]
    assert (after.state.value, after.error_code, after.answered_by) == ("undelivered", "no-answer", None)
    assert recipient(database, alert_id, roster.people["aino"]).acknowledged_at is None


def test_call_status_callbacks_only_move_forward(
    voice: FakeTwilio, roster: Roster, database: Database, client: TestClient
) -> None:
    voice.phones[roster.mobiles["aino"]] = Phone(keys="1", duration=12)
    alert_id = send(roster, ["aino"])
    wait_for_call_end(database, voice, alert_id)
    [delivery] = call_deliveries(database, alert_id)
    url = f"{get_settings().public_base_url}/webhooks/twilio/voice/status?delivery={delivery.id}"
    for status in ("ringing", "no-answer", "completed", "busy"):
        params = {"CallSid": delivery.provider_id or "", "CallStatus": status}
        assert client.post(url, data=params, headers=voice.signed(url, params)).status_code == 204
    after = call_deliveries(database, alert_id)[0]
    assert (after.state.value, after.duration_seconds, after.error_code) == ("delivered", 12, None)


def test_a_cancelled_alert_tells_those_it_called_by_sms(voice: FakeTwilio, roster: Roster, database: Database) -> None:
    voice.phones[roster.mobiles["aino"]] = Phone()
    alert_id = send(roster, ["aino"], exercise=True)
    wait_for_call_end(database, voice, alert_id)
    flows.cancel_alert(alert_id=alert_id, actor="test", reason="väärä ryhmä")
    assert wait_until(lambda: settled(database, alert_id))
    assert len(voice.calls) == 1, "nobody is called again to hear that nothing is needed"
    [notice] = voice.messages
    assert notice["to"] == roster.mobiles["aino"] and notice["body"].startswith("HARJOITUS – PERUTTU: Myrsky")


# --- restarts during escalation ----------------------------------------------------------------------------------


def test_a_restart_during_escalation_loses_no_call_and_calls_nobody_twice(
    voice: FakeTwilio, roster: Roster, database: Database
) -> None:
    """The call step runs while the queue loses its job (a restart of the embedded process, a flushed Redis): the
    step is not run again, and the sweeper of the restarted process places each call once."""
    voice.phones.update({roster.mobiles["aino"]: Phone(answer="no-answer"), roster.mobiles["bertil"]: Phone(keys="1")})
    set_queue(InProcessQueue(workers=0))  # jobs enqueued from now on are lost with this queue
    alert_id = send(roster, ["aino", "bertil"], channels=["email"], escalation={**QUIET, "call_after_minutes": 5})
    created = _created(database, alert_id)
    sweep(now=created + timedelta(minutes=6))  # the call step runs; its send job is lost
    sweep(now=created + timedelta(minutes=6))
    assert [d.state.value for d in call_deliveries(database, alert_id)] == ["queued", "queued"]
    restarted = InProcessQueue(workers=2)
    set_queue(restarted)
    sweep(now=created + timedelta(minutes=7))  # the restarted process's sweeper finds them
    wait_for_call_end(database, voice, alert_id)
    assert sorted(call["to"] for call in voice.calls) == sorted([roster.mobiles["aino"], roster.mobiles["bertil"]])
    sweep(now=created + timedelta(minutes=30))
    assert restarted.join()
    assert len(voice.calls) == 2 and len(call_deliveries(database, alert_id)) == 2
    assert recipient(database, alert_id, roster.people["bertil"]).ack_method.value == "voice"  # type: ignore[union-attr]
    set_queue(None)


@pytest.mark.slow
@needs_postgresql
def test_killed_scheduler_and_worker_during_escalation_lose_no_call(
    database: Database,
    twilio_settings: FakeTwilio,
    rq_queue: Any,
    rq_workers: WorkerPool,
    scheduler_process: Callable[..., SchedulerProcess],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Real processes: the API (Twilio's webhooks), an RQ worker and the scheduler. The scheduler is killed before
    the call step is due and started again after; the worker is killed after the calls were placed. Each silent
    person is called once, the keypad acknowledges, and the deputy step still follows."""
    fake = twilio_settings
    port = free_port()
    settings = {
        **FAST_RECOVERY,
        "ALUETURVA_VOICE_BACKEND": "twilio",
        "ALUETURVA_VOICE_CALLS_PER_SECOND": "20",
        "ALUETURVA_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    roster = make_roster(database)
    fake.phones.update({roster.mobiles["aino"]: Phone(answer="no-answer"), roster.mobiles["bertil"]: Phone(keys="1")})
    api = ApiServer(service_env(), tmp_path / "api.log", port=port).start()
    try:
        [worker] = rq_workers(1)
        scheduler = scheduler_process()
        escalation = {**QUIET, "call_after_minutes": 0.05, "deputy_after_minutes": 0.15}
        alert_id = send(roster, ["aino", "bertil"], channels=["sms"], escalation=escalation)
        assert wait_until(lambda: settled(database, alert_id), timeout=60), rq_workers.logs()
        scheduler.kill9()
        time.sleep(4)  # the call step falls due while no scheduler runs
        assert fake.calls == []
        scheduler_process()

        def placed() -> bool:
            rows = call_deliveries(database, alert_id)
            return len(rows) == 2 and all(d.provider_id for d in rows)

        assert wait_until(placed, timeout=60), rq_workers.logs()
        worker.kill9()
        rq_workers(1)
        assert wait_until(lambda: fake.calls_done() and len(fake.calls) == 2, timeout=60)

        def escalated() -> bool:
            bertil = recipient(database, alert_id, roster.people["bertil"])
            deputy_sms = [m for m in fake.messages if m["to"] == roster.mobiles["deputy"]]
            return bertil.acknowledged_at is not None and len(deputy_sms) == 1 and settled(database, alert_id)

        assert wait_until(escalated, timeout=60), rq_workers.logs() + api.log_tail()
        assert sorted(call["to"] for call in fake.calls) == sorted([roster.mobiles["aino"], roster.mobiles["bertil"]])
        states = sorted((d.state.value, d.error_code or "") for d in call_deliveries(database, alert_id))
        assert states == [("delivered", ""), ("undelivered", "no-answer")]
        assert webhook_statuses(fake) <= {200, 204}
        assert fake.calls_to(roster.mobiles["deputy"]) == []
    finally:
        api.terminate()


# --- per group, the demo --------------------------------------------------------------------------------------------


def test_a_group_calls_its_own_silent_members_unless_the_alert_says_otherwise(
    voice: FakeTwilio, roster: Roster, database: Database, client: TestClient, keys: dict[Any, str]
) -> None:
    from alueturva.auth.models import Role
    from tests.conftest import auth

    admin = auth(keys[Role.admin])
    changed = client.patch(f"/api/v1/groups/{roster.group_id}", json={"call_after_minutes": 3}, headers=admin)
    assert changed.status_code == 200 and changed.json()["call_after_minutes"] == 3
    negative = client.patch(f"/api/v1/groups/{roster.group_id}", json={"call_after_minutes": -1}, headers=admin)
    assert negative.status_code == 422
    voice.phones[roster.mobiles["aino"]] = Phone(keys="1")
    by_group = {"groups": [roster.group_id]}
    alert_id = send(roster, [], targets=by_group, channels=["email"], escalation=QUIET)
    with database.session() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.escalation["group_calls"] == {str(roster.group_id): 3.0}
    created = _created(database, alert_id)
    _sweep_at(database, voice, alert_id, created + timedelta(minutes=4))
    wait_for_call_end(database, voice, alert_id)
    called = sorted(call["to"] for call in voice.calls)
    members = [roster.mobiles[key] for key in ("aino", "bertil", "deputy")]
    assert called == sorted(members), "every member with a mobile (cecilia has none)"
    assert recipient(database, alert_id, roster.people["aino"]).ack_method.value == "voice"  # type: ignore[union-attr]

    never = send(roster, [], targets=by_group, channels=["email"], escalation={**QUIET, "call_after_minutes": None})
    _sweep_at(database, voice, never, _created(database, never) + timedelta(minutes=10))
    assert call_deliveries(database, never) == [], "null: no calls, not even the group's"


def test_the_demo_shows_a_call_from_alert_to_keypad_acknowledgement(
    roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    """Console backends: what the call says is in the outbox; `alueturva call answer` answers like a phone."""
    from typer.testing import CliRunner

    from alerting.console_cli import call_app, outbox_app

    runner = CliRunner()
    alert_id = send(roster, ["aino", "bertil"], exercise=True, response_options=["Tulen", "En pääse"])
    assert wait_until(lambda: settled(database, alert_id))
    shown = runner.invoke(outbox_app, ["--to", roster.mobiles["aino"]])
    assert shown.exit_code == 0 and "voice" in shown.output and "Tämä on harjoitus." in shown.output
    answered = runner.invoke(call_app, ["answer", "--to", "040 111 0001", "--digits", "1", "--seconds", "25"])
    assert answered.exit_code == 0, answered.output
    assert "Yksi: Tulen." in answered.output and "Kiitos, vastauksesi Tulen kirjattu: Myrsky." in answered.output
    person = recipient(database, alert_id, roster.people["aino"])
    assert (person.response, person.ack_by) == (1, f"voice:person:{roster.people['aino']}")
    missed = runner.invoke(call_app, ["unanswered", "--to", roster.mobiles["bertil"], "--busy"])
    assert missed.exit_code == 0, missed.output
    states = {(d.address, d.state.value, d.error_code, d.duration_seconds) for d in call_deliveries(database, alert_id)}
    assert states == {
        (roster.mobiles["aino"], "delivered", None, 25),
        (roster.mobiles["bertil"], "undelivered", "busy", None),
    }
    again = runner.invoke(call_app, ["answer", "--to", roster.mobiles["aino"]])
    assert again.exit_code != 0 and "no call is ringing" in str(again.exception)


# --- what calls cost, and the report ------------------------------------------------------------------------------


def test_a_drills_calls_are_in_its_report_and_their_minutes_in_the_follow_up(
    voice: FakeTwilio, roster: Roster, database: Database, client: TestClient, keys: dict[Any, str]
) -> None:
    from alueturva.auth.models import Role
    from alueturva.i18n import helsinki
    from tests.conftest import auth
    from tests.support.drills import act, plan

    voice.phones.update(
        {
            roster.mobiles["aino"]: Phone(keys="1", duration=61),  # two started minutes
            roster.mobiles["bertil"]: Phone(answer="machine_end_beep", duration=20),  # one
            roster.mobiles["deputy"]: Phone(answer="no-answer"),  # free
        }
    )
    drill = plan(
        client, keys, name="Puheluharjoitus", kind="management_group_test", targets={"groups": [roster.group_id]},
        channels=["voice"], title="Puheluharjoitus", message="Kokoontuminen klo 10.", escalation=QUIET,
    )  # fmt: skip
    started = act(client, keys, f"{drill['id']}/start")
    (alert_id,) = started["alerts"]
    wait_for_call_end(database, voice, alert_id)
    viewer = auth(keys[Role.viewer])
    report = client.get(f"/api/v1/drills/{drill['id']}/report", params={"format": "json"}, headers=viewer).json()
    calls = {person["name"]: person["calls"] for person in report["people"]}
    assert calls == {
        "Aino Aaltonen": {"attempts": 1, "answered": 1, "seconds": 61},
        "Bertil Backman": {"attempts": 1, "answered": 0, "seconds": 20},
        "Cecilia Carlsson": None,  # no mobile
        "Daniel Dahl": {"attempts": 1, "answered": 0, "seconds": None},
    }
    # a call is delivered when Twilio reports a person answered it; a machine or no answer is not reaching them
    figures = {key: report["counts"][key] for key in ("targeted", "sent", "delivered", "no_receipt", "failed")}
    assert figures == {"targeted": 4, "sent": 1, "delivered": 1, "no_receipt": 0, "failed": 3}
    (voice_figures,) = [row for row in report["by_channel"] if row["channel"] == "voice"]
    assert (voice_figures["receipts"], voice_figures["messages"], voice_figures["delivered"]) == (True, 3, 1)
    html = client.get(f"/api/v1/drills/{drill['id']}/report", params={"format": "html"}, headers=viewer).text
    assert "Puhelut: 1, vastattu 1, kesto 1 min 01 s" in html and "vastaaja vastasi" in html
    csv = client.get(
        f"/api/v1/drills/{drill['id']}/report", params={"format": "csv", "language": "en"}, headers=viewer
    ).text
    assert "calls;calls_answered;call_seconds" in csv.splitlines()[0]

    year = helsinki(_created(database, alert_id)).year
    costs = client.get("/api/v1/followup", params={"year": year}, headers=viewer).json()["costs"]
    assert costs["exercise"]["calls"] == {"calls": 3, "answered": 2, "minutes": 3, "without_duration": 0}
    assert costs["exercise"]["call_euros"] == 0.9 and costs["price_per_call_minute"] == 0.3
    assert costs["real"]["calls"]["calls"] == 0
    shares = sum(float(row["euros"]) for row in costs["total"]["split"])
    assert round(shares, 2) == float(costs["total"]["euros"])
    followup = client.get("/api/v1/followup", params={"year": year, "format": "html"}, headers=viewer).text
    assert "Harjoitukset: puheluita 3, vastattuja 2, laskutettavia minuutteja 3" in followup


def test_the_alert_page_shows_each_persons_calls_with_attempts_and_duration(
    voice: FakeTwilio, roster: Roster, database: Database, client: TestClient, accounts: dict[Any, int]
) -> None:
    from alueturva.auth.models import Role
    from tests.support.web import sign_in

    voice.phones.update(
        {roster.mobiles["aino"]: Phone(keys="1", duration=75), roster.mobiles["bertil"]: Phone(answer="busy")}
    )
    alert_id = send(roster, ["aino", "bertil"])
    wait_for_call_end(database, voice, alert_id)
    sign_in(client, Role.viewer)
    page = client.get(f"/alerts/{alert_id}/live").text
    cells = r'<td class="n">(\d+)</td><td class="n">(\d+)</td>\s*<td class="n">([^<]+)</td><td>([^<]+)</td></tr>'
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>[^<]*</td>' + cells, page)
    assert rows == [
        ("Aino Aaltonen", "1", "1", "1 min 15 s", "vastattu"),
        ("Bertil Backman", "1", "0", "–", "varattu"),
    ]


def test_calls_are_started_at_most_at_the_calls_per_second_rate(
    voice: FakeTwilio, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.roster import make_people

    monkeypatch.setenv("ALUETURVA_VOICE_CALLS_PER_SECOND", "10")
    get_settings.cache_clear()
    people = make_people(database, 8)
    alert_id = flows.create_alert(
        AlertCreate(title="T", message="M", targets={"people": people}, channels=["voice"], escalation=QUIET),
        actor="test",
    ).alert_id
    assert wait_until(lambda: calls_settled(database, voice, alert_id) and len(voice.calls) == 8)
    times = sorted(call["received_at"] for call in voice.calls)
    # 8 calls at 10 per second: the 2nd to the 8th are started 6 intervals of 100 ms apart (the first one's request
    # also opens the connection, so it may arrive late). What the fake sees also holds each request's own delay
    # (recording it first, the network): one interval of that is allowed. Without the limit they arrive within a
    # few milliseconds; at 1.5 times the rate, 0.4 s apart.
    assert times[-1] - times[1] >= 5 / 10
