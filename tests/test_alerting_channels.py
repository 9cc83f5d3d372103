"""Twilio SMS and SMTP email against the real peers (loopback Twilio API, aiosmtpd); retries and rate limits."""

from __future__ import annotations

import asyncio
import threading
import time
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from alerting import flows
from alerting.dispatch import send_batch
from alerting.models import Delivery
from alerting.ratelimit import RedisRateLimiter
from alerting.schemas import AlertCreate
from alerting.send_loop import close_send_loop
from alueturva.db import Database
from alueturva.queue import InProcessQueue, set_queue
from alueturva.settings import get_settings
from loopback.processes import RedisServer
from loopback.smtp_server import SmtpServer
from loopback.twilio_server import FakeTwilio
from tests.support.fixtures import TWILIO_FROM
from tests.support.roster import Roster, delivery_states, make_roster, settled, wait_until


@pytest.fixture
def roster(database: Database) -> Roster:
    return make_roster(database)


def _settings(monkeypatch: pytest.MonkeyPatch, **values: object) -> None:
    for name, value in values.items():
        monkeypatch.setenv(f"ALUETURVA_{name.upper()}", str(value))
    get_settings.cache_clear()


def _send(roster: Roster, **fields: object) -> int:
    body = {"title": "Myrsky", "message": "Valmiusjohtoryhmä koolle.", "targets": {"groups": [roster.group_id]}}
    body.update(fields)
    return flows.create_alert(AlertCreate.model_validate(body), actor="test").alert_id


IN_THREE_LANGUAGES = {
    "title": {"fi": "Myrsky", "sv": "Storm", "en": "Storm"},
    "message": {"fi": "Valmiusjohtoryhmä koolle.", "sv": "Beredskapsledningsgruppen samlas.", "en": "Meet now."},
}


def _deliveries(database: Database, alert_id: int) -> list[Delivery]:
    with database.session() as session:
        return list(session.scalars(select(Delivery).where(Delivery.alert_id == alert_id).order_by(Delivery.id)))


def test_sms_go_through_the_twilio_sdk_with_status_callbacks_and_provider_ids(
    twilio_settings: FakeTwilio, roster: Roster, queue: InProcessQueue, database: Database
) -> None:
    alert_id = _send(roster, channels=["sms"], exercise=True, **IN_THREE_LANGUAGES)
    assert wait_until(lambda: settled(database, alert_id))
    messages = {message["to"]: message for message in twilio_settings.messages}
    assert set(messages) == {roster.mobiles["aino"], roster.mobiles["bertil"], roster.mobiles["deputy"]}
    assert all(message["from"] == TWILIO_FROM for message in messages.values())
    finnish, swedish = messages[roster.mobiles["aino"]]["body"], messages[roster.mobiles["bertil"]]["body"]
    assert finnish.startswith("HARJOITUS") and finnish.rstrip().endswith("HARJOITUS") and "OK " in finnish
    assert swedish.startswith("ÖVNING") and "Kvittera" in swedish
    deliveries = _deliveries(database, alert_id)
    assert {d.provider_id for d in deliveries} == {m["sid"] for m in messages.values()}
    for delivery in deliveries:
        callback = messages[delivery.address]["status_callback"]
        assert callback == f"http://127.0.0.1:8000/webhooks/twilio/status?delivery={delivery.id}"
        assert delivery.state.value == "sent" and delivery.attempts == 1


def _add_person(database: Database, roster: Roster, key: str, organisation: str, mobile: str, language: str) -> int:
    from contacts.models import Person

    with database.session() as session:
        person = Person(
            name=key.title(),
            organisation_id=roster.organisations[organisation],
            mobile=mobile,
            email=f"{key}@example.fi",
            language=language,
        )
        session.add(person)
        session.flush()
        return person.id


