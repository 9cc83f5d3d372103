"""Channels behind a small protocol (``SmsSender``, ``EmailSender``), chosen by settings.

Only the modules in this package import vendor libraries (``twilio``, ``smtplib``).
"""

from __future__ import annotations

from collections.abc import Mapping

from alerting.channels.base import EmailSender, PermanentSendError, SendError, SmsSender, TransientSendError
from alueturva.settings import get_settings

__all__ = [
    "EmailSender",
    "PermanentSendError",
    "SendError",
    "SmsSender",
    "TransientSendError",
    "email_sender",
    "open_sms_sender",
    "preload",
    "twilio_signature_is_valid",
    "twiml_reply",
]


def open_sms_sender(*, connections: int) -> SmsSender:
    """A new SMS sender for the running event loop (call its ``close()`` when done)."""
    settings = get_settings()
    if settings.sms_backend == "twilio":
        from alerting.channels.twilio_sms import TwilioSmsSender

        return TwilioSmsSender(settings, connections=connections)
    from alerting.channels.console import ConsoleSmsSender

    return ConsoleSmsSender()


def email_sender() -> EmailSender:
    settings = get_settings()
    if settings.email_backend == "smtp":
        from alerting.channels.smtp_email import SmtpEmailSender

        return SmtpEmailSender(settings)
    from alerting.channels.console import ConsoleEmailSender

    return ConsoleEmailSender()


def preload() -> None:
    """Import the configured backends now (a forking worker then starts each job with them in memory)."""
    settings = get_settings()
    if settings.sms_backend == "twilio":
        import twilio.rest.api.v2010.account.message  # noqa: F401  (the SDK loads it lazily on first use)

        import alerting.channels.twilio_sms
    if settings.email_backend == "smtp":
        import alerting.channels.smtp_email  # noqa: F401


def twilio_signature_is_valid(*, url: str, params: Mapping[str, str], signature: str) -> bool:
    """Whether a webhook really comes from Twilio; without a configured auth token nothing is valid."""
    token = get_settings().twilio_auth_token
    if token is None or not signature:
        return False
    from alerting.channels.twilio_sms import signature_is_valid

    return signature_is_valid(auth_token=token.get_secret_value(), url=url, params=params, signature=signature)


def twiml_reply(text: str | None) -> str:
    from alerting.channels.twilio_sms import twiml_reply as reply

    return reply(text)
