"""A drill as the API and the command line show it: its contents, schedule, alerts and evaluated objectives."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from sqlalchemy.sql import FromClause

from alueturva.i18n import LANGUAGES
from drills import objectives, service, texts
from drills.cron import schedule_view
from drills.measures import measures
from drills.models import Drill, DrillObjective, DrillPhase
from drills.report.schemas import ObjectiveShown
from drills.report.texts import text
from drills.schemas import (
    DrillAlertRead,
    DrillObservationRead,
    DrillRead,
    DrillSummary,
    ExerciseLevel,
    ObjectiveRead,
    PhaseRead,
)
from drills.texts import DRILL_TEXT_FIELDS, drill_text, drill_texts
from situation.read import decision_read
from situation.service import decisions_of_drill

EXERCISE_LEVEL_FIELDS = {"area", "level", "previous_level", "reason", "decided_by", "decided_at"}


def _in_each_language(drill: Drill, field: str) -> dict[str, str]:
    return {language: drill_text(drill, field, language) for language in LANGUAGES}


def summary(drill: Drill, *, now: datetime) -> DrillSummary:
    return DrillSummary(
        id=drill.id,
        name=drill.name,
        names=_in_each_language(drill, "name"),
        kind=drill.kind.value,
        state=drill.state.value,
        schedule=schedule_view(drill, now=now),
        started_at=drill.started_at,
        ended_at=drill.ended_at,
        series_id=drill.series_id,
    )


def _objective(
    session: Session, drill: Drill, objective: DrillObjective, recipients: FromClause, now: datetime
) -> ObjectiveRead:
    evaluation = objectives.evaluate(session, drill=drill, objective=objective, recipients=recipients, now=now)
    return ObjectiveRead(
        position=objective.position,
        kind=objective.kind,
        description=objectives.describe(objective),
        met=evaluation.met,
        value=evaluation.value,
        final=evaluation.final,
        rating=objective.rating,
        rating_note=objective.rating_note,
        **objective.params,
    )


def objective_shown(objective: ObjectiveRead, language: str) -> ObjectiveShown:
    """An objective as people read it in ``language``: its text, result, figure in words and how it is measured."""
    return ObjectiveShown(
        position=objective.position,
        kind=objective.kind,
        text=objective.description[language],
        met=objective.met,
        met_word=texts.met_word(objective.met, objective.final, language),
        final=objective.final,
        value=objective.value,
        value_text=texts.objective_value(objective.kind, objective.value, language),
        how=text("how", objective.kind, language),
        rating=objective.rating,
        rating_note=objective.rating_note,
        minutes=getattr(objective, "minutes", None),
        percent=getattr(objective, "percent", None),
    )


def phase_read(phase: DrillPhase, *, alert_id: int | None) -> PhaseRead:
    """A phase as it is shown (the API, the drill's page, the report), with the alert it sent."""
    return PhaseRead.model_validate(phase, from_attributes=True).model_copy(update={"alert_id": alert_id})


def drill_read(session: Session, drill: Drill, *, now: datetime, recipients: FromClause | None = None) -> DrillRead:
    """The drill as the API shows it, its objectives evaluated on ``recipients`` (a report's table of them) or on
    what ``drills.measures`` gives."""
    rows = service.drill_alerts(session, drill_id=drill.id)
    measured = recipients if recipients is not None else measures(session, drill).recipients.subquery()
    phase_alerts = {row.phase: row.alert_id for row in rows if row.phase is not None}
    return DrillRead(
        **summary(drill, now=now).model_dump(),
        origin=drill.origin,
        imported=service.imported_from(session, drill_id=drill.id),
        description=drill.description,
        contact=drill.contact,
        versions={field: _in_each_language(drill, field) for field in DRILL_TEXT_FIELDS},
        written=drill_texts(drill),
        targets=drill.targets,
        channels=drill.channels,
        title=drill.title,
        message=drill.message,
        response_options=drill.response_options,
        escalation=drill.escalation,
        external_system=drill.external_system,
        external_sent_at=drill.external_sent_at,
        duration_minutes=drill.duration_minutes,
        occurrence_at=drill.occurrence_at,
        runs=service.runs_of(session, series_id=drill.id) if drill.recurring else [],
        alerts=[row.alert_id for row in rows if row.alert_id is not None],
        sent=[
            DrillAlertRead(alert_id=row.alert_id, purpose=row.purpose.value, phase=row.phase, last_error=row.last_error)
            for row in rows
        ],
        ends_at=drill.ends_at,
        created_by=drill.created_by,
        created_at=drill.created_at,
        started_by=drill.started_by,
        ended_by=drill.ended_by,
        objectives=[_objective(session, drill, objective, measured, now) for objective in drill.objectives],
        phases=[phase_read(phase, alert_id=phase_alerts.get(phase.number)) for phase in drill.phases],
        observations=[
            DrillObservationRead.model_validate(observation, from_attributes=True)
            for observation in service.observations_of(session, drill_id=drill.id)
        ],
        exercise_levels=[
            ExerciseLevel(decision_id=decision.id, **decision.model_dump(include=EXERCISE_LEVEL_FIELDS))
            for decision in map(decision_read, decisions_of_drill(session, drill_id=drill.id))
        ],
        action_cards=drill.action_cards or [],
    )
