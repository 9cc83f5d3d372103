"""The real peers themselves: the fake Twilio answers the real SDK as Twilio does, the SMTP server receives
and refuses mail, and the service processes start, take jobs and die when told."""

from __future__ import annotations

import json
import smtplib
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import httpx
import psutil
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from loopback.processes import ApiServer, RedisServer, service_env
from loopback.smtp_server import SmtpServer
from loopback.twilio_server import FakeTwilio, FakeTwilioProcess, count_segments, loopback_client
from tests.support.fixtures import TWILIO_FROM, WorkerPool

CALLBACK_URL = "https://alueturva.example.test/webhooks/twilio/status"
INBOUND_URL = "https://alueturva.example.test/webhooks/twilio/sms"


def test_real_sdk_creates_a_message_and_gets_its_sid(fake_twilio: FakeTwilio) -> None:
    client = loopback_client(fake_twilio.base_url)

    message = client.messages.create(
        to="+358501234567", from_=TWILIO_FROM, body="HARJOITUS: testi", status_callback=CALLBACK_URL
    )

    assert message.sid is not None and message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    assert message.num_segments == "1"
    [recorded] = fake_twilio.messages
    assert recorded["sid"] == message.sid
    assert recorded["to"] == "+358501234567"
    assert recorded["from"] == TWILIO_FROM
    assert recorded["body"] == "HARJOITUS: testi"
    assert recorded["status_callback"] == CALLBACK_URL
    assert fake_twilio.request_count == 1


def test_real_sdk_sends_through_a_messaging_service(fake_twilio: FakeTwilio) -> None:
    client = loopback_client(fake_twilio.base_url)

    message = client.messages.create(to="+358501234567", messaging_service_sid="MG" + "1" * 32, body="Hei")

    assert message.messaging_service_sid == "MG" + "1" * 32
    assert fake_twilio.messages[0]["from"] is None


def test_429_surfaces_as_twilio_rest_exception_20429(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_ratio = 1.0
    fake_twilio.fail_statuses = [429]
    client = loopback_client(fake_twilio.base_url)

    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to="+358501234567", from_=TWILIO_FROM, body="Hei")

    assert raised.value.status == 429
    assert raised.value.code == 20429
    assert fake_twilio.messages == []
    assert fake_twilio.request_count == 1


def test_500_and_invalid_numbers_surface_with_their_codes(fake_twilio: FakeTwilio) -> None:
    client = loopback_client(fake_twilio.base_url)
    fake_twilio.invalid_numbers = {"+358400000000"}

    with pytest.raises(TwilioRestException) as invalid:
        client.messages.create(to="+358400000000", from_=TWILIO_FROM, body="Hei")
    fake_twilio.fail_ratio, fake_twilio.fail_statuses = 1.0, [500]
    with pytest.raises(TwilioRestException) as server_error:
        client.messages.create(to="+358501234567", from_=TWILIO_FROM, body="Hei")

    assert (invalid.value.status, invalid.value.code) == (400, 21211)
    assert (server_error.value.status, server_error.value.code) == (500, 20500)
    assert [r["status"] for r in fake_twilio.requests] == [400, 500]


def test_wrong_credentials_are_refused(fake_twilio: FakeTwilio) -> None:
    client = loopback_client(fake_twilio.base_url, auth_token="wrong")

    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to="+358501234567", from_=TWILIO_FROM, body="Hei")

    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert fake_twilio.messages == []


