"""Provider webhooks: SMS delivery status callbacks and inbound SMS at ``/webhooks/{provider}/status`` and
``/webhooks/{provider}/sms``; during a call, the request for what it says when answered
(``/webhooks/{provider}/voice``), the key pressed (``…/voice/gather``) and its status callbacks (``…/voice/status``).
The provider (``alerting.channels``) checks that the request is its own, signed over ``PUBLIC_BASE_URL`` + path
(+ query), and reads its fields; otherwise 403 and nothing is recorded."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import anyio
from fastapi import APIRouter, HTTPException, Request, Response, status

from alerting import calls, inbound
from alerting.channels import (
    CallEvent,
    CallScript,
    SmsWebhooks,
    VoiceWebhooks,
    WebhookRefused,
    sms_webhooks,
    voice_webhooks,
)
from alerting.texts import texts
from alueturva.digits import ascii_int
from alueturva.errors import Conflict, error_responses
from alueturva.settings import get_settings
from alueturva.throttling import client_address, retry_after_header, throttle_for, webhook_failures

log = logging.getLogger(__name__)
T = TypeVar("T")
FORM = "application/x-www-form-urlencoded"

# Webhooks arrive in bursts (everyone answers at once). A few database transactions at a time, each on a pooled
# connection, get through a burst faster than one thread and one new connection per waiting request.
DATABASE_SLOTS = 4
_slots: anyio.CapacityLimiter | None = None


def _database_slots() -> anyio.CapacityLimiter:
    global _slots
    if _slots is None:
        _slots = anyio.CapacityLimiter(DATABASE_SLOTS)
    return _slots


async def in_database_slot(func: Callable[..., T], **kwargs: object) -> T:
    """Run ``func(**kwargs)`` in a worker thread, at most ``DATABASE_SLOTS`` at a time in this process."""
    return await anyio.to_thread.run_sync(partial(func, **kwargs), limiter=_database_slots())


def public_url(request: Request) -> str:
    """The URL the provider signed: our public base URL, never the Host header the request claims."""
    url = get_settings().public_base_url.rstrip("/") + request.url.path
    return f"{url}?{request.url.query}" if request.url.query else url


def _refused(exc: WebhookRefused, request: Request) -> HTTPException:
    if exc.status_code == status.HTTP_403_FORBIDDEN:
        log.warning("webhook refused: not the provider's", extra={"path": request.url.path})
    return HTTPException(exc.status_code, detail=exc.detail)


MAX_FORM_FIELDS = 100  # Twilio sends about twenty


async def _form_fields(request: Request) -> dict[str, str]:
    """The request's urlencoded fields (the last value of a repeated one), read with ``urllib.parse``: Starlette's
    streaming form parser cost a tenth of an SMS acknowledgement's CPU (``bench.acks --profile``). A body that is
    not a form has no fields, and so no valid signature; the body's size is capped before this (``BodyLimits``)."""
    if request.headers.get("content-type", "").partition(";")[0].strip().lower() != FORM:
        return {}
    body = (await request.body()).decode("utf-8", "replace")
    try:
        return dict(parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS))
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=f"more than {MAX_FORM_FIELDS} form fields") from exc


async def _verified_form(provider: SmsWebhooks | VoiceWebhooks, request: Request) -> dict[str, str]:
    """The provider's fields, once its signature holds. Bad signatures are counted per client address
    (``ALUETURVA_WEBHOOK_FAILURES_PER_MINUTE``); past the limit they are answered 429. A good signature always goes
    through: Twilio's addresses carry every Twilio customer's webhooks, an attacker's too."""
    params = await _form_fields(request)
    try:
        provider.verify(url=public_url(request), params=params, headers=request.headers)
    except WebhookRefused as exc:
        if exc.status_code == status.HTTP_403_FORBIDDEN:
            throttle, address = throttle_for(request.app.state), client_address(request.scope)
            if (wait := await throttle.hit(webhook_failures(), address)) is not None:
                detail = "too many requests with a bad signature"
                raise HTTPException(429, detail=detail, headers=retry_after_header(wait)) from exc
        raise _refused(exc, request) from exc
    return params


# 400: a field the provider always sends is missing; 403: not the provider's signature; 409: a replayed message
WEBHOOK_ERRORS = error_responses(400, 403, 409)


