"""Running drills: start (by hand, on a schedule, a recurring plan's run, a phase), end, cancel; evaluators'
observations and ratings during and after. Planning is ``drills.plans``; the alerts a drill sends, ``drills.outbox``.

The use cases the faces call (``start``, ``start_phase``, ``end_by_hand``, ``cancel``, ``observe``, ``rate``) own
their transaction and take no session; the steps the scheduler's tick shares with them (``start_if_planned``,
``start_occurrence``, ``record_missed``, ``end``) take the caller's session and never commit (docs/architecture.md
§2).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from actioncards.activation import activate_for_drill, close_for_drill, send_drill_messages
from alerting.public import close_alert
from alueturva.audit import service as audit
from alueturva.db import get_database, utcnow
from alueturva.errors import Conflict, Invalid, NotFound
from alueturva.i18n import format_time
from alueturva.queue import get_queue
from contacts.compliance import check_compliance
from drills import feedback, outbox, plans, service, texts
from drills.models import Drill, DrillAlertPurpose, DrillKind, DrillObjective, DrillObservation, DrillPhase, DrillState
from drills.schemas import DrillObservationIn, DrillObservationRead, RatingIn
from situation.history import freeze_picture

log = logging.getLogger(__name__)


# Starting --------------------------------------------------------------------------------------------------------


def compliance_summary(session: Session) -> dict[str, Any]:
    """The roster compliance now, in short (kept with a drill when it starts, for the councils' follow-up): what the
    agreement requires, and which of its requirements are not met."""
    report = check_compliance(session)
    missing = [
        {"scope": result.scope, "role": result.role, "status": result.status}
        for result in report.results("required")
        if result.status != "ok"
    ]
    return {"met": report.met, "total": report.total, "complete": report.complete, "not_met": missing}


def _ends_at(drill: Drill, started: datetime) -> datetime | None:
    """When the drill is over by itself: its duration, else when its objectives' last window closes."""
    windows = [float(o.params["minutes"]) for o in drill.objectives if "minutes" in o.params]
    minutes = drill.duration_minutes or (max(windows) if windows else None)
    return None if minutes is None else started + timedelta(minutes=minutes)


def _queue_start_alert(session: Session, drill: Drill, external_sent_at: datetime | None, now: datetime) -> None:
    if drill.kind is DrillKind.external_system_test:
        drill.external_sent_at = external_sent_at or now
        title, message = texts.reach_question(drill, drill.external_sent_at)
        outbox.queue_alert(
            session,
            drill,
            purpose=DrillAlertPurpose.reach_question,
            key=f"drill-{drill.id}-reach",
            title=title,
            message=message,
        )
    elif drill.title:
        outbox.queue_alert(
            session,
            drill,
            purpose=DrillAlertPurpose.alert,
            key=f"drill-{drill.id}-start",
            title=drill.title,
            message=drill.message,
        )


def start(
    *,
    drill_id: int,
    actor: str,
    now: datetime | None = None,
    external_sent_at: datetime | None = None,
    dispatch: bool = True,
) -> Drill:
    """Start a planned drill (once: a second start is refused); starting a recurring plan by hand runs one extra
    occurrence now. The API, the console and the command line start a drill with this one call.

    In one transaction the drill moves to running and its start alert is written to the drill's outbox; after the
    commit the alert is created and sent (``drills.outbox``; ``dispatch=False`` writes an alert of the past, for the
    demo's history). Returns the drill that runs (for a recurring plan, its new occurrence).
    """
    moment = now or utcnow()
    with get_database().session() as session:
        drill = service.get_drill(session, drill_id=drill_id)
        if drill.recurring:
            started = _start_extra_occurrence(session, plan=drill, now=moment, actor=actor)
        else:
            if drill.state is DrillState.planned:
                plans.check_contents(session, drill)
            if not start_if_planned(session, drill=drill, actor=actor, now=moment, external_sent_at=external_sent_at):
                raise Conflict(f"drill {drill_id} is already {drill.state.value}; it starts once")
            started = drill
    outbox.send_pending_alerts(drill_id=started.id, now=now, dispatch=dispatch)
    if dispatch:
        send_drill_messages(drill_id=started.id)  # its action cards' messages
    return started


def _start_extra_occurrence(session: Session, *, plan: Drill, now: datetime, actor: str) -> Drill:
    if plan.state is not DrillState.planned:
        raise Conflict(f"drill {plan.id} is {plan.state.value}; a cancelled plan does not run")
    run = start_occurrence(session, plan=plan, occurrence=now, now=now, missed=False, actor=actor)
    if run is None:
        raise Conflict(f"drill {plan.id} was started at this very moment already")
    return run


def start_if_planned(
    session: Session, *, drill: Drill, actor: str, now: datetime, external_sent_at: datetime | None = None
) -> Drill | None:
    """Move the drill from planned to running and queue its start alert, in the caller's transaction; None when
    another process (a second scheduler, a person) started it first: the conditional UPDATE lets one in."""
    moved = service.move_state(
        session,
        drill=drill,
        from_states=[DrillState.planned],
        state=DrillState.running,
        started_at=now,
        started_by=actor,
        ends_at=_ends_at(drill, now),
    )
    if not moved:
        return None
    drill.compliance = compliance_summary(session)
    _queue_start_alert(session, drill, external_sent_at, now)
    activate_for_drill(session, drill_id=drill.id, keys=drill.action_cards or [], actor=actor, now=now)
    audit.record(
        session,
        actor=actor,
        action="drill.start",
        entity_type="drill",
        entity_id=drill.id,
        details={"start_at": str(drill.start_at), "occurrence_at": str(drill.occurrence_at)},
    )
    return drill


def _copy_of_plan(plan: Drill, occurrence: datetime, now: datetime) -> Drill:
    return Drill(
        name=plan.name,
        kind=plan.kind,
        description=plan.description,
        contact=plan.contact,
        state=DrillState.planned,
        targets=plan.targets,
        channels=plan.channels,
        title=plan.title,
        message=plan.message,
        response_options=plan.response_options,
        escalation=plan.escalation,
        external_system=plan.external_system,
        duration_minutes=plan.duration_minutes,
        action_cards=plan.action_cards,
        series_id=plan.id,
        occurrence_at=occurrence,
        created_by=plan.created_by,
        created_at=now,
        objectives=[DrillObjective(position=o.position, kind=o.kind, params=o.params) for o in plan.objectives],
        phases=[
            DrillPhase(
                number=p.number,
                name=p.name,
                description=p.description,
                title=p.title,
                message=p.message,
                targets=p.targets,
                snapshot=p.snapshot,
            )
            for p in plan.phases
        ],
    )


def start_occurrence(
    session: Session, *, plan: Drill, occurrence: datetime, now: datetime, missed: bool, actor: str = "scheduler"
) -> Drill | None:
    """One run of a recurring plan, made once: the unique (plan, occurrence) pair lets only one scheduler in.
    None when another already made it."""
    run = _copy_of_plan(plan, occurrence, now)
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        return None
    if missed:
        record_missed(session, drill=run, now=now)
        return run
    return start_if_planned(session, drill=run, actor=actor, now=now)


def record_missed(session: Session, *, drill: Drill, now: datetime) -> bool:
    """A start that passed beyond the grace time while no scheduler ran: recorded and shown, never silently lost.
    False when another scheduler recorded it first."""
    due = drill.occurrence_at or drill.start_at
    if not service.move_state(session, drill=drill, from_states=[DrillState.planned], state=DrillState.missed):
        return False
    log.warning("drill start missed", extra={"drill_id": drill.id})
    audit.record(
        session,
        actor="scheduler",
        action="drill.missed",
        entity_type="drill",
        entity_id=drill.id,
        details={"due_at": str(due), "noticed_at": str(now)},
    )
    return True


def start_phase(*, drill_id: int, number: int, actor: str, now: datetime | None = None) -> Drill:
    """Start an exercise's phase, once: its snapshot of the exercise picture is frozen and its alert written to the
    drill's outbox in one transaction; after the commit the alert is created and sent."""
    with get_database().session() as session:
        drill = _start_phase(session, drill_id=drill_id, number=number, actor=actor, now=now or utcnow())
    outbox.send_pending_alerts(drill_id=drill_id)
    return drill


def _start_phase(session: Session, *, drill_id: int, number: int, actor: str, now: datetime) -> Drill:
    drill = service.get_drill(session, drill_id=drill_id)
    if drill.state is not DrillState.running:
        raise Conflict(f"drill {drill_id} is {drill.state.value}; phases start while it runs")
    phase = next((p for p in drill.phases if p.number == number), None)
    if phase is None:
        raise NotFound(f"drill {drill_id} has no phase {number}")
    if phase.started_at is not None:
        raise Conflict(f"phase {number} of drill {drill_id} already started ({format_time(phase.started_at, 'en')})")
    phase.started_at, phase.started_by = now, actor
    if phase.title and phase.message:
        outbox.queue_alert(
            session,
            drill,
            purpose=DrillAlertPurpose.alert,
            key=f"drill-{drill.id}-phase-{number}",
            title=phase.title,
            message=phase.message,
            targets=phase.targets,
            phase=number,
        )
    if phase.snapshot:
        label = f"{drill.name}: {phase.number}. {phase.name}"[:200]
        phase.snapshot_id = freeze_picture(session, label=label, actor=actor, now=now, drill_id=drill.id).id
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="drill.phase_start",
        entity_type="drill",
        entity_id=drill_id,
        details={"phase": number, "snapshot_id": phase.snapshot_id},
    )
    return drill


