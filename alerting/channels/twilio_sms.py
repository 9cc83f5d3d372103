"""Twilio: sending SMS through the ``twilio`` SDK, validating webhook signatures and answering with TwiML."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from alerting.channels.base import PermanentSendError, TransientSendError
from alueturva.settings import Settings

log = logging.getLogger(__name__)
# The SDK logs requests at INFO; keep message parameters (numbers) out of our logs.
logging.getLogger("twilio").setLevel(logging.WARNING)

TWILIO_API_HOST = "api.twilio.com"
RATE_LIMITED_CODE = 20429


class RedirectingHttpClient(TwilioHttpClient):
    """Sends the SDK's requests to ``base_url`` instead of https://api.twilio.com (tests and benchmarks)."""

    def __init__(self, base_url: str, *, timeout: float) -> None:
        super().__init__(timeout=timeout)
        parts = urlsplit(base_url)
        self._scheme, self._netloc, self._prefix = parts.scheme, parts.netloc, parts.path.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        if parts.hostname == TWILIO_API_HOST:
            url = urlunsplit((self._scheme, self._netloc, self._prefix + parts.path, parts.query, ""))
        return super().request(method, url, *args, **kwargs)


def _is_transient(status: int, code: int | None) -> bool:
    return status == 429 or code == RATE_LIMITED_CODE or status >= 500 or status in (408, 0)


class TwilioSmsSender:
    """One SDK client (one HTTP connection pool); make one per thread."""

    def __init__(self, settings: Settings) -> None:
        assert settings.twilio_account_sid and settings.twilio_auth_token
        timeout = settings.twilio_timeout_seconds
        http_client = (
            RedirectingHttpClient(settings.twilio_base_url, timeout=timeout)
            if settings.twilio_base_url
            else TwilioHttpClient(timeout=timeout)
        )
        self._client = Client(
            settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(), http_client=http_client
        )
        self._sender: dict[str, str] = (
            {"messaging_service_sid": settings.twilio_messaging_service_sid}
            if settings.twilio_messaging_service_sid
            else {"from_": settings.twilio_from or ""}
        )

    def send_sms(self, *, to: str, body: str, status_callback: str | None, reference: str) -> str:
        options: dict[str, Any] = dict(self._sender)
        if status_callback:
            options["status_callback"] = status_callback
        try:
            message = self._client.messages.create(to=to, body=body, **options)
        except TwilioRestException as exc:
            code = str(exc.code or exc.status)
            text = (exc.msg or "")[:400]
            log.info("twilio refused", extra={"reference": reference, "status": exc.status, "code": code})
            if _is_transient(int(exc.status or 0), exc.code):
                raise TransientSendError(code, text) from exc
            raise PermanentSendError(code, text) from exc
        except requests.Timeout as exc:
            raise TransientSendError("timeout", "the provider did not answer in time") from exc
        except requests.ConnectionError as exc:
            raise TransientSendError("connection", "could not connect to the provider") from exc
        return str(message.sid)


def signature_is_valid(*, auth_token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    return RequestValidator(auth_token).validate(url, dict(params), signature)


def twiml_reply(text: str | None) -> str:
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)