def provider_router(provider: SmsWebhooks) -> APIRouter:
    router = APIRouter(prefix=f"/webhooks/{provider.name}", tags=["webhooks"], responses=WEBHOOK_ERRORS)

    @router.post("/status", status_code=status.HTTP_204_NO_CONTENT)
    async def status_callback(request: Request) -> Response:
        """A delivery status report: applied only if it moves the delivery forward."""
        params = await _verified_form(provider, request)
        try:
            report = provider.status_report(params, query=request.query_params)
        except WebhookRefused as exc:
            raise _refused(exc, request) from exc
        if report is not None:
            await in_database_slot(inbound.apply_status_report, report=report)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post("/sms", response_class=Response, responses={200: {"content": {"application/xml": {}}}})
    async def inbound_sms(request: Request) -> Response:
        """An SMS reply: an acknowledgement, a poll answer or something else; answered in the provider's reply
        format, never an error (except a refused request, or a replayed message id: 409 and nothing recorded)."""
        params = await _verified_form(provider, request)
        try:
            message = provider.inbound_sms(params)
        except WebhookRefused as exc:
            raise _refused(exc, request) from exc
        try:
            result = await in_database_slot(inbound.handle_inbound_sms, message=message)
            reply = result.reply
        except Conflict:
            raise
        except Exception as exc:
            log.exception("inbound sms not processed", extra={"error": type(exc).__name__})
            reply = texts(get_settings().default_language)["reply_error"]
        content, media_type = provider.reply(reply)
        return Response(content=content, media_type=media_type)

    return router


async def _call_event(provider: VoiceWebhooks, request: Request) -> CallEvent:
    params = await _verified_form(provider, request)
    try:
        return provider.call_event(params, query=request.query_params)
    except WebhookRefused as exc:
        raise _refused(exc, request) from exc


MAX_WRONG_KEYS = 9


def _wrong_keys(raw: str | None) -> int:
    """Our own count of keys that were not a choice, carried in the gather URL (signed with it by the provider)."""
    if raw is None:
        return 0
    count = ascii_int(raw)
    if count is None or count > MAX_WRONG_KEYS:
        raise HTTPException(400, detail="'wrong' must be a small count")
    return count


def _script(provider: VoiceWebhooks, script: CallScript, event: CallEvent, *, wrong_keys: int) -> Response:
    """The provider's answer that runs ``script``; a key pressed goes to our gather webhook for the same delivery."""
    base = f"{get_settings().public_base_url.rstrip('/')}/webhooks/{provider.name}/voice/gather"
    query = f"delivery={event.delivery_id}" + (f"&wrong={wrong_keys}" if wrong_keys else "")
    content, media_type = provider.render(script, gather_url=f"{base}?{query}")
    return Response(content=content, media_type=media_type)


VOICE_ERRORS = error_responses(400, 403, 404)
SCRIPT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/xml": {}}, "description": "What the call says next"}
}


def voice_router(provider: VoiceWebhooks) -> APIRouter:
    router = APIRouter(prefix=f"/webhooks/{provider.name}/voice", tags=["webhooks"], responses=VOICE_ERRORS)

    @router.post("", response_class=Response, responses=SCRIPT)
    async def call_answered(request: Request) -> Response:
        """A call was answered: what it says (the alert for a person, a short message for an answering machine)."""
        event = await _call_event(provider, request)
        script = await in_database_slot(calls.answered, event=event)
        return _script(provider, script, event, wrong_keys=0)

    @router.post("/gather", response_class=Response, responses=SCRIPT)
    async def key_pressed(request: Request) -> Response:
        """A key pressed during a call: a choice acknowledges (and answers the poll); another is told apart."""
        wrong_keys = _wrong_keys(request.query_params.get("wrong"))
        event = await _call_event(provider, request)
        script = await in_database_slot(calls.key_pressed, event=event, wrong_keys=wrong_keys)
        return _script(provider, script, event, wrong_keys=wrong_keys + 1)

    @router.post("/status", status_code=status.HTTP_204_NO_CONTENT)
    async def call_status(request: Request) -> Response:
        """A call's progress and end (answered, busy, not answered, failed) and duration: only ever forward."""
        event = await _call_event(provider, request)
        await in_database_slot(calls.apply_call_status, event=event)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router


def routers() -> list[APIRouter]:
    return [provider_router(provider) for provider in sms_webhooks()] + [
        voice_router(provider) for provider in voice_webhooks()
    ]
