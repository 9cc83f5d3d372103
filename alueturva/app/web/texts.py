"""Every word the web console shows, in Finnish, Swedish and English, from ``texts.yaml`` (one entry per text, all
three languages required and checked whole by ``alueturva.texts``: a missing or cut translation stops the service at
start, not on a page at 03:00). Terms come from docs/glossary.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alueturva.texts import TextFile, load_texts

TEXTS_FILE = Path(__file__).with_name("texts.yaml")


def text_file() -> TextFile:
    return load_texts(TEXTS_FILE)


def texts(language: str) -> dict[str, str]:
    """Every plain text of the console in ``language``, by key."""
    return text_file().words(language)


def text(key: str, language: str, /, **values: Any) -> str:
    """One text in ``language``, placeholders filled in; a plural text chooses its form by ``count``."""
    return text_file().text(key, language, **values)
