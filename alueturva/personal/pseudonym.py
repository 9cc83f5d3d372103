"""Stable pseudonyms: what replaces a person's name, number, address and free texts past retention or on erasure.

A pseudonym is stored in one form, language-free: ``#`` and sixteen hex digits of an HMAC (keyed with the secret key)
of who it stands for, so the same person always gets the same pseudonym and distinct people distinct ones (figures
that count people by what a log says of them stay the same). People read it in their language: "Henkilö 7f3a",
"Person 7f3a" (the first four digits).
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from alueturva.settings import get_settings
from alueturva.texts import load_texts

PREFIX = "#"
DIGITS = 16


def pseudonym_of(subject: str) -> str:
    """The stored pseudonym of ``subject`` (``person:12``, an actor, what a log says of someone)."""
    key = get_settings().secret_key.get_secret_value().encode()
    digest = hmac.new(key, f"alueturva-pseudonym:{subject}".encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:DIGITS]


def person_pseudonym(person_id: int) -> str:
    return pseudonym_of(f"person:{person_id}")


def is_pseudonym(value: str | None) -> bool:
    return value is not None and len(value) == DIGITS + 1 and value.startswith(PREFIX)


def shown(value: str, language: str) -> str:
    """A stored name as a person reads it: a pseudonym in the reader's language ("Henkilö 7f3a"), else as it is."""
    if not is_pseudonym(value):
        return value
    texts = load_texts(Path(__file__).with_name("texts.yaml"))
    return texts.text("pseudonym", language, code=value[1:5])


def readable(value: str | None) -> str | None:
    """A stored number or address, or None where a pseudonym has replaced it (nobody can call a pseudonym)."""
    return None if is_pseudonym(value) else value
