"""Planning drills: what a drill is and when it runs, checked in full before anything is stored (a 4xx names the
field that is wrong)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from actioncards.activation import cards_not_in_use
from alerting.public import Targets, count_targeted
from alueturva.audit import service as audit
from alueturva.db import get_database, utcnow
from alueturva.errors import Conflict, Invalid
from alueturva.i18n import format_time
from alueturva.localized import LocalizedText
from drills import outbox, service, texts
from drills.cron import next_occurrence
from drills.models import Drill, DrillKind, DrillObjective, DrillPhase, DrillState
from drills.schemas import DrillCreate, DrillUpdate, ObjectiveIn, PhaseIn, ScheduleAt
from drills.texts import DRILL_TEXT_FIELDS

ALWAYS_EDITABLE = frozenset({"name", "description", "contact"})
# An exercise run elsewhere gets its objectives after the fact, measured against its log.
IMPORTED_EDITABLE = ALWAYS_EDITABLE | {"objectives"}


def _check_targets(session: Session, targets: Targets, field: str = "targets") -> None:
    try:
        people = count_targeted(session, targets=targets)
    except Invalid as exc:
        raise Invalid(f"{field}: {str(exc.detail).removeprefix('targets: ')}") from exc
    if not people:
        raise Invalid(f"{field}: the targets resolve to nobody (no active person matches them)")


def _check_schedule(drill: Drill, now: datetime) -> None:
    if drill.start_at is not None and drill.start_at <= now:
        when = format_time(drill.start_at, "en")
        raise Invalid(f"schedule.at: {when} (Finnish time) is in the past; plan a start in the future")
    if drill.cron is not None:
        try:
            upcoming = next_occurrence(drill.cron, now)
        except ValueError as exc:
            raise Invalid(f"schedule.cron: '{drill.cron}' is not a cron expression ({exc})") from exc
        if upcoming is None:
            raise Invalid(f"schedule.cron: '{drill.cron}' never fires")


def objective_rows(objectives: list[ObjectiveIn]) -> list[DrillObjective]:
    """A manual objective's text is kept per language (``{"fi": …, "sv": …}``)."""
    return [
        DrillObjective(
            position=position, kind=objective.kind, params=objective.model_dump(exclude={"kind"}, exclude_none=True)
        )
        for position, objective in enumerate(objectives, 1)
    ]


def _phase_rows(phases: list[PhaseIn]) -> list[DrillPhase]:
    return [
        DrillPhase(
            number=number,
            name=phase.name,
            description=phase.description,
            title=phase.title.model_dump(exclude_none=True) if phase.title else None,
            message=phase.message.model_dump(exclude_none=True) if phase.message else None,
            targets=phase.targets.model_dump() if phase.targets else None,
            snapshot=phase.snapshot,
        )
        for number, phase in enumerate(phases, 1)
    ]


def _apply_words(drill: Drill, field: str, text: LocalizedText | None) -> None:
    """A drill's own word: the Finnish version in its column, the Swedish and English ones in ``translations``."""
    setattr(drill, field, text.fi if text is not None else ("" if field == "description" else None))
    translations = {key: value for key, value in (drill.translations or {}).items() if key != field}
    others: dict[str, str] = (
        {language: text[language] for language in text.languages if language != "fi"} if text else {}
    )
    if others:
        translations[field] = others
    drill.translations = translations or None


def _apply_fields(drill: Drill, request: DrillCreate | DrillUpdate) -> None:
    """Copy the request's fields that were given onto the drill (a create gives all)."""
    given = request.model_fields_set
    for field in DRILL_TEXT_FIELDS:
        if field in given or isinstance(request, DrillCreate):
            _apply_words(drill, field, getattr(request, field))
    for field in ("channels", "external_system", "duration_minutes"):
        if field in given:
            setattr(drill, field, getattr(request, field))
    if "targets" in given and request.targets is not None:
        drill.targets = request.targets.model_dump()
    for field in ("title", "message"):
        if field in given:
            value = getattr(request, field)
            setattr(drill, field, value.model_dump(exclude_none=True) if value is not None else {})
    if "response_options" in given:
        drill.response_options = [option.model_dump(exclude_none=True) for option in request.response_options or []]
    if "escalation" in given:
        drill.escalation = request.escalation.model_dump(exclude_unset=True) if request.escalation else None
    if "objectives" in given:
        drill.objectives = objective_rows(list(request.objectives or []))
    if "phases" in given:
        drill.phases = _phase_rows(list(request.phases or []))
    if "action_cards" in given:
        drill.action_cards = list(dict.fromkeys(request.action_cards or [])) or None
    if "feedback_questions" in given:
        questions = request.feedback_questions
        drill.feedback_questions = (
            [{"kind": q.kind, "text": q.text.model_dump(exclude_none=True)} for q in questions] if questions else None
        )
    if "schedule" in given:
        schedule = request.schedule
        drill.start_at = schedule.at if isinstance(schedule, ScheduleAt) else None
        drill.cron = getattr(schedule, "cron", None)