# Ending ----------------------------------------------------------------------------------------------------------


def end(session: Session, *, drill: Drill, actor: str, now: datetime | None = None) -> int:
    """End a running drill in the caller's transaction: its alerts close and their escalation stops. 1 if it ended
    now, 0 if it had already."""
    now = now or utcnow()
    moved = service.move_state(
        session,
        drill=drill,
        from_states=[DrillState.running],
        state=DrillState.ended,
        ended_at=now,
        ended_by=actor,
    )
    if not moved:
        return 0
    for row in service.drill_alerts(session, drill_id=drill.id):
        if row.alert_id is not None:
            close_alert(session, alert_id=row.alert_id, now=now, reason=f"drill {drill.id} ended")
    feedback.request_feedback(session, drill=drill, now=now)
    close_for_drill(session, drill_id=drill.id, actor=actor, now=now)  # its action cards' activations
    audit.record(session, actor=actor, action="drill.end", entity_type="drill", entity_id=drill.id, details={})
    return 1


def end_by_hand(*, drill_id: int, actor: str, now: datetime | None = None) -> Drill:
    """End a running drill now (a person ends it); refused when it is not running."""
    with get_database().session() as session:
        drill = service.get_drill(session, drill_id=drill_id)
        if not end(session, drill=drill, actor=actor, now=now):
            raise Conflict(f"drill {drill_id} is {drill.state.value}; only a running drill ends")
    get_queue().enqueue(feedback.send_feedback_job, job_id=f"drill-{drill_id}-feedback")  # after the commit
    return drill


