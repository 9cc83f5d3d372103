"""A loopback HTTP server speaking the Twilio Messages and Calls APIs, for tests and benchmarks.

It answers what the ``twilio`` SDK (v9) sends for ``client.messages.create(...)``:
``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` with an ``application/x-www-form-urlencoded`` body
(``To``, ``From`` or ``MessagingServiceSid``, ``Body``, ``StatusCallback``) and HTTP basic auth
(account sid : auth token). Success is HTTP 201 with the message resource JSON; errors use Twilio's legacy
JSON error shape (``code``, ``message``, ``more_info``, ``status``), which the SDK turns into
``TwilioRestException``.

Calls (``POST /2010-04-01/Accounts/{AccountSid}/Calls.json``, and ``…/Calls/{CallSid}.json`` with ``Status=canceled``
to stop one) then go on like Twilio's: the phone at the number behaves as ``phones`` says (``Phone``: answered by a
person, a machine or a fax, busy, not answered, failed; the keys it presses), and the fake fetches the call's TwiML
from its ``Url`` (with ``AnsweredBy`` when answering-machine detection was asked for), says its ``<Say>``s, posts a
key to a ``<Gather>``'s action and follows what that answers, and posts the status callbacks asked for, every
request signed with ``X-Twilio-Signature``. ``webhook_http`` lets a test deliver them through a FastAPI
``TestClient`` instead of the network. Every API request's form is kept (``api_requests``) for checking against
Twilio's OpenAPI description.

It runs on aiohttp in a background thread (``FakeTwilio``), or as its own process for benchmarks
(``python -m loopback.twilio_server --port P --latency 0.05``, driven by ``FakeTwilioProcess``), so that
a 50 ms answer latency costs nothing but a timer. A few ``/_fake/...`` routes expose the recorded state and
the knobs to a process that is not the server's own.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import subprocess
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from aiohttp import web
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from loopback.ports import free_port, wait_for_port
from loopback.processes import terminate

API_VERSION = "2010-04-01"
TWILIO_API_BASE = "https://api.twilio.com"
DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_AUTH_TOKEN = "test-auth-token"

_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")

_ERRORS = {
    400: (21211, "The 'To' number {to} is not a valid phone number."),
    401: (20003, "Authentication Error - invalid username"),
    404: (20404, "The requested resource was not found"),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}


@dataclass(frozen=True)
class Phone:
    """How the phone at a number behaves when called. ``answer``: ``human``, ``unknown``, ``machine_end_beep`` (or
    another ``machine_…``) or ``fax`` pick up; ``busy``, ``no-answer`` and ``failed`` do not. ``keys``: pressed one
    per ``<Gather>``, in order. ``ring``: seconds before it answers (or gives up); ``duration``: the call's length
    in the final status callback."""

    answer: str = "human"
    keys: str = ""
    ring: float = 0.05
    duration: int = 42


ANSWERED = ("human", "unknown", "fax", "machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other")
SIP_CODES = {"busy": "486", "no-answer": "487", "failed": "404"}


def count_segments(body: str) -> int:
    """SMS segments as Twilio counts them: GSM-7 (160, or 153 per part) or UCS-2 (70, or 67 per part)."""
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in body):
        septets = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in body)
        return 1 if septets <= 160 else -(-septets // 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


def error_body(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment, usegmt=False).replace("-0000", "+0000")


class FakeTwilio:
    """The Twilio Messages API on a loopback port, in a background thread. Also a context manager.

    ``messages`` holds every accepted message, ``requests`` every POST (to, body, received_at, answered_at,
    status, sid when accepted, and the client's address and port: its TCP connection), ``request_count`` counts
    every POST and ``in_flight`` the POSTs received but not yet answered.
    """

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        latency: float = 0.0,
        fail_ratio: float = 0.0,
        fail_statuses: list[int] | None = None,
        invalid_numbers: set[str] | None = None,
        port: int | None = None,
        seed: int | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.latency = latency
        self.fail_ratio = fail_ratio
        self.fail_statuses: list[int] = list(fail_statuses or [429, 500])
        self.invalid_numbers: set[str] = set(invalid_numbers or ())
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.messages: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self.phones: dict[str, Phone] = {}
        self.api_requests: list[dict[str, Any]] = []  # every API request: method, path, form pairs
        self.webhook_http: httpx.Client | None = None
        # Twilio may report a call it stopped (status callback "canceled") before it answers the request that
        # stopped it: with this set, the answer waits until that report has been posted.
        self.cancel_reported_first = False
        self._call_threads = ThreadPoolExecutor(max_workers=8, thread_name_prefix="fake-twilio-call")
        self._stopping = False
        self.request_count = 0
        self.in_flight = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._startup_error: BaseException | None = None

    # --- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        self._started.clear()
        self._thread = threading.Thread(target=self._serve, name=f"fake-twilio-{self.port}", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout=10):
            raise RuntimeError("fake Twilio server did not start within 10 s")
        if self._startup_error is not None:
            raise RuntimeError(f"fake Twilio server failed to start: {self._startup_error}")
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._stopping = True
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._loop = self._thread = None
        self._call_threads.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self._runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", self.port, backlog=1024, reuse_address=True)
            loop.run_until_complete(site.start())
        except BaseException as exc:
            self._startup_error = exc
            self._started.set()
            loop.close()
            return
        self._started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the ``python -m`` entry point)."""
        self._serve()

    # --- HTTP -----------------------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post(f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json", self._create_message)
        app.router.add_post(f"/{API_VERSION}/Accounts/{{account_sid}}/Calls.json", self._create_call)
        app.router.add_post(f"/{API_VERSION}/Accounts/{{account_sid}}/Calls/{{call_sid}}.json", self._update_call)
        app.router.add_get("/_fake/state", self._state)
        app.router.add_get("/_fake/stats", self._stats)
        app.router.add_post("/_fake/config", self._configure)
        app.router.add_post("/_fake/reset", self._reset_route)
        return app

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == self.account_sid and password == self.auth_token

    async def _form(self, request: web.Request) -> dict[str, str]:
        """The request's form (kept whole, repeated keys too, in ``api_requests``), its last value per key."""
        form = await request.post()
        pairs = [(key, str(value)) for key, value in form.items()]
        with self._lock:
            self.api_requests.append({"method": request.method, "path": request.path, "pairs": pairs})
        return dict(pairs)

    async def _create_message(self, request: web.Request) -> web.Response:
        received_at = time.time()
        fields = await self._form(request)
        record: dict[str, Any] = {
            "to": fields.get("To"),
            "body": fields.get("Body"),
            "received_at": received_at,
            "status": None,
            "answered_at": None,
            "sid": None,
            "connection": request.transport.get_extra_info("peername") if request.transport else None,
        }
        with self._lock:
            self.request_count += 1
            self.in_flight += 1
            self.requests.append(record)
        # Shielded: like Twilio, the fake goes on with a request whose client went away (a killed worker), so
        # the message is still sent; only the answer is lost.
        status, payload = 500, error_body(500, *_ERRORS[500])
        try:
            status, payload = await asyncio.shield(self._answer(request, fields))
        finally:
            with self._lock:
                self.in_flight -= 1
                record["status"] = status
                record["answered_at"] = time.time()
                record["sid"] = payload.get("sid") if status == 201 else None
        return web.json_response(payload, status=status)

    async def _answer(self, request: web.Request, fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if not self._authorised(request):
            return 401, error_body(401, *_ERRORS[401])
        if request.match_info["account_sid"] != self.account_sid:
            return 404, error_body(404, *_ERRORS[404])
        problem = self._missing_field(fields)
        if problem is not None:
            return 400, problem
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if self.fail_ratio > 0 and self._random.random() < self.fail_ratio:
            status = self._random.choice(self.fail_statuses)
            code, message = _ERRORS.get(status, (status, "Error"))
            return status, error_body(status, code, message.format(to=fields["To"]))
        if fields["To"] in self.invalid_numbers:
            code, message = _ERRORS[400]
            return 400, error_body(400, code, message.format(to=fields["To"]))
        return 201, self._accept(fields)

    @staticmethod
    def _missing_field(fields: dict[str, str]) -> dict[str, Any] | None:
        if not fields.get("To"):
            return error_body(400, 21604, "A 'To' phone number is required.")
        if not (fields.get("From") or fields.get("MessagingServiceSid")):
            return error_body(400, 21603, "A 'From' phone number is required.")
        if not fields.get("Body"):
            return error_body(400, 21602, "Message body is required.")
        return None

    def _accept(self, fields: dict[str, str]) -> dict[str, Any]:
        sid = "SM" + uuid.uuid4().hex
        now = datetime.now(UTC)
        message = {
            "sid": sid,
            "to": fields["To"],
            "from": fields.get("From"),
            "messaging_service_sid": fields.get("MessagingServiceSid"),
            "body": fields["Body"],
            "status_callback": fields.get("StatusCallback"),
            "received_at": time.time(),
        }
        with self._lock:
            self.messages.append(message)
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": fields["Body"],
            "date_created": _rfc2822(now),
            "date_sent": None,
            "date_updated": _rfc2822(now),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": fields.get("From"),
            "messaging_service_sid": fields.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": str(count_segments(fields["Body"])),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if fields.get("MessagingServiceSid") and not fields.get("From") else "queued",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": fields["To"],
            "uri": uri,
        }

    # --- calls ------------------------------------------------------------------------------------------------

    async def _create_call(self, request: web.Request) -> web.Response:
        fields = await self._form(request)
        with self._lock:
            self.request_count += 1
        if not self._authorised(request):
            return web.json_response(error_body(401, *_ERRORS[401]), status=401)
        if request.match_info["account_sid"] != self.account_sid:
            return web.json_response(error_body(404, *_ERRORS[404]), status=404)
        for field, code in (("To", 21201), ("From", 21213), ("Url", 21205)):
            if not fields.get(field):
                return web.json_response(error_body(400, code, f"No '{field}' was given."), status=400)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if self.fail_ratio > 0 and self._random.random() < self.fail_ratio:
            status = self._random.choice(self.fail_statuses)
            code, message = _ERRORS.get(status, (status, "Error"))
            return web.json_response(error_body(status, code, message.format(to=fields["To"])), status=status)
        if fields["To"] in self.invalid_numbers:
            code, message = _ERRORS[400]
            return web.json_response(error_body(400, code, message.format(to=fields["To"])), status=400)
        call = self._place(fields, (await request.post()).getall("StatusCallbackEvent", []))
        asyncio.get_running_loop().run_in_executor(self._call_threads, self._run_call, call)
        return web.json_response(self._call_resource(call), status=201)

    def _place(self, fields: dict[str, str], events: list[Any]) -> dict[str, Any]:
        call = {
            "sid": "CA" + uuid.uuid4().hex,
            "received_at": time.time(),
            "to": fields["To"],
            "from": fields["From"],
            "url": fields["Url"],
            "status_callback": fields.get("StatusCallback"),
            "events": [str(event) for event in events],
            "machine_detection": fields.get("MachineDetection"),
            "timeout": fields.get("Timeout"),
            "status": "queued",
            "cancel_requested": False,
            "cancel_reported": False,  # the "canceled" status callback posted
            "twiml": [],
            "spoken": [],
            "keys": [],
            "webhooks": [],  # (url, HTTP status) of every request the fake made to the application
            "done": False,
        }
        with self._lock:
            self.calls.append(call)
        return call

    def _call_resource(self, call: dict[str, Any]) -> dict[str, Any]:
        now = _rfc2822(datetime.now(UTC))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{call['sid']}.json"
        return {
            "account_sid": self.account_sid,
            "answered_by": None,
            "api_version": API_VERSION,
            "date_created": now,
            "date_updated": now,
            "direction": "outbound-api",
            "duration": None,
            "from": call["from"],
            "sid": call["sid"],
            "status": call["status"],
            "to": call["to"],
            "uri": uri,
        }

    async def _update_call(self, request: web.Request) -> web.Response:
        fields = await self._form(request)
        if not self._authorised(request):
            return web.json_response(error_body(401, *_ERRORS[401]), status=401)
        try:
            call = self.call(request.match_info["call_sid"])
        except KeyError:
            return web.json_response(error_body(404, *_ERRORS[404]), status=404)
        if fields.get("Status") == "canceled":
            with self._lock:
                call["cancel_requested"] = True
            deadline = time.monotonic() + 10
            while self.cancel_reported_first and not call["cancel_reported"] and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        return web.json_response(self._call_resource(call), status=200)

    def _call_params(self, call: dict[str, Any], status: str) -> dict[str, str]:
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": call["sid"],
            "CallStatus": status,
            "Called": call["to"],
            "Caller": call["from"],
            "Direction": "outbound-api",
            "From": call["from"],
            "To": call["to"],
        }
        if call.get("answered_by"):
            params["AnsweredBy"] = call["answered_by"]
        return params

    def _post(self, call: dict[str, Any], url: str, params: dict[str, str]) -> httpx.Response:
        """A signed POST to the application, as Twilio makes it."""
        headers = self.signed(url, params)
        if self.webhook_http is not None:
            response = self.webhook_http.post(url, data=params, headers=headers)
        else:
            response = httpx.post(url, data=params, headers=headers, timeout=15)
        with self._lock:
            call["webhooks"].append((url, response.status_code))
        return response

    def _callback(self, call: dict[str, Any], status: str, **extra: str) -> None:
        with self._lock:
            call["status"] = status
        event = {"in-progress": "answered"}.get(status, status)
        final = status in ("completed", "busy", "no-answer", "failed", "canceled")
        if call["status_callback"] and (final or event in call["events"]):
            self._post(call, call["status_callback"], {**self._call_params(call, status), **extra})

    def _run_call(self, call: dict[str, Any]) -> None:
        """The call as Twilio runs it: ring, then not answered, or answered and its TwiML run, then completed."""
        try:
            phone = self.phones.get(call["to"], Phone())
            self._callback(call, "ringing")
            rings_until = time.monotonic() + phone.ring
            while time.monotonic() < rings_until and not call["cancel_requested"] and not self._stopping:
                time.sleep(0.01)
            if call["cancel_requested"] or self._stopping:
                self._callback(call, "canceled")
                with self._lock:
                    call["cancel_reported"] = True
                return
            if phone.answer not in ANSWERED:
                sip = SIP_CODES.get(phone.answer, "")
                self._callback(call, phone.answer, **({"SipResponseCode": sip} if sip else {}))
                return
            if call["machine_detection"]:
                call["answered_by"] = phone.answer
            self._callback(call, "in-progress")
            document: httpx.Response | None = self._post(call, call["url"], self._call_params(call, "in-progress"))
            keys = list(phone.keys)
            while document is not None:
                document = self._run_twiml(call, document, keys)
            self._callback(call, "completed", CallDuration=str(phone.duration))
        finally:
            call["done"] = True

    def _run_twiml(self, call: dict[str, Any], response: httpx.Response, keys: list[str]) -> httpx.Response | None:
        """Say, gather (pressing the phone's next key, if any: then what the action answers comes next), hang up."""
        if response.status_code != 200:
            return None
        with self._lock:
            call["twiml"].append(response.text)
        for verb in ElementTree.fromstring(response.text):
            if verb.tag == "Say":
                call["spoken"].append(verb.text or "")
            elif verb.tag == "Gather":
                call["spoken"].extend(say.text or "" for say in verb.iter("Say"))
                if keys:
                    key = keys.pop(0)
                    call["keys"].append(key)
                    params = {**self._call_params(call, "in-progress"), "Digits": key, "FinishedOnKey": ""}
                    return self._post(call, verb.attrib["action"], params)
            elif verb.tag == "Hangup":
                return None
        return None

    def call(self, sid: str) -> dict[str, Any]:
        with self._lock:
            for call in self.calls:
                if call["sid"] == sid:
                    return call
        raise KeyError(f"no call {sid}")

    def calls_to(self, number: str) -> list[dict[str, Any]]:
        with self._lock:
            return [call for call in self.calls if call["to"] == number]

    def calls_done(self) -> bool:
        """Every call has run its course (rung out, or answered, spoken and completed)."""
        with self._lock:
            return all(call["done"] for call in self.calls)

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot())

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _configure(self, request: web.Request) -> web.Response:
        self.configure(**(await request.json()))
        return web.json_response({"ok": True})

    async def _reset_route(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    # --- state and knobs ------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "request_count": self.request_count,
                "in_flight": self.in_flight,
                "messages": list(self.messages),
                "requests": [dict(r) for r in self.requests],
            }

    def stats(self) -> dict[str, Any]:
        """Counts and the first and last request times (``time.time()``), cheap enough to poll."""
        with self._lock:
            received = [r["received_at"] for r in self.requests]
            return {
                "request_count": self.request_count,
                "in_flight": self.in_flight,
                "accepted": len(self.messages),
                "distinct_to": len({m["to"] for m in self.messages}),
                "first_request_at": min(received, default=None),
                "last_request_at": max(received, default=None),
            }

    def configure(
        self,
        *,
        latency: float | None = None,
        fail_ratio: float | None = None,
        fail_statuses: list[int] | None = None,
        invalid_numbers: list[str] | None = None,
    ) -> None:
        if latency is not None:
            self.latency = float(latency)
        if fail_ratio is not None:
            self.fail_ratio = float(fail_ratio)
        if fail_statuses is not None:
            self.fail_statuses = [int(s) for s in fail_statuses]
        if invalid_numbers is not None:
            self.invalid_numbers = set(invalid_numbers)

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.requests.clear()
            self.calls.clear()
            self.api_requests.clear()
            self.request_count = 0

    # --- callbacks Twilio makes ------------------------------------------------------------------------

    def message(self, sid: str) -> dict[str, Any]:
        with self._lock:
            for message in self.messages:
                if message["sid"] == sid:
                    return message
        raise KeyError(f"no accepted message {sid}")

    def signed(self, url: str, params: Mapping[str, str]) -> dict[str, str]:
        """The ``X-Twilio-Signature`` header Twilio would send with ``params`` POSTed to ``url``."""
        return {"X-Twilio-Signature": RequestValidator(self.auth_token).compute_signature(url, dict(params))}

    def send_status_callback(
        self,
        sid: str,
        status: str,
        *,
        error_code: str | None = None,
        http: httpx.Client | None = None,
    ) -> int:
        """POST a Twilio-signed status callback for message ``sid`` to its StatusCallback URL.

        ``http`` lets a test deliver it through a FastAPI ``TestClient`` (an ``httpx.Client``) instead of the
        network; the URL and signature are the same either way.
        """
        message = self.message(sid)
        url = message["status_callback"]
        if not url:
            raise ValueError(f"message {sid} was sent without a StatusCallback")
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "From": message["from"] or "",
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": message["to"],
        }
        if message["messaging_service_sid"]:
            params["MessagingServiceSid"] = message["messaging_service_sid"]
        if error_code is not None:
            params["ErrorCode"] = error_code
        return post_form(url, params, self.signed(url, params), http=http)

    def inbound_sms_params(self, *, from_: str, body: str, to: str = "+358401234567") -> dict[str, str]:
        """The form fields of an inbound SMS webhook as Twilio sends them."""
        sid = "SM" + uuid.uuid4().hex
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "Body": body,
            "From": from_,
            "MessageSid": sid,
            "NumMedia": "0",
            "NumSegments": str(count_segments(body)),
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "To": to,
        }

    def send_inbound_sms(
        self, url: str, *, from_: str, body: str, to: str = "+358401234567", http: httpx.Client | None = None
    ) -> int:
        """POST a Twilio-signed inbound SMS (a reply from a phone) to ``url``; the HTTP status received."""
        params = self.inbound_sms_params(from_=from_, body=body, to=to)
        return post_form(url, params, self.signed(url, params), http=http)


class LoopbackHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, with ``https://api.twilio.com`` rewritten to a loopback base URL."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loopback_base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        return super().request(method, url.replace(TWILIO_API_BASE, self.loopback_base_url, 1), *args, **kwargs)


def loopback_client(
    base_url: str, account_sid: str = DEFAULT_ACCOUNT_SID, auth_token: str = DEFAULT_AUTH_TOKEN
) -> Client:
    """A real ``twilio.rest.Client`` that talks to the fake at ``base_url``."""
    return Client(account_sid, auth_token, http_client=LoopbackHttpClient(base_url))


def post_form(url: str, params: Mapping[str, str], headers: Mapping[str, str], *, http: httpx.Client | None) -> int:
    if http is not None:
        return http.post(url, data=dict(params), headers=dict(headers)).status_code
    return httpx.post(url, data=dict(params), headers=dict(headers), timeout=10).status_code


class FakeTwilioProcess:
    """The fake in its own process (benchmarks): the same knobs and state, over its ``/_fake`` routes."""

    def __init__(self, *, latency: float = 0.0, log_path: Path | None = None) -> None:
        self.account_sid = DEFAULT_ACCOUNT_SID
        self.auth_token = DEFAULT_AUTH_TOKEN
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.latency = latency
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> FakeTwilioProcess:
        log = open(self._log_path, "ab") if self._log_path else subprocess.DEVNULL  # noqa: SIM115
        command = [sys.executable, "-m", "loopback.twilio_server", "--port", str(self.port)]
        command += ["--latency", str(self.latency)]
        self._process = subprocess.Popen(command, stdout=log, stderr=log, cwd=Path(__file__).parents[1])
        wait_for_port(self.port, timeout=15, process=self._process)
        return self

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def stop(self) -> None:
        terminate(self._process)
        self._process = None

    def __enter__(self) -> FakeTwilioProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def snapshot(self) -> dict[str, Any]:
        response = httpx.get(f"{self.base_url}/_fake/state", timeout=30)
        response.raise_for_status()
        return dict(response.json())

    def stats(self) -> dict[str, Any]:
        response = httpx.get(f"{self.base_url}/_fake/stats", timeout=30)
        response.raise_for_status()
        return dict(response.json())

    def configure(self, **knobs: Any) -> None:
        httpx.post(f"{self.base_url}/_fake/config", json=knobs, timeout=10).raise_for_status()

    def reset(self) -> None:
        httpx.post(f"{self.base_url}/_fake/reset", timeout=10).raise_for_status()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A loopback Twilio Messages API for tests and benchmarks")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to wait before answering")
    parser.add_argument("--fail-ratio", type=float, default=0.0)
    args = parser.parse_args(argv)
    FakeTwilio(port=args.port, latency=args.latency, fail_ratio=args.fail_ratio).serve_forever()


if __name__ == "__main__":
    main()