def _fill_kind_defaults(drill: Drill) -> None:
    """A management-group test polls who is coming; an external-system test asks whether its message arrived."""
    if drill.kind is DrillKind.management_group_test and not drill.response_options:
        drill.response_options = texts.coming_options()
    if drill.kind is DrillKind.external_system_test:
        drill.external_system = drill.external_system or texts.DEFAULT_EXTERNAL_SYSTEM
        if not drill.response_options:
            drill.response_options = texts.received_options()


def _check_action_cards(session: Session, drill: Drill) -> None:
    unknown = cards_not_in_use(session, keys=drill.action_cards or [])
    if unknown:
        raise Invalid(f"action_cards: no action card in use with the key {', '.join(repr(key) for key in unknown)}")


def check_contents(session: Session, drill: Drill) -> None:
    _check_action_cards(session, drill)
    outbox.check_alert_texts(drill)
    _check_targets(session, Targets.model_validate(drill.targets))
    for phase in drill.phases:
        if phase.targets is not None:
            _check_targets(session, Targets.model_validate(phase.targets), f"phases.{phase.number}.targets")


def plan(*, request: DrillCreate, actor: str, now: datetime | None = None) -> Drill:
    """A planned drill (or a recurring plan), in a transaction of its own; refused with a 4xx naming the field, and
    nothing stored, when wrong."""
    with get_database().session() as session:
        return _plan(session, request=request, actor=actor, now=now or utcnow())


def _plan(session: Session, *, request: DrillCreate, actor: str, now: datetime) -> Drill:
    drill = Drill(kind=request.kind, state=DrillState.planned, created_by=actor, created_at=now, title={}, message={})
    _apply_fields(drill, request)
    _fill_kind_defaults(drill)
    check_contents(session, drill)
    _check_schedule(drill, now)
    session.add(drill)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="drill.plan",
        entity_type="drill",
        entity_id=drill.id,
        details={
            "kind": drill.kind.value,
            "start_at": str(drill.start_at) if drill.start_at else None,
            "cron": drill.cron,
        },
    )
    return drill


def update(*, drill_id: int, request: DrillUpdate, actor: str, now: datetime | None = None) -> Drill:
    """Change a drill, in a transaction of its own: a planned one wholly, a held one only in what stays editable."""
    with get_database().session() as session:
        return _update(session, drill_id=drill_id, request=request, actor=actor, now=now or utcnow())


def _update(session: Session, *, drill_id: int, request: DrillUpdate, actor: str, now: datetime) -> Drill:
    drill = service.get_drill(session, drill_id=drill_id)
    changing = set(request.model_fields_set)
    imported = drill.origin == "import"
    editable = IMPORTED_EDITABLE if imported else ALWAYS_EDITABLE
    if drill.state is not DrillState.planned and changing - editable:
        fields = ", ".join(sorted(changing - editable))
        if imported:
            raise Conflict(f"drill {drill_id} was imported: its {fields} come from its log and cannot change")
        raise Conflict(f"drill {drill_id} is {drill.state.value}: only a planned drill's {fields} can change")
    for replaced in {"objectives", "phases"} & changing:
        getattr(drill, replaced).clear()  # the old rows go first: positions and numbers are unique per drill
    session.flush()
    _apply_fields(drill, request)
    if changing - ALWAYS_EDITABLE and not imported:
        _fill_kind_defaults(drill)
        check_contents(session, drill)
        _check_schedule(drill, now)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="drill.update",
        entity_type="drill",
        entity_id=drill.id,
        details={"fields": sorted(changing)},
    )
    return drill
