"""The seam through which the kernel knows what personal data each domain holds (docs/personal-data.md).

A domain describes each kind of row it keeps about people as a ``Holder`` in its own ``personal_data.py``; the
application registers them (``alueturva.app.personal``). Retention, a person's data export and erasure then go
through every registered holder, so a domain built later adds its rows in a few lines, and the kernel imports no
domain.

A holder's functions take the caller's session and never commit: retention runs them in its own short transactions,
one batch at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# ids of rows past retention and not yet pseudonymised, after ``after_id``, at most ``limit``, in id order
ExpiredIds = Callable[..., Sequence[int]]
# pseudonymise (or, for rows no report counts, delete) the given rows; returns how many changed
Pseudonymise = Callable[..., int]
# everything the holder keeps about one person (a ``Subject``), as rows of plain values: text, numbers, booleans,
# times, or a text per language ``{"fi", "sv", "en"}``; each key has its label in ``alueturva/personal/texts.yaml``
Export = Callable[..., list[dict[str, Any]]]
# pseudonymise every row about one person; returns how many changed
Erase = Callable[..., int]


@dataclass(frozen=True)
class Subject:
    """The person a data export or an erasure is about, as the roster knows them (an account or a log may know them
    by their number or address only)."""

    person_id: int
    mobile: str | None
    email: str | None


@dataclass(frozen=True)
class Retention:
    """How retention finds a holder's rows past their time and pseudonymises them: ``kind`` is a key of
    ``retention`` in ``config/personal_data.yaml``."""

    kind: str
    expired_ids: ExpiredIds  # (session, *, before: datetime, after_id: int, limit: int)
    pseudonymise: Pseudonymise  # (session, *, ids: Sequence[int])


@dataclass(frozen=True)
class Holder:
    """One kind of row holding personal data: its name (``alerting.deliveries``), and what retention (None: kept while
    current, as rosters are), a person's data export and their erasure do with it."""

    name: str
    retention: Retention | None = None
    export: Export | None = None  # (session, *, subject: Subject)
    erase: Erase | None = None  # (session, *, subject: Subject)


_holders: dict[str, Holder] = {}


def register(*holders: Holder) -> None:
    """Register holders (idempotent by name: every process wires the domains once more at start)."""
    for holder in holders:
        _holders[holder.name] = holder


def registered() -> list[Holder]:
    return list(_holders.values())


def rows_changed(result: object) -> int:
    """How many rows an UPDATE or DELETE changed."""
    return int(getattr(result, "rowcount", 0) or 0)
