"""What an alert says, and its messages rendered from the Jinja2 templates in ``config/templates/`` (one set per
language). A reader gets the version ``alueturva.localized.versions_for`` picks: one language, or Finnish and Swedish
together, each part a whole text in its own language."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from email.message import EmailMessage
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from alerting.config import alerting_config
from alerting.models import Alert
from alerting.texts import texts
from alueturva.config import config_path
from alueturva.localized import LocalizedText, Version
from alueturva.settings import get_settings

# Between the Finnish and the Swedish part of one message.
PART_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class MessageContent:
    """What every message of one alert says, whatever the channel and language."""

    title: LocalizedText
    message: LocalizedText
    exercise: bool
    code: str
    options: tuple[LocalizedText, ...]

    @property
    def languages(self) -> Version:
        return self.title.languages


def localized_field(
    finnish: str, translations: dict[str, dict[str, Any]] | None, field: str, index: int | None = None
) -> LocalizedText:
    """One of an alert's texts in every language: Finnish from its column, the others from ``translations``."""
    others = {
        language: fields[field] if index is None else fields[field][index]
        for language, fields in (translations or {}).items()
    }
    return LocalizedText(fi=finnish, **others)


def alert_content(alert: Alert) -> MessageContent:
    """The alert's texts in every language it has."""
    translations = alert.translations
    return MessageContent(
        title=localized_field(alert.title, translations, "title"),
        message=localized_field(alert.message, translations, "message"),
        exercise=alert.exercise,
        code=alert.short_code,
        options=tuple(
            localized_field(option, translations, "response_options", n)
            for n, option in enumerate(alert.response_options)
        ),
    )


def options_in(response_options: list[str], translations: dict[str, Any] | None, language: str) -> list[str]:
    """An alert's poll answers in ``language`` when it was written in it, otherwise in Finnish."""
    return list((translations or {}).get(language, {}).get("response_options") or response_options)


def translations_of(title: LocalizedText, message: LocalizedText, options: list[LocalizedText]) -> dict[str, Any]:
    """The non-Finnish texts as stored in ``Alert.translations``."""
    return {
        language: {
            "title": title[language],
            "message": message[language],
            "response_options": [option[language] for option in options],
        }
        for language in title.languages
        if language != "fi"
    }


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(config_path("templates"))),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )


def _context(content: MessageContent, kind: str, language: str) -> dict[str, object]:
    """One language's part: the alert's own text in that language and the frame's words in the same language."""
    return {
        "title": content.title[language],
        "message": content.message[language],
        "exercise": content.exercise,
        "code": content.code,
        "options": [option[language] for option in content.options],
        "kind": kind,
        "lang": language,
        "t": texts(language),
    }


def _tidy(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines()).strip()


def render_sms(content: MessageContent, *, kind: str, version: Version) -> str:
    """The SMS of one version: each language's part in full (Finnish, then Swedish)."""
    env = environment()
    parts = (env.get_template(f"{language}/sms.j2").render(_context(content, kind, language)) for language in version)
    return PART_SEPARATOR.join(_tidy(part) for part in parts)


def render_email(content: MessageContent, *, kind: str, version: Version, to: str, ack_url: str) -> EmailMessage:
    """A multipart (text and HTML) message with the headers a well-behaved automatic sender sets."""
    env = environment()
    parts = [{**_context(content, kind, language), "ack_url": ack_url} for language in version]
    subject = " / ".join(_tidy(env.get_template(f"{part['lang']}/email_subject.j2").render(part)) for part in parts)
    text = "\n\n".join(env.get_template(f"{part['lang']}/email.txt.j2").render(part) for part in parts)
    html = env.get_template("email.html.j2").render(parts=parts, lang=version[0], subject=subject)
    message = _headers(subject=subject, to=to)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = ", ".join(version)  # after the body: set_content() drops Content-* headers
    return message


def _headers(*, subject: str, to: str) -> EmailMessage:
    settings = get_settings()
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.email_from
    message["To"] = to
    message["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = email.utils.make_msgid(domain=settings.email_from.rsplit("@", 1)[-1] or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    return message


def render_plain_email(*, subject: str, text: str, to: str, languages: Version) -> EmailMessage:
    """A plain-text notice (the sending operator's summary of who is still silent)."""
    message = _headers(subject=subject, to=to)
    message.set_content(text)
    message["Content-Language"] = ", ".join(languages)
    return message


def check_templates() -> None:
    """Load the alerting configuration and render a sample SMS in every language and the email page, so that a broken
    template or file stops the service at start (``alueturva check-config``) rather than at the first alert."""
    alerting_config()
    sample_text = LocalizedText(fi="t", sv="t", en="t")
    sample = MessageContent(
        title=sample_text, message=sample_text, exercise=True, code="1000", options=(sample_text, sample_text)
    )
    for language in sample_text.languages:
        render_sms(sample, kind="alert", version=(language,))
    environment().get_template("email.html.j2")
