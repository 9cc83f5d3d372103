"""The seam through which the picture knows drills, without this domain importing them.

A decision, an observation or a snapshot made in a drill carries the drill's id: it belongs to that drill's exercise
picture and never changes the real one. Which drills exist and which are running is the drills domain's knowledge;
the application registers a finder for it (``alueturva.app.wiring``). Without one, no drill id is accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from alueturva.errors import Conflict, Invalid


@dataclass(frozen=True)
class Exercise:
    drill_id: int
    name: str
    running: bool


Finder = Callable[[Session, int], Exercise | None]
_finders: list[Finder] = []


def register(finder: Finder) -> None:
    """Look drills up with ``finder`` from now on (registering it again has no effect)."""
    if finder not in _finders:
        _finders.append(finder)


def find(session: Session, drill_id: int) -> Exercise | None:
    for finder in _finders:
        if (exercise := finder(session, drill_id)) is not None:
            return exercise
    return None


def running_exercise(session: Session, drill_id: int) -> Exercise:
    """The running drill ``drill_id``, or a 4xx that says why a change cannot be made in it."""
    exercise = find(session, drill_id)
    if exercise is None:
        raise Invalid(f"drill_id: no drill {drill_id}")
    if not exercise.running:
        raise Conflict(f"drill {drill_id} ({exercise.name}) is not running; exercise changes are made while it runs")
    return exercise


def existing_exercise(session: Session, drill_id: int) -> Exercise:
    exercise = find(session, drill_id)
    if exercise is None:
        raise Invalid(f"drill_id: no drill {drill_id}")
    return exercise
