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
# everything the holder keeps about one person, as JSON-ready rows
Export = Callable[..., list[dict[str, Any]]]
# pseudonymise every row about one person; returns how many changed
Erase = Callable[..., int]


@dataclass(frozen=True)
class Holder:
    """One kind of row holding personal data: its name (``alerting.deliveries``), its retention kind (a key of
    ``retention`` in ``config/personal_data.yaml``) and what retention, a data export and erasure do with it."""

    name: str
    kind: str
    expired_ids: ExpiredIds  # (session, *, before: datetime, after_id: int, limit: int)
    pseudonymise: Pseudonymise  # (session, *, ids: Sequence[int])
    export: Export | None = None  # (session, *, person_id: int)
    erase: Erase | None = None  # (session, *, person_id: int)


_holders: dict[str, Holder] = {}


def register(*holders: Holder) -> None:
    """Register holders (idempotent by name: every process wires the domains once more at start)."""
    for holder in holders:
        _holders[holder.name] = holder


def registered() -> list[Holder]:
    return list(_holders.values())
