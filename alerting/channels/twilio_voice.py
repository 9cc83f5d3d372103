"""Twilio Programmable Voice: calls through the Calls API (the SDK's asyncio client), and what Twilio posts during a
call, signed with ``X-Twilio-Signature`` like SMS webhooks: the request for the call's TwiML when it is answered,
the key pressed in a ``<Gather>``, and status callbacks. A script becomes TwiML ``<Say>`` with the language's voice
(``config/alerting.yaml``), ``<Gather numDigits="1">`` and ``<Hangup>``.

Answering-machine detection runs with ``DetectMessageEnd``: Twilio answers the TwiML request with ``AnsweredBy``
``human``, ``unknown``, ``fax`` or ``machine_end_beep`` / ``_silence`` / ``_other`` once the greeting has ended, so a
short message lands in the voicemail after the beep.
"""

from __future__ import annotations

from collections.abc import Mapping

from twilio.twiml.voice_response import VoiceResponse

from alerting.channels.base import CallEvent, CallScript, Listen, Say, WebhookRefused
from alerting.channels.twilio_client import NAME, delivery_id, in_our_terms, open_client, verify_signature, webhook_url
from alerting.config import alerting_config
from alerting.models import DeliveryState
from alueturva.digits import ascii_int
from alueturva.settings import Settings

# Twilio's call statuses onto ours: placed (sent), answered (delivered, unless a machine answered), ended unanswered
# (undelivered), not placed (failed), stopped before it was answered (cancelled). queued/initiated change nothing.
TWILIO_CALL_STATUSES = {
    "ringing": DeliveryState.sent,
    "in-progress": DeliveryState.delivered,
    "answered": DeliveryState.delivered,
    "completed": DeliveryState.delivered,
    "busy": DeliveryState.undelivered,
    "no-answer": DeliveryState.undelivered,
    "failed": DeliveryState.failed,
    "canceled": DeliveryState.cancelled,
}
MACHINES = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax")
STATUS_EVENTS = ["ringing", "answered", "completed"]
GATHER_TIMEOUT_SECONDS = 6


class TwilioVoiceCaller:
    """One SDK client with one aiohttp connection pool; make it inside the event loop that uses it."""

    def __init__(self, settings: Settings, *, connections: int) -> None:
        self._settings = settings
        self._client, self._http = open_client(settings, connections=connections)
        self._from = settings.twilio_voice_from or settings.twilio_from or ""

    async def place_call(self, *, to: str, delivery_id: int, script: CallScript) -> str:
        """Twilio asks for the script itself when the call is answered (``VoiceWebhooks``), so that it is made from
        what is true then: the person may have acknowledged meanwhile."""
        settings = self._settings
        call = await in_our_terms(
            lambda: self._client.calls.create_async(
                to=to,
                from_=self._from,
                url=webhook_url(settings, "voice", delivery_id),
                method="POST",
                status_callback=webhook_url(settings, "voice/status", delivery_id),
                status_callback_method="POST",
                status_callback_event=STATUS_EVENTS,
                machine_detection="DetectMessageEnd",
                timeout=settings.voice_ring_seconds,
            ),
            reference=f"delivery:{delivery_id}",
        )
        return str(call.sid)

    async def cancel_call(self, *, call_id: str) -> None:
        await in_our_terms(lambda: self._client.calls(call_id).update_async(status="canceled"), reference=call_id)

    async def close(self) -> None:
        await self._http.close()


def _delivery(query: Mapping[str, str]) -> int:
    found = delivery_id(query.get("delivery"))
    if found is None:
        raise WebhookRefused(400, "'delivery' is required: every call's URLs name its delivery")
    return found


def _seconds(raw: str | None) -> int | None:
    number = ascii_int(raw or "")
    return number if number is not None and number < 10**8 else None


class TwilioVoiceWebhooks:
    """What Twilio posts during a call. Without an auth token nothing is Twilio's."""

    name = NAME

    def verify(self, *, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> None:
        verify_signature(url=url, params=params, headers=headers)

    def call_event(self, params: Mapping[str, str], *, query: Mapping[str, str]) -> CallEvent:
        call_sid, status = params.get("CallSid", ""), params.get("CallStatus", "").strip().lower()
        if not call_sid or not status:
            raise WebhookRefused(400, "CallSid and CallStatus are required")
        answered_by = params.get("AnsweredBy") or None
        digits = params.get("Digits")
        return CallEvent(
            call_id=call_sid,
            delivery_id=_delivery(query),
            status=status,
            state=TWILIO_CALL_STATUSES.get(status),
            answered_by=answered_by[:30] if answered_by else None,
            machine=answered_by in MACHINES,
            duration_seconds=_seconds(params.get("CallDuration")),
            error_code=params.get("ErrorCode") or None,
            digits=digits[:20] if digits is not None else None,
        )

    def render(self, script: CallScript, *, gather_url: str) -> tuple[str, str]:
        voices = alerting_config().voices
        response = VoiceResponse()

        def say(target: VoiceResponse, passage: Say) -> None:
            voice = voices[passage.language]
            target.say(passage.text, voice=voice.voice, language=voice.locale)

        for step in script.steps:
            if isinstance(step, Listen):
                gather = response.gather(num_digits=1, action=gather_url, method="POST", timeout=GATHER_TIMEOUT_SECONDS)
                for passage in step.says:
                    say(gather, passage)
            else:
                say(response, step)
        response.hangup()
        return str(response), "application/xml"
