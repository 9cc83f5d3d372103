"""Evaluating a drill's objectives from what its alerts' recipients did, added up in the database.

The measured people are the recipients the drill's alerts targeted (its alert and reach question; not the deputies
escalation added, nor the alerts of exercise decisions), or for a drill imported from a log the people it shows
being alerted (``drills.measures``), each person once, from their first alert, as the report counts them. Each
one's time is counted from their own alert.
An objective is ``final`` once its window has passed (or the drill has ended): until then a criterion that can still
be reached is ``met: null``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import FromClause

from actioncards.measures import tasks_done_within
from alueturva.i18n import LANGUAGES
from contacts.catalogue import area_names
from contacts.service import organisation_names
from drills.models import Drill, DrillObjective, DrillState
from drills.texts import objective_description

MET_RATINGS = frozenset({"P", "S"})  # HSEEP: performed without or with some challenges


@dataclass(frozen=True)
class Evaluation:
    met: bool | None
    value: Any
    final: bool


def describe(objective: DrillObjective) -> dict[str, str]:
    """The objective in words, per language (a manual objective is its own text, in each language it was written
    in; Finnish where it has no version of that language)."""
    if objective.kind == "manual":
        written = objective.params["text"]
        versions = written if isinstance(written, dict) else {"fi": str(written)}
        return {language: versions.get(language) or versions["fi"] for language in LANGUAGES}
    return {language: objective_description(objective.kind, objective.params, language) for language in LANGUAGES}


def window_closes_at(drill: Drill, objective: DrillObjective) -> datetime | None:
    minutes = objective.params.get("minutes")
    if drill.started_at is None or minutes is None:
        return None
    return drill.started_at + timedelta(minutes=float(minutes))


def _is_final(drill: Drill, objective: DrillObjective, now: datetime) -> bool:
    if drill.state in (DrillState.ended, DrillState.cancelled, DrillState.missed):
        return True
    closes = window_closes_at(drill, objective)
    return closes is not None and now >= closes


def _measured_person(rows: FromClause) -> ColumnElement[bool]:
    """A measured person's first alert (the figures count each person once, deputies not)."""
    return and_(rows.c.deputy.is_(False), rows.c.first_of_person == 1)


def _within(rows: FromClause, minutes: float) -> ColumnElement[bool]:
    return and_(rows.c.acknowledged_at.is_not(None), rows.c.ack_seconds <= minutes * 60)


def _ack_share(session: Session, rows: FromClause, params: dict[str, Any], final: bool) -> Evaluation:
    minutes, percent = float(params["minutes"]), float(params["percent"])
    targeted, within = session.execute(
        select(func.count(), func.count().filter(_within(rows, minutes))).where(_measured_person(rows))
    ).one()
    share = round(100.0 * within / targeted, 1) if targeted else 0.0
    reached = targeted > 0 and share >= percent
    value = {"targeted": targeted, "acknowledged_within": within, "percent": share}
    return Evaluation(True if reached else (False if final else None), value, final)


def _first_ack_by(session: Session, rows: FromClause, minutes: float, key: str) -> dict[Any, bool]:
    """For each ``key`` (organisation or area) of the measured recipients: whether anyone of it (a deputy too)
    acknowledged within the window."""
    group = rows.c[key]
    result = session.execute(
        select(
            group,
            func.count().filter(rows.c.deputy.is_(False)),
            func.count().filter(_within(rows, minutes)),
        ).group_by(group)
    ).all()
    return {value: bool(acks) for value, measured, acks in result if measured and value is not None}


def _coverage(reached: dict[Any, bool], names: dict[Any, dict[str, str]], final: bool) -> Evaluation:
    """Whether everyone of each group acknowledged in time; who did not, named in each language (Finnish first, as
    ``missing``; ``missing_names`` per language, from the one source of names)."""
    missing_keys = sorted((key for key, ok in reached.items() if not ok), key=lambda key: names[key]["fi"])
    missing_names = {language: [names[key][language] for key in missing_keys] for language in LANGUAGES}
    value = {
        "targeted": len(reached),
        "reached": len(reached) - len(missing_keys),
        "missing": missing_names["fi"],
        "missing_names": missing_names,
    }
    met = bool(reached) and not missing_keys
    return Evaluation(True if met else (False if final else None), value, final)


def _every_organisation(session: Session, rows: FromClause, params: dict[str, Any], final: bool) -> Evaluation:
    """Every organisation of ours that was targeted (someone only named in an imported log's text is not one)."""
    reached = _first_ack_by(session, rows, float(params["minutes"]), "organisation_id")
    return _coverage(reached, organisation_names(session), final)


def _every_area(session: Session, rows: FromClause, params: dict[str, Any], final: bool) -> Evaluation:
    """Every management area targeted (the county and the council are in no area)."""
    reached = _first_ack_by(session, rows, float(params["minutes"]), "area")
    return _coverage(reached, area_names(), final)


def _max_unreachable(session: Session, rows: FromClause, params: dict[str, Any], final: bool) -> Evaluation:
    """Unreachable: not acknowledged, and no message reached the provider nor is still on its way."""
    unreachable = (
        session.scalar(
            select(func.count()).where(
                _measured_person(rows),
                rows.c.acknowledged_at.is_(None),
                rows.c.reached == 0,
                rows.c.pending == 0,
            )
        )
        or 0
    )
    # A late acknowledgement (a link, an operator) can still lower the count: judged when the drill ends.
    met = unreachable <= int(params["count"]) if final else None
    return Evaluation(met, {"unreachable": unreachable}, final)


def _manual(drill: Drill, objective: DrillObjective) -> Evaluation:
    """A person's rating; unrated, it stays open while the drill runs and is final (not rated) once it has ended."""
    if objective.rating is None:
        return Evaluation(None, None, drill.state in (DrillState.ended, DrillState.cancelled, DrillState.missed))
    return Evaluation(objective.rating in MET_RATINGS, objective.rating, True)


def _tasks_done(session: Session, drill: Drill, params: dict[str, Any], final: bool) -> Evaluation:
    """The share of the drill's action card tasks done within the minutes of their activation; once reached it
    stays met (a task done in time stays so)."""
    count = tasks_done_within(session, drill_id=drill.id, minutes=float(params["minutes"]))
    percent = 100.0 * count.done_within / count.total if count.total else 0.0
    met = count.total > 0 and percent >= float(params["percent"])
    value = {"done_within": count.done_within, "tasks": count.total, "percent": round(percent, 1)}
    return Evaluation(True if met else (False if final else None), value, final)


_EVALUATORS = {
    "ack_share_within": _ack_share,
    "every_organisation_within": _every_organisation,
    "every_area_within": _every_area,
    "max_unreachable": _max_unreachable,
}


def evaluate(
    session: Session, *, drill: Drill, objective: DrillObjective, recipients: FromClause, now: datetime
) -> Evaluation:
    """The objective's state now: met or not (None while it can still be reached, or before a person rated it).
    ``recipients``: the drill's recipients as ``drills.measures`` gives them (a subquery, or a report's table)."""
    if objective.kind == "manual":
        return _manual(drill, objective)
    if drill.started_at is None:
        return Evaluation(None, None, drill.state is not DrillState.planned)
    if objective.kind == "tasks_done_within":
        return _tasks_done(session, drill, objective.params, _is_final(drill, objective, now))
    return _EVALUATORS[objective.kind](session, recipients, objective.params, _is_final(drill, objective, now))
