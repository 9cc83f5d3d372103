"""Whole numbers as people and clients write them: ASCII digits only.

``str.isdigit()`` also accepts ``²`` (which ``int()`` then refuses: an HTTP 500), and ``int()`` reads ``١`` and
``１`` as 1; none of them belongs in an id, an order or an option number. Everything that reads a number from text
goes through ``ascii_int``."""

from __future__ import annotations

import re

ASCII_NUMBER = re.compile(r"[0-9]{1,18}")  # at most 18 digits: no huge number reaches int() or a database


def ascii_int(text: str) -> int | None:
    """The whole number ``text`` writes in ASCII digits (space around it allowed), or None."""
    stripped = text.strip()
    return int(stripped) if ASCII_NUMBER.fullmatch(stripped) else None


def is_ascii_number(text: str) -> bool:
    return ascii_int(text) is not None
