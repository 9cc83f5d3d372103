"""SMTP email. 4xx replies, time-outs and refused connections are transient; 5xx replies are permanent."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from alerting.channels.base import PermanentSendError, SendError, TransientSendError
from alueturva.settings import Settings

log = logging.getLogger(__name__)


def _error_for(code: int, text: bytes | str) -> SendError:
    message = (text.decode(errors="replace") if isinstance(text, bytes) else str(text))[:400]
    error_class = TransientSendError if 400 <= code < 500 else PermanentSendError
    return error_class(str(code), message)


class SmtpEmailSender:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds)
        try:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user and settings.smtp_password:
                smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send_email(self, *, message: EmailMessage, reference: str) -> str:
        try:
            with self._connect() as smtp:
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _error_for(code, text) from exc
        except smtplib.SMTPResponseException as exc:
            raise _error_for(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as exc:
            raise TransientSendError("connection", "the mail server closed the connection") from exc
        except TimeoutError as exc:
            raise TransientSendError("timeout", "the mail server did not answer in time") from exc
        except OSError as exc:
            raise TransientSendError("connection", f"could not connect to the mail server ({exc.strerror})") from exc
        if refused:
            code, text = next(iter(refused.values()))
            raise _error_for(code, text)
        log.info("email accepted", extra={"reference": reference})
        return str(message["Message-ID"])
