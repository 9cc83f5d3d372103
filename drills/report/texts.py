"""The report's and the follow-up's words in Finnish, Swedish and English (``texts.yaml``, by section, checked
whole when loaded by ``alueturva.texts``)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from alueturva.texts import TextFile, load_texts

# For each compared figure of the report: whether a higher value is better (None: neither).
HIGHER_IS_BETTER = {
    "targeted": None,
    "acknowledged_share": True,
    "delivered_share": True,
    "ack_median": False,
    "ack_p90": False,
    "objectives_met": True,
}


TEXTS = Path(__file__).with_name("texts.yaml")


def _file() -> TextFile:
    return load_texts(TEXTS, sections=True)


@cache
def words(section: str, language: str) -> Mapping[str, str]:
    """A section's plain words in ``language``: ``words("report", "sv")["title"]``. Read once, and shared (read-only):
    a report of 10,000 people looks a word up for each of its 50,000 events."""
    return MappingProxyType(_file().section(section, language))


def text(section: str, key: str, language: str, /, **values: Any) -> str:
    """One text of a section, placeholders filled in (a plural one chooses its form by ``count``)."""
    return _file().text(f"{section}.{key}", language, **values)


CALL_OUTCOMES = ("no-answer", "busy", "machine", "failed")  # what the provider reports of a call that reached no one


def call_outcome(code: str | None, language: str) -> str | None:
    """A call's outcome in words ("ei vastattu"); None for any other code (a provider's numeric error code)."""
    if code is None or code not in CALL_OUTCOMES:
        return None
    return text("report", f"call_{code.replace('-', '_')}", language)
