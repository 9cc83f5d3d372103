"""Short user-facing texts in Finnish, Swedish and English (pages, SMS replies, notices) from ``texts.yaml``,
checked whole when loaded; messages are Jinja2 templates. ``{call_duty_officer}`` in a text becomes a sentence with
the duty officer's number when one is configured (``ALUETURVA_DUTY_OFFICER_PHONE``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alueturva.settings import get_settings
from alueturva.texts import TextFile, load_texts

EXERCISE_WORD = {"fi": "HARJOITUS", "sv": "ÖVNING", "en": "EXERCISE"}


def _file() -> TextFile:
    return load_texts(Path(__file__).with_name("texts.yaml"))


def _call(language: str) -> str:
    phone = get_settings().duty_officer_phone
    if phone:
        return _file().text("call_duty_officer_at", language, phone=phone)
    return _file().text("call_duty_officer", language)


def texts(language: str) -> dict[str, str]:
    """The plain texts of ``language`` (Finnish for an unknown one), with the duty officer's number where they say
    to call the duty officer."""
    call = _call(language)
    return {key: text.replace("{call_duty_officer}", call) for key, text in _file().words(language).items()}


def text(key: str, language: str, /, **values: Any) -> str:
    """One text with its placeholders filled in (a plural one chooses its form by ``count``)."""
    return _file().text(key, language, **values, call_duty_officer=_call(language))