def test_each_reader_gets_their_languages_text_or_the_fallback(
    twilio_settings: FakeTwilio, smtp_settings: SmtpServer, roster: Roster, queue: InProcessQueue, database: Database
) -> None:
    """The rule of alueturva.localized.versions_for, end to end through Twilio and SMTP."""
    eve = _add_person(database, roster, "eve", "kokkola", "+358401110005", "en")  # English, bilingual Kokkola
    sven = _add_person(database, roster, "sven", "perho", "+358401110006", "sv")  # Swedish, Finnish-only Perho
    people = [roster.people["aino"], roster.people["bertil"], roster.people["cecilia"], eve, sven]
    bilingual = {
        "title": {"fi": "Myrsky", "sv": "Storm"},
        "message": {"fi": "Valmiusjohtoryhmä koolle.", "sv": "Beredskapsledningsgruppen samlas."},
    }
    first = _send(roster, targets={"people": people}, **bilingual)
    assert wait_until(lambda: settled(database, first))
    sms = {message["to"]: message["body"] for message in twilio_settings.messages}
    mail = {str(message["To"]): message for message in smtp_settings.messages}
    # a Swedish reader with a Swedish text: Swedish only, in a bilingual or a Finnish-only municipality
    for number in (roster.mobiles["bertil"], "+358401110006"):
        assert sms[number].startswith("Storm\nBeredskapsledningsgruppen samlas.") and "Valmius" not in sms[number]
    # an English reader in bilingual Kokkola, no English text: Finnish and Swedish together, each whole
    assert sms["+358401110005"] == (
        f"Myrsky\nValmiusjohtoryhmä koolle.\nKuittaa vastaamalla OK {_code(database, first)}\n\n"
        f"Storm\nBeredskapsledningsgruppen samlas.\nKvittera genom att svara OK {_code(database, first)}"
    )
    assert (
        mail["eve@example.fi"]["Subject"] == "Myrsky / Storm" and mail["eve@example.fi"]["Content-Language"] == "fi, sv"
    )
    # an English reader in a Finnish-only municipality: Finnish
    assert mail["cecilia@example.fi"]["Subject"] == "Myrsky" and mail["cecilia@example.fi"]["Content-Language"] == "fi"
    assert sms[roster.mobiles["aino"]].startswith("Myrsky\n") and "Storm" not in sms[roster.mobiles["aino"]]

    twilio_settings.messages.clear()
    second = _send(roster, targets={"people": people}, title="Tulva", message="Kokoontuminen klo 14.")
    assert wait_until(lambda: settled(database, second))
    sms = {message["to"]: message["body"] for message in twilio_settings.messages}
    # no Swedish text: the Swedish and the English readers get Finnish, never a Swedish frame around it
    for number in (roster.mobiles["bertil"], "+358401110005", "+358401110006"):
        assert sms[number] == f"Tulva\nKokoontuminen klo 14.\nKuittaa vastaamalla OK {_code(database, second)}"


def _code(database: Database, alert_id: int) -> str:
    from alerting.models import Alert

    with database.session() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        return alert.short_code


