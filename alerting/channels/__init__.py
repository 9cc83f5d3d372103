"""Channels behind a small protocol (``SmsSender``, ``EmailSender``), chosen by settings.

Only the modules in this package import vendor libraries (``twilio``, ``smtplib``).
"""

from __future__ import annotations

import threading
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
    "sms_sender",
    "twilio_signature_is_valid",
    "twiml_reply",
]

_local = threading.local()


def sms_sender() -> SmsSender:
    """This thread's SMS sender (the Twilio SDK client holds a connection pool that is not shared between threads)."""
    settings = get_settings()
    key = (settings.sms_backend, settings.twilio_account_sid, settings.twilio_base_url, settings.twilio_from)
    cached = getattr(_local, "sms", None)
    if cached is None or cached[0] != key:
        sender: SmsSender
        if settings.sms_backend == "twilio":
            from alerting.channels.twilio_sms import TwilioSmsSender

            sender = TwilioSmsSender(settings)
        else:
            from alerting.channels.console import ConsoleSmsSender

            sender = ConsoleSmsSender()
        cached = (key, sender)
        _local.sms = cached
    return cached[1]


def email_sender() -> EmailSender:
    settings = get_settings()
    if settings.email_backend == "smtp":
        from alerting.channels.smtp_email import SmtpEmailSender

        return SmtpEmailSender(settings)
    from alerting.channels.console import ConsoleEmailSender

    return ConsoleEmailSender()


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
