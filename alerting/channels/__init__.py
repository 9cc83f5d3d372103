"""Channels behind a small protocol (``SmsSender``, ``EmailSender``, ``SmsWebhooks``), chosen by settings.

Only the modules in this package import vendor libraries (``twilio``, ``smtplib``).
"""

from __future__ import annotations

from alerting.channels.base import (
    CallEvent,
    CallScript,
    EmailSender,
    InboundSms,
    Listen,
    PermanentSendError,
    Say,
    SendError,
    SmsSender,
    SmsWebhooks,
    StatusReport,
    TransientSendError,
    VoiceCaller,
    VoiceWebhooks,
    WebhookRefused,
)
from alueturva.settings import get_settings

__all__ = [
    "CallEvent",
    "CallScript",
    "EmailSender",
    "InboundSms",
    "Listen",
    "PermanentSendError",
    "Say",
    "SendError",
    "SmsSender",
    "SmsWebhooks",
    "StatusReport",
    "TransientSendError",
    "VoiceCaller",
    "VoiceWebhooks",
    "WebhookRefused",
    "email_sender",
    "open_sms_sender",
    "open_voice_caller",
    "preload",
    "sms_webhooks",
    "voice_webhooks",
]


def open_sms_sender(*, connections: int) -> SmsSender:
    """A new SMS sender for the running event loop (call its ``close()`` when done)."""
    settings = get_settings()
    if settings.sms_backend == "twilio":
        from alerting.channels.twilio_sms import TwilioSmsSender

        return TwilioSmsSender(settings, connections=connections)
    from alerting.channels.console import ConsoleSmsSender

    return ConsoleSmsSender()


def open_voice_caller(*, connections: int) -> VoiceCaller:
    """A new voice caller for the running event loop (call its ``close()`` when done)."""
    settings = get_settings()
    if settings.voice_backend == "twilio":
        from alerting.channels.twilio_voice import TwilioVoiceCaller

        return TwilioVoiceCaller(settings, connections=connections)
    from alerting.channels.console import ConsoleVoiceCaller

    return ConsoleVoiceCaller()


def email_sender() -> EmailSender:
    settings = get_settings()
    if settings.email_backend == "smtp":
        from alerting.channels.smtp_email import SmtpEmailSender

        return SmtpEmailSender(settings)
    from alerting.channels.console import ConsoleEmailSender

    return ConsoleEmailSender()


def sms_webhooks() -> list[SmsWebhooks]:
    """The providers whose webhooks are served. Twilio's always are (its auth token decides what is accepted),
    so that replies to messages sent before a change of SMS backend are still heard."""
    from alerting.channels.twilio_sms import TwilioWebhooks

    return [TwilioWebhooks()]


def voice_webhooks() -> list[VoiceWebhooks]:
    """The voice providers whose webhooks are served (Twilio's always: its auth token decides what is accepted)."""
    from alerting.channels.twilio_voice import TwilioVoiceWebhooks

    return [TwilioVoiceWebhooks()]


def preload() -> None:
    """Import the configured backends now (a forking worker then starts each job with them in memory)."""
    settings = get_settings()
    if settings.sms_backend == "twilio":
        import twilio.rest.api.v2010.account.message

        import alerting.channels.twilio_sms
    if settings.voice_backend == "twilio":
        import twilio.rest.api.v2010.account.call  # noqa: F401

        import alerting.channels.twilio_voice
    if settings.email_backend == "smtp":
        import alerting.channels.smtp_email  # noqa: F401