def test_a_worker_thread_keeps_its_provider_connection_from_one_send_job_to_the_next(
    twilio_settings: FakeTwilio, roster: Roster, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_queue(InProcessQueue(workers=0))  # the jobs are run below, one after another in this thread
    try:
        jobs = [[row.id for row in _deliveries(database, _send(roster, channels=["sms"]))] for _ in range(3)]
        send_batch(jobs[0])
        send_batch(jobs[1])
        _settings(monkeypatch, send_concurrency=8)  # changed settings: new channels, a new connection
        send_batch(jobs[2])
    finally:
        close_send_loop()
        set_queue(None)
    connections = [{request["connection"] for request in twilio_settings.requests[n * 3 : n * 3 + 3]} for n in range(3)]
    assert len(twilio_settings.requests) == 9
    assert connections[1] <= connections[0]  # the second job sent over the first one's connections
    assert not connections[2] & (connections[0] | connections[1])


def test_a_messaging_service_can_send_instead_of_a_number(
    twilio_settings: FakeTwilio, roster: Roster, queue: InProcessQueue, database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("ALUETURVA_TWILIO_FROM")
    _settings(monkeypatch, twilio_messaging_service_sid="MG" + "1" * 32)
    alert_id = _send(roster, channels=["sms"])
    assert wait_until(lambda: settled(database, alert_id))
    assert {m["messaging_service_sid"] for m in twilio_settings.messages} == {"MG" + "1" * 32}
    assert {m["from"] for m in twilio_settings.messages} == {None}


def test_an_invalid_number_fails_at_once_with_the_providers_code(
    twilio_settings: FakeTwilio, roster: Roster, queue: InProcessQueue, database: Database
) -> None:
    twilio_settings.invalid_numbers.add(roster.mobiles["bertil"])
    alert_id = _send(roster, channels=["sms"])
    assert wait_until(lambda: settled(database, alert_id))
    by_address = {d.address: d for d in _deliveries(database, alert_id)}
    failed = by_address[roster.mobiles["bertil"]]
    assert (failed.state.value, failed.error_code, failed.attempts) == ("failed", "21211", 1)
    # the provider repeats the number in its message; it is stored without it (personal data, shown to viewers)
    assert failed.error_message and "<recipient>" in failed.error_message
    assert roster.mobiles["bertil"] not in failed.error_message
    assert by_address[roster.mobiles["aino"]].state.value == "sent"


def test_transient_provider_errors_are_retried_with_backoff_until_sent(
    twilio_settings: FakeTwilio, roster: Roster, queue: InProcessQueue, database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # retries back off from 50 ms to at most 0.4 s: a long run of failures must not outlast the wait below
    _settings(monkeypatch, delivery_retry_base_seconds=0.05, delivery_retry_max_seconds=0.4, delivery_max_attempts=20)
    twilio_settings.fail_ratio = 0.5
    twilio_settings.fail_statuses = [429, 500, 503]
    alert_id = _send(roster, channels=["sms"])
    assert wait_until(lambda: settled(database, alert_id))
    deliveries = _deliveries(database, alert_id)
    assert {d.state.value for d in deliveries} == {"sent"}
    assert len(twilio_settings.messages) == 3  # each accepted exactly once
    assert twilio_settings.request_count == sum(d.attempts for d in deliveries)


def test_a_transient_error_that_never_ends_fails_after_the_last_attempt(
    twilio_settings: FakeTwilio, roster: Roster, queue: InProcessQueue, database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    _settings(monkeypatch, delivery_retry_base_seconds=0.02, delivery_max_attempts=3)
    twilio_settings.fail_ratio = 1.0
    twilio_settings.fail_statuses = [429]
    alert_id = _send(roster, channels=["sms"])
    assert wait_until(lambda: settled(database, alert_id))
    for delivery in _deliveries(database, alert_id):
        assert (delivery.state.value, delivery.error_code, delivery.attempts) == ("failed", "20429", 3)
        assert delivery.error_message and delivery.error_message.startswith("gave up after 3 attempts")


def test_a_provider_that_does_not_answer_in_time_is_a_transient_error(
    twilio_settings: FakeTwilio, roster: Roster, queue: InProcessQueue, database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    _settings(monkeypatch, twilio_timeout_seconds=0.2, delivery_max_attempts=1)
    twilio_settings.latency = 1.0
    alert_id = _send(roster, channels=["sms"], targets={"people": [roster.people["aino"]]})
    assert wait_until(lambda: settled(database, alert_id))
    (delivery,) = _deliveries(database, alert_id)
    assert (delivery.state.value, delivery.error_code) == ("failed", "timeout")


def test_email_has_text_and_html_parts_the_ack_link_and_proper_headers(
    smtp_settings: SmtpServer, roster: Roster, queue: InProcessQueue, database: Database
) -> None:
    options = [{"fi": "Tulen", "sv": "Jag kommer", "en": "Coming"}, {"fi": "En pääse", "sv": "Nej", "en": "No"}]
    alert_id = _send(roster, channels=["email"], exercise=True, response_options=options, **IN_THREE_LANGUAGES)
    assert wait_until(lambda: settled(database, alert_id))
    assert len(smtp_settings.messages) == 4
    by_to = {str(message["To"]): message for message in smtp_settings.messages}
    swedish: EmailMessage = by_to["bertil@example.fi"]
    assert swedish["Subject"].startswith("ÖVNING – ")
    assert swedish["Content-Language"] == "sv"
    assert swedish["Auto-Submitted"] == "auto-generated"
    assert swedish["Message-ID"] and swedish["Date"] and swedish["From"] == "alueturva@example.test"
    text = swedish.get_body(preferencelist=("plain",))
    html = swedish.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    plain, markup = text.get_content(), html.get_content()
    assert "http://127.0.0.1:8000/ack/" in plain and "ÖVNING" in plain
    assert 'href="http://127.0.0.1:8000/ack/' in markup and "Jag kommer" in markup and "En pääse" not in markup
    english = by_to["cecilia@example.fi"]
    assert english["Subject"].startswith("EXERCISE – ")
    deliveries = _deliveries(database, alert_id)
    assert {d.provider_id for d in deliveries} == {str(m["Message-ID"]) for m in smtp_settings.messages}


def test_smtp_5xx_fails_permanently_and_4xx_is_retried(
    smtp_settings: SmtpServer, roster: Roster, queue: InProcessQueue, database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    _settings(monkeypatch, delivery_retry_base_seconds=0.05, delivery_max_attempts=10)
    smtp_settings.reply_code = 550
    alert_id = _send(roster, channels=["email"], targets={"people": [roster.people["aino"]]})
    assert wait_until(lambda: settled(database, alert_id))
    (failed,) = _deliveries(database, alert_id)
    assert (failed.state.value, failed.error_code, failed.attempts) == ("failed", "550", 1)

    smtp_settings.reply_code = 451
    alert_id = _send(roster, channels=["email"], targets={"people": [roster.people["bertil"]]})
    assert wait_until(lambda: _deliveries(database, alert_id)[0].attempts >= 2)
    smtp_settings.reply_code = None
    assert wait_until(lambda: settled(database, alert_id))
    (retried,) = _deliveries(database, alert_id)
    assert retried.state.value == "sent" and retried.attempts >= 2
    assert [str(m["To"]) for m in smtp_settings.messages] == ["bertil@example.fi"]


def test_a_mail_server_that_is_down_fails_email_clearly_without_holding_up_sms(
    smtp_settings: SmtpServer, twilio_settings: FakeTwilio, roster: Roster, queue: InProcessQueue,
    database: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    _settings(monkeypatch, delivery_retry_base_seconds=0.02, delivery_max_attempts=3)
    smtp_settings.stop()
    alert_id = _send(roster, channels=["sms", "email"])
    assert wait_until(lambda: settled(database, alert_id))
    for delivery in _deliveries(database, alert_id):
        if delivery.channel.value == "sms":
            assert delivery.state.value == "sent"
        else:
            assert (delivery.state.value, delivery.error_code) == ("failed", "connection")
            assert "gave up after 3 attempts" in (delivery.error_message or "")
    assert sorted(delivery_states(database, alert_id)).count("sent") == 3


def test_the_sms_rate_limit_spaces_sends_in_this_process(
    twilio_settings: FakeTwilio, database: Database, queue: InProcessQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.roster import make_people

    _settings(monkeypatch, sms_rate_per_second=20)
    people = make_people(database, 12)
    alert_id = _send(Roster(), channels=["sms"], targets={"people": people})
    assert wait_until(lambda: settled(database, alert_id))
    times = sorted(message["received_at"] for message in twilio_settings.messages)
    assert len(times) == 12
    # 12 sends at 20 per second: the 2nd to the 12th are at least 10 intervals of 50 ms apart (the first one's
    # arrival also includes opening the connection, so it may come late and closer to the second)
    assert times[-1] - times[1] >= 10 / 20 - 0.02


async def _take_turns(redis_url: str, key: str, rate: float, stamps: list[float], senders: int = 16) -> None:
    """``senders`` senders of one limiter ask for their turn at once; each notes when it got it."""
    limiter = RedisRateLimiter(redis_url, key, rate)

    async def one() -> None:
        await limiter.wait_turn()
        stamps.append(time.monotonic())  # list.append is atomic: threads may share the list

    try:
        await asyncio.gather(*(one() for _ in range(senders)))
    finally:
        await limiter.close()


def test_the_redis_rate_limit_holds_across_limiters_together(redis_server: RedisServer) -> None:
    """Three threads, each with its own event loop and Redis connection (like three workers), share one rate."""
    stamps: list[float] = []
    threads = [
        threading.Thread(target=asyncio.run, args=(_take_turns(redis_server.url, "test:sms-rate", 40.0, stamps),))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps.sort()
    assert len(stamps) == 48
    # 48 permits at 40 per second: at least 47 intervals of 25 ms between the first and the last
    assert stamps[-1] - stamps[0] >= 47 / 40 - 0.05


def test_senders_waiting_together_reserve_their_slots_in_one_round_trip(redis_server: RedisServer) -> None:
    """16 senders asking at once cost one script call, not 16 (and 16 connections), yet each gets its own slot."""
    from redis import Redis

    admin = Redis.from_url(redis_server.url)
    admin.config_resetstat()
    stamps: list[float] = []
    asyncio.run(_take_turns(redis_server.url, "test:sms-rate-grouped", 50.0, stamps))
    calls = sum(
        int(stats["calls"])
        for name, stats in admin.info("commandstats").items()
        if name in ("cmdstat_evalsha", "cmdstat_eval")
    )
    admin.close()
    assert calls <= 2
    assert len(stamps) == 16
    stamps.sort()
    assert stamps[-1] - stamps[0] >= 15 / 50 - 0.02  # 15 intervals of 20 ms between the first and the last


def test_a_long_batch_keeps_its_claims_so_the_sweeper_does_not_send_twice(
    twilio_settings: FakeTwilio, database: Database, queue: InProcessQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rate limit makes this batch take twice the claim lease; the sweeper runs all along."""
    from alerting.sweeper import sweep
    from tests.support.roster import make_people

    _settings(monkeypatch, sms_rate_per_second=10, delivery_claim_lease_seconds=0.6, delivery_requeue_after_seconds=0.3)
    people = make_people(database, 12)
    alert_id = _send(Roster(), channels=["sms"], targets={"people": people})
    stop = threading.Event()

    def sweeping() -> None:
        while not stop.is_set():
            sweep()
            time.sleep(0.1)

    sweeper = threading.Thread(target=sweeping)
    sweeper.start()
    try:
        assert wait_until(lambda: settled(database, alert_id))
    finally:
        stop.set()
        sweeper.join()
    assert len(twilio_settings.messages) == 12
    assert {d.attempts for d in _deliveries(database, alert_id)} == {1}
