"""Twilio webhooks: delivery status callbacks and inbound SMS. Every request must carry a valid
``X-Twilio-Signature`` computed over ``PUBLIC_BASE_URL`` + path (+ query); otherwise 403 and nothing is recorded."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import anyio
from fastapi import APIRouter, HTTPException, Request, Response, status

from alerting import inbound
from alerting.channels import twilio_signature_is_valid, twiml_reply
from alerting.texts import texts
from alueturva.errors import Conflict
from alueturva.settings import get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")

router = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"])

TWIML = "application/xml"

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
    """The URL Twilio signed: our public base URL, never the Host header the request claims."""
    url = get_settings().public_base_url.rstrip("/") + request.url.path
    return f"{url}?{request.url.query}" if request.url.query else url


async def signed_form(request: Request) -> dict[str, str]:
    form = await request.form()
    params = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    signature = request.headers.get("X-Twilio-Signature", "")
    if not twilio_signature_is_valid(url=public_url(request), params=params, signature=signature):
        log.warning("webhook refused: bad signature", extra={"path": request.url.path})
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="missing or invalid X-Twilio-Signature")
    return params


def _delivery_id(request: Request) -> int | None:
    raw = request.query_params.get("delivery")
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="'delivery' must be a delivery id")
    return int(raw)


@router.post("/status", status_code=status.HTTP_204_NO_CONTENT)
async def status_callback(request: Request) -> Response:
    """A delivery status report: applied only if it moves the delivery forward."""
    params = await signed_form(request)
    delivery_id = _delivery_id(request)
    message_sid, message_status = params.get("MessageSid", ""), params.get("MessageStatus", "")
    if not message_sid or not message_status:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="MessageSid and MessageStatus are required")
    await in_database_slot(
        inbound.apply_status_callback,
        delivery_id=delivery_id,
        message_sid=message_sid,
        status=message_status,
        error_code=params.get("ErrorCode") or None,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/sms")
async def inbound_sms(request: Request) -> Response:
    """An SMS reply: an acknowledgement, a poll answer or something else; answered with TwiML, never an error
    (except a refused signature, or a replayed message id: 409 and nothing recorded)."""
    params = await signed_form(request)
    message_sid = params.get("MessageSid", "")
    if not message_sid:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="MessageSid is required")
    try:
        result = await in_database_slot(
            inbound.handle_inbound_sms,
            message_sid=message_sid,
            sender=params.get("From", ""),
            body=params.get("Body", ""),
        )
        reply = result.reply
    except Conflict:
        raise
    except Exception as exc:
        log.exception("inbound sms not processed", extra={"error": type(exc).__name__})
        reply = texts(get_settings().default_language)["reply_error"]
    return Response(content=twiml_reply(reply), media_type=TWIML)