def cancel(*, drill_id: int, actor: str, now: datetime | None = None) -> Drill:
    """Cancel a planned drill (a recurring plan stops running); a running drill is ended instead."""
    with get_database().session() as session:
        drill = service.get_drill(session, drill_id=drill_id)
        if not service.move_state(
            session,
            drill=drill,
            from_states=[DrillState.planned],
            state=DrillState.cancelled,
            ended_at=now or utcnow(),
            ended_by=actor,
        ):
            raise Conflict(f"drill {drill_id} is {drill.state.value}; only a planned drill can be cancelled")
        audit.record(session, actor=actor, action="drill.cancel", entity_type="drill", entity_id=drill_id, details={})
        return drill


# During the drill ------------------------------------------------------------------------------------------------


def observe(
    *, drill_id: int, payload: DrillObservationIn, actor: str, name: str, now: datetime | None = None
) -> DrillObservationRead:
    """An evaluator's observation, with its time (default now), author and optional phase."""
    with get_database().session() as session:
        observation = _observe(session, drill_id=drill_id, payload=payload, actor=actor, name=name, now=now or utcnow())
        return DrillObservationRead.model_validate(observation, from_attributes=True)


def _observe(
    session: Session, *, drill_id: int, payload: DrillObservationIn, actor: str, name: str, now: datetime
) -> DrillObservation:
    drill = service.get_drill(session, drill_id=drill_id)
    if drill.state in (DrillState.planned, DrillState.cancelled, DrillState.missed):
        raise Conflict(f"drill {drill_id} is {drill.state.value}; observations are recorded during or after it")
    if payload.phase is not None and payload.phase not in {p.number for p in drill.phases}:
        raise Invalid(f"phase: drill {drill_id} has no phase {payload.phase}")
    observation = DrillObservation(
        drill_id=drill_id,
        at=payload.at or now,
        phase=payload.phase,
        author=payload.author or name or actor,
        text=payload.text,
        recorded_by=actor,
        recorded_at=now,
    )
    session.add(observation)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="drill.observe",
        entity_type="drill",
        entity_id=drill_id,
        details={"observation_id": observation.id},
    )
    return observation


def rate(*, drill_id: int, position: int, payload: RatingIn, actor: str) -> Drill:
    """A person's HSEEP rating of a free-text objective."""
    with get_database().session() as session:
        return _rate(session, drill_id=drill_id, position=position, payload=payload, actor=actor)


def _rate(session: Session, *, drill_id: int, position: int, payload: RatingIn, actor: str) -> Drill:
    drill = service.get_drill(session, drill_id=drill_id)
    objective = next((o for o in drill.objectives if o.position == position), None)
    if objective is None:
        raise NotFound(f"drill {drill_id} has no objective {position}")
    if objective.kind != "manual":
        raise Invalid(f"objective {position} is measured by the service ({objective.kind}); only a manual one is rated")
    objective.rating, objective.rating_note = payload.rating, payload.note
    objective.rated_by, objective.rated_at = actor, utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="drill.rate",
        entity_type="drill",
        entity_id=drill_id,
        details={"objective": position, "rating": payload.rating},
    )
    return drill
