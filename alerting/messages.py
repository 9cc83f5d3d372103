"""Rendering alert messages from the Jinja2 templates in ``config/templates/`` (one set per language)."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from email.message import EmailMessage
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from alerting.texts import texts
from alueturva.config import config_path
from alueturva.i18n import LANGUAGES
from alueturva.settings import get_settings


@dataclass(frozen=True)
class MessageContent:
    """What every message of one alert says, whatever the channel and language."""

    title: str
    message: str
    exercise: bool
    code: str
    options: tuple[str, ...]


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(config_path("templates"))),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )


def _language(language: str) -> str:
    return language if language in LANGUAGES else get_settings().default_language


def _context(content: MessageContent, kind: str, language: str) -> dict[str, object]:
    return {
        "title": content.title,
        "message": content.message,
        "exercise": content.exercise,
        "code": content.code,
        "options": content.options,
        "kind": kind,
        "lang": language,
        "t": texts(language),
    }


def _tidy(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines()).strip()


def render_sms(content: MessageContent, *, kind: str, language: str) -> str:
    language = _language(language)
    template = environment().get_template(f"{language}/sms.j2")
    return _tidy(template.render(_context(content, kind, language)))


def render_email(content: MessageContent, *, kind: str, language: str, to: str, ack_url: str) -> EmailMessage:
    """A multipart (text and HTML) message with the headers a well-behaved automatic sender sets."""
    language = _language(language)
    env = environment()
    context = {**_context(content, kind, language), "ack_url": ack_url}
    subject = _tidy(env.get_template(f"{language}/email_subject.j2").render(context))
    text = env.get_template(f"{language}/email.txt.j2").render(context)
    html = env.get_template("email.html.j2").render({**context, "subject": subject})
    settings = get_settings()
    sender_domain = settings.email_from.rsplit("@", 1)[-1] or "localhost"
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.email_from
    message["To"] = to
    message["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = email.utils.make_msgid(domain=sender_domain)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = language  # after the body: set_content() drops Content-* headers
    return message


def render_plain_email(*, subject: str, text: str, to: str, language: str) -> EmailMessage:
    """A plain-text notice (the sending operator's summary of who is still silent)."""
    settings = get_settings()
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.email_from
    message["To"] = to
    message["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = email.utils.make_msgid(domain=settings.email_from.rsplit("@", 1)[-1] or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message["Content-Language"] = language
    return message