def test_a_ratio_of_requests_fails(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_ratio = 0.3
    client = loopback_client(fake_twilio.base_url)
    outcomes = []
    for n in range(100):
        try:
            client.messages.create(to=f"+3585012{n:05d}", from_=TWILIO_FROM, body="Hei")
            outcomes.append(201)
        except TwilioRestException as exc:
            outcomes.append(exc.status)

    assert 10 <= sum(status != 201 for status in outcomes) <= 55
    assert set(outcomes) <= {201, 429, 500}
    assert len(fake_twilio.messages) == outcomes.count(201)


def test_latency_is_served_concurrently(fake_twilio: FakeTwilio) -> None:
    fake_twilio.latency = 0.2
    barrier = threading.Barrier(8)

    def send(n: int) -> None:
        client = loopback_client(fake_twilio.base_url)
        barrier.wait()
        client.messages.create(to=f"+3585000000{n}", from_=TWILIO_FROM, body="Hei")

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    requests = fake_twilio.requests
    overlapping = max(
        sum(other["received_at"] <= r["received_at"] < other["answered_at"] for other in requests) for r in requests
    )
    assert len(fake_twilio.messages) == 8
    assert overlapping > 1
    assert all(r["answered_at"] - r["received_at"] >= 0.2 for r in requests)


def test_segments_are_counted_as_gsm7_or_ucs2() -> None:
    assert count_segments("a" * 160) == 1
    assert count_segments("a" * 161) == 2
    assert count_segments("ä" * 160) == 1  # ä is in the GSM-7 alphabet
    assert count_segments("€" * 80) == 1  # extension characters take two septets
    assert count_segments("€" * 81) == 2
    assert count_segments("š" * 70) == 1  # not GSM-7: UCS-2
    assert count_segments("š" * 71) == 2


def _signature_checking_app(auth_token: str, received: list[dict[str, str]]) -> FastAPI:
    app = FastAPI()

    @app.post("/webhooks/twilio/status")
    async def status(request: Request) -> dict[str, bool]:
        form = {key: str(value) for key, value in (await request.form()).items()}
        valid = RequestValidator(auth_token).validate(CALLBACK_URL, form, request.headers.get("X-Twilio-Signature", ""))
        if valid:
            received.append(form)
        return {"valid": valid}

    @app.post("/webhooks/twilio/sms")
    async def sms(request: Request) -> dict[str, bool]:
        form = {key: str(value) for key, value in (await request.form()).items()}
        valid = RequestValidator(auth_token).validate(INBOUND_URL, form, request.headers.get("X-Twilio-Signature", ""))
        if valid:
            received.append(form)
        return {"valid": valid}

    return app


def test_inbound_sms_is_signed_as_twilio_signs_it(fake_twilio: FakeTwilio) -> None:
    received: list[dict[str, str]] = []
    http = TestClient(_signature_checking_app(fake_twilio.auth_token, received))

    assert fake_twilio.send_inbound_sms(INBOUND_URL, from_="+358501234567", body="ok 4821", http=http) == 200
    assert http.post(INBOUND_URL, data={"From": "+358501234567", "Body": "OK"}).json() == {"valid": False}

    [form] = received
    assert (form["From"], form["Body"], form["To"]) == ("+358501234567", "ok 4821", TWILIO_FROM)
    assert form["MessageSid"].startswith("SM") and form["AccountSid"] == fake_twilio.account_sid


def test_status_callbacks_are_signed_as_twilio_signs_them(fake_twilio: FakeTwilio) -> None:
    sent = loopback_client(fake_twilio.base_url).messages.create(
        to="+358501234567", from_=TWILIO_FROM, body="Hei", status_callback=CALLBACK_URL
    )
    received: list[dict[str, str]] = []
    http = TestClient(_signature_checking_app(fake_twilio.auth_token, received))

    assert sent.sid is not None
    assert fake_twilio.send_status_callback(sent.sid, "delivered", http=http) == 200
    assert fake_twilio.send_status_callback(sent.sid, "undelivered", error_code="30003", http=http) == 200

    assert [(r["MessageSid"], r["MessageStatus"], r.get("ErrorCode")) for r in received] == [
        (sent.sid, "delivered", None),
        (sent.sid, "undelivered", "30003"),
    ]
    assert received[0]["To"] == "+358501234567"
    assert received[0]["AccountSid"] == fake_twilio.account_sid


def test_fake_in_its_own_process_reports_its_state(tmp_path: Path) -> None:
    with FakeTwilioProcess(latency=0.01) as fake:
        client = loopback_client(fake.base_url)
        client.messages.create(to="+358501234567", from_=TWILIO_FROM, body="Hei")
        fake.configure(fail_ratio=1.0, fail_statuses=[429])
        with pytest.raises(TwilioRestException):
            client.messages.create(to="+358501234568", from_=TWILIO_FROM, body="Hei")
        state, stats = fake.snapshot(), fake.stats()

    assert state["request_count"] == 2
    assert (stats["request_count"], stats["accepted"], stats["in_flight"]) == (2, 1, 0)
    assert stats["first_request_at"] < stats["last_request_at"]
    assert [m["to"] for m in state["messages"]] == ["+358501234567"]


def _mail(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "alueturva@example.test"
    message["To"] = to
    message["Subject"] = "HARJOITUS – hälytys"
    message.set_content("Kuittaa: https://alueturva.example.test/ack/x")
    message.add_alternative("<p>Kuittaa</p>", subtype="html")
    return message


def test_smtp_server_receives_parsed_mail(smtp_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as smtp:
        smtp.send_message(_mail("liisa@example.test"))

    [received] = smtp_server.messages
    assert received["Subject"] == "HARJOITUS – hälytys"
    assert received.get_body(("html",)) is not None
    assert smtp_server.envelopes[0].rcpt_tos == ["liisa@example.test"]


@pytest.mark.parametrize("code", [451, 550])
def test_smtp_server_refuses_with_the_reply_code(smtp_server: SmtpServer, code: int) -> None:
    smtp_server.reply_code = code
    with (
        smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused) as raised,
    ):
        smtp.send_message(_mail("liisa@example.test"))

    assert raised.value.recipients["liisa@example.test"][0] == code
    assert smtp_server.messages == []
    assert smtp_server.rcpt_attempts == 1


def test_stopped_smtp_server_refuses_connections_and_comes_back(smtp_server: SmtpServer) -> None:
    smtp_server.stop()
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5)

    smtp_server.start()
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as smtp:
        smtp.send_message(_mail("liisa@example.test"))
    assert len(smtp_server.messages) == 1


def test_private_redis_flushes_dies_and_restarts(redis_server: RedisServer) -> None:
    client = Redis.from_url(redis_server.url, socket_timeout=2)
    client.set("k", "v")
    redis_server.flushall()
    assert client.get("k") is None

    redis_server.kill()
    with pytest.raises(RedisConnectionError):
        client.ping()

    redis_server.restart()
    assert client.ping()
    client.close()


@pytest.mark.parametrize("fork", [False, True], ids=["in-process", "forking"])
def test_worker_processes_take_jobs_and_die_on_kill9(
    database_url: str, redis_server: RedisServer, queue_name: str, rq_workers: WorkerPool, fork: bool
) -> None:
    [worker] = rq_workers(1, fork=fork)
    connection = Redis.from_url(redis_server.url)
    # in-process: the job runs in the worker itself; forking: in a work horse, the worker's child
    job = Queue(queue_name, connection=connection).enqueue("os.getppid" if fork else "os.getpid")

    deadline = time.monotonic() + 15
    while job.get_status(refresh=True) != "finished" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.return_value() == worker.pid, rq_workers.logs()

    # A job in progress dies with its worker: the work horse (in a session of its own) goes too.
    busy = Queue(queue_name, connection=connection).enqueue("time.sleep", 60)
    deadline = time.monotonic() + 15
    while busy.get_status(refresh=True) != "started" and time.monotonic() < deadline:
        time.sleep(0.05)
    family = psutil.Process(worker.pid).children(recursive=True)  # RQ's scheduler (and a forking worker's horse)
    worker.kill9()
    assert not worker.alive()
    assert family
    assert not [child for child in family if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]
    connection.close()


def test_every_api_process_of_serve_logs_its_requests_as_json(database_url: str, tmp_path: Path) -> None:
    """``alueturva serve --workers 2``: uvicorn starts each API process afresh; each writes the service's JSON request
    lines (it did not: only the parent had set up logging)."""
    server = ApiServer(service_env(), tmp_path / "api.log", workers=2).start()
    try:
        for _ in range(20):
            assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
    finally:
        server.terminate()
    lines = [json.loads(line) for line in server.log_path.read_text().splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["message"] == "request" and line["route"] == "/healthz"]
    assert len(requests) >= 20 and {line["status"] for line in requests} == {200}


def test_api_server_process_serves_health(database_url: str, tmp_path: Path) -> None:
    server = ApiServer(service_env(), tmp_path / "api.log").start()
    try:
        health = httpx.get(f"{server.url}/healthz", timeout=5)
        assert health.status_code == 200
        assert health.json()["database"] == "ok"
    finally:
        server.terminate()
    assert not server.alive()
