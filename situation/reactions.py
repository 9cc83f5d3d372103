"""The seam through which a readiness decision sets other work in motion, without this domain importing it.

A decision records one ``Reaction`` row per matching rule of ``config/readiness.yaml``. After the decision is
committed, every handler registered here is called with a ``ReactionEvent`` (the application registers, for example,
the alerting domain's handler in ``alueturva.wiring``). A handler that raises leaves the reaction pending; it is tried
again later with back-off, so a handler must be idempotent: ``reaction_id`` is a stable idempotency key.
Register handlers at import time of the application wiring, so every process that dispatches (API, scheduler) has them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ReactionEvent:
    reaction_id: int
    decision_id: int
    rule: str
    action: str
    area: str
    area_names: dict[str, str]
    level: str
    level_names: dict[str, str]
    previous_level: str
    change: str
    groups: tuple[str, ...]
    reason: str
    decided_by: str

    @property
    def idempotency_key(self) -> str:
        return f"readiness-reaction-{self.reaction_id}"


Handler = Callable[[ReactionEvent], None]
_handlers: list[Handler] = []


def register(handler: Handler) -> None:
    """Call ``handler`` for every reaction from now on (registering the same handler twice has no effect)."""
    if handler not in _handlers:
        _handlers.append(handler)


def unregister(handler: Handler) -> None:
    if handler in _handlers:
        _handlers.remove(handler)


def handlers() -> tuple[Handler, ...]:
    return tuple(_handlers)
