"""Drill API shapes (docs/architecture.md §5): a drill, its objectives, phases, schedule and observations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)

from actioncards.schemas import CardKey
from alerting.public import AlertMessage, AlertTitle, ChannelName, EscalationOverride, ResponseOption, Targets
from alueturva.api_types import ApiInput
from alueturva.i18n import AmbiguousLocalTime, from_helsinki
from alueturva.localized import LocalizedText
from drills.models import DrillKind

HSEEP_RATINGS = {
    "P": "performed without challenges",
    "S": "performed with some challenges",
    "M": "performed with major challenges",
    "U": "unable to be performed",
}
Rating = Literal["P", "S", "M", "U"]
MAX_WINDOW_MINUTES = 7 * 24 * 60


class _Input(ApiInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _at_most(limit: int) -> AfterValidator:
    def check(text: LocalizedText) -> LocalizedText:
        for language in text.languages:
            if len(text[language]) > limit:
                raise ValueError(f"the {language} version is longer than {limit} characters")
        return text

    return AfterValidator(check)


# A drill's own words, like an alert's text: a string is Finnish, or {"fi": …, "sv": …, "en": …} with fi required.
DrillName = Annotated[LocalizedText, _at_most(200)]
Scenario = Annotated[LocalizedText, _at_most(4000)]
Contact = Annotated[LocalizedText, _at_most(200)]
ManualText = Annotated[LocalizedText, _at_most(500)]


# Objectives ------------------------------------------------------------------------------------------------------


class AckShareWithin(_Input):
    kind: Literal["ack_share_within"]
    percent: float = Field(gt=0, le=100, description="At least this share of recipients acknowledged …")
    minutes: float = Field(gt=0, le=MAX_WINDOW_MINUTES, description="… within this many minutes of the alert")


class EveryOrganisationWithin(_Input):
    kind: Literal["every_organisation_within"]
    minutes: float = Field(gt=0, le=MAX_WINDOW_MINUTES)


class EveryAreaWithin(_Input):
    kind: Literal["every_area_within"]
    minutes: float = Field(gt=0, le=MAX_WINDOW_MINUTES)


class MaxUnreachable(_Input):
    kind: Literal["max_unreachable"]
    count: int = Field(ge=0, le=1_000_000)


class TasksDoneWithin(_Input):
    kind: Literal["tasks_done_within"]
    percent: float = Field(gt=0, le=100, description="At least this share of the drill's action card tasks done …")
    minutes: float = Field(gt=0, le=MAX_WINDOW_MINUTES, description="… within this many minutes of activation")


class ManualObjective(_Input):
    kind: Literal["manual"]
    text: ManualText = Field(description="Rated by a person afterwards (HSEEP: P, S, M, U); per language")


ObjectiveIn = Annotated[
    AckShareWithin | EveryOrganisationWithin | EveryAreaWithin | MaxUnreachable | TasksDoneWithin | ManualObjective,
    Field(discriminator="kind"),
]
ObjectivesAdapter: TypeAdapter[list[ObjectiveIn]] = TypeAdapter(list[ObjectiveIn])


# Schedule and phases ---------------------------------------------------------------------------------------------


def _in_finnish_time(value: datetime) -> datetime:
    """A time without a zone is Finnish time; one that the clock shows twice (autumn) is refused, saying so."""
    try:
        return from_helsinki(value)
    except AmbiguousLocalTime as exc:
        raise ValueError(str(exc)) from exc


FinnishTime = Annotated[datetime, AfterValidator(_in_finnish_time)]


class ScheduleAt(_Input):
    at: FinnishTime = Field(description="Once, at this time; without a time zone it is Finnish time (Europe/Helsinki)")


class ScheduleCron(_Input):
    cron: str = Field(
        min_length=9, max_length=120, description="Recurring, a cron expression in Finnish time, e.g. '0 9 1 * *'"
    )


Schedule = ScheduleAt | ScheduleCron


class PhaseIn(_Input):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=4000, description="The inject: what happens in the scenario")
    title: AlertTitle | None = None
    message: AlertMessage | None = None
    targets: Targets | None = Field(None, description="Whom the phase's alert goes to (default: the drill's targets)")
    snapshot: bool = Field(False, description="Freeze the drill's exercise picture when the phase starts")

    @model_validator(mode="after")
    def _title_with_message(self) -> PhaseIn:
        if (self.title is None) != (self.message is None):
            raise ValueError("a phase's alert needs both a title and a message (or neither)")
        return self


class FeedbackQuestionIn(_Input):
    """A question participants are asked after the drill: a scale 1–5, yes / no / partly, or free text."""

    kind: Literal["scale", "choice", "text"]
    text: Annotated[LocalizedText, _at_most(300)]


# A drill ---------------------------------------------------------------------------------------------------------


class _DrillFields(_Input):
    description: Scenario | None = Field(None, description="The scenario, per language")
    contact: Contact | None = Field(None, description="The drill's point of contact, per language")
    targets: Targets | None = None
    channels: list[ChannelName] | None = Field(None, min_length=1, max_length=2)
    title: AlertTitle | None = None
    message: AlertMessage | None = None
    response_options: list[ResponseOption] | None = Field(None, max_length=9)
    escalation: EscalationOverride | None = None
    external_system: str | None = Field(None, min_length=1, max_length=60)
    duration_minutes: int | None = Field(None, gt=0, le=MAX_WINDOW_MINUTES)
    objectives: list[ObjectiveIn] | None = Field(None, max_length=20)
    phases: list[PhaseIn] | None = Field(None, max_length=30)
    schedule: Schedule | None = None
    action_cards: list[CardKey] | None = Field(
        None, max_length=50, description="Action cards (their keys) activated as the drill's exercise when it starts"
    )
    feedback_questions: list[FeedbackQuestionIn] | None = Field(
        None, min_length=3, max_length=5, description="Asked of the participants afterwards (default: three standard)"
    )

    @field_validator("description", "contact", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("response_options")
    @classmethod
    def _options(cls, value: list[LocalizedText] | None) -> list[LocalizedText] | None:
        if value is not None and len(value) == 1:
            raise ValueError("give at least two response options, or none")
        return value


class DrillCreate(_DrillFields):
    name: DrillName = Field(description="Per language, like an alert's title")
    kind: DrillKind
    targets: Targets

    @model_validator(mode="after")
    def _kind_needs(self) -> DrillCreate:
        needs_text = self.kind in (DrillKind.communication_test, DrillKind.management_group_test)
        if needs_text and (self.title is None or self.message is None):
            raise ValueError(f"a {self.kind.value} needs a title and a message")
        if (self.title is None) != (self.message is None):
            raise ValueError("give both a title and a message (or neither)")
        if self.phases and self.kind is not DrillKind.exercise:
            raise ValueError("only an exercise has phases")
        if self.external_system is not None and self.kind is not DrillKind.external_system_test:
            raise ValueError("external_system belongs to an external_system_test")
        return self


class DrillUpdate(_DrillFields):
    """A partial update: fields left out stay. Only a planned drill's contents and schedule can change; name,
    description and contact can always be corrected."""

    name: DrillName | None = None


class StartIn(_Input):
    external_sent_at: AwareDatetime | None = Field(
        None, description="External-system test: when the other system's message was sent (default: now)"
    )


class DrillObservationIn(_Input):
    text: str = Field(min_length=1, max_length=4000)
    author: str | None = Field(None, max_length=200, description="The evaluator (default: who records it)")
    at: FinnishTime | None = Field(None, description="When it happened (default: now); no zone means Finnish time")
    phase: int | None = Field(None, ge=1, le=30)


class RatingIn(_Input):
    rating: Rating = Field(description="HSEEP: P without challenges, S some, M major challenges, U unable to perform")
    note: str | None = Field(None, max_length=2000)


# Answers ---------------------------------------------------------------------------------------------------------


class ObjectiveRead(BaseModel):
    model_config = ConfigDict(extra="allow")  # the objective's own fields: percent, minutes, count, text

    position: int
    kind: str
    description: dict[str, str]
    met: bool | None
    value: Any
    final: bool = Field(description="False while the objective's window is still open")
    rating: Rating | None = None
    rating_note: str | None = None


class PhaseRead(BaseModel):
    number: int
    name: str
    description: str
    title: dict[str, str] | None
    message: dict[str, str] | None
    targets: dict[str, Any] | None
    snapshot: bool
    started_at: datetime | None
    started_by: str | None
    snapshot_id: int | None
    alert_id: int | None = None  # the alert the phase sent (``drills.read.phase_read``)


class DrillObservationRead(BaseModel):
    id: int
    at: datetime
    phase: int | None
    author: str
    text: str
    recorded_by: str
    recorded_at: datetime


class ExerciseLevel(BaseModel):
    decision_id: int
    area: str
    level: str
    previous_level: str
    reason: str
    decided_by: str
    decided_at: datetime


class DrillAlertRead(BaseModel):
    alert_id: int | None
    purpose: str
    phase: int | None
    last_error: str | None


class DrillSummary(BaseModel):
    id: int
    name: str = Field(description="In Finnish")
    names: dict[str, str] = Field(description="The name in each language (Finnish where no version was written)")
    kind: str
    state: str
    schedule: dict[str, Any] | None
    started_at: datetime | None
    ended_at: datetime | None
    series_id: int | None


class DrillRead(DrillSummary):
    origin: str = Field(description="service: run here; import: run elsewhere, imported from its log")
    imported: dict[str, Any] | None = Field(None, description="Its log files (name, SHA-256, mapping), if imported")
    description: str = Field(description="The scenario, in Finnish")
    contact: str | None = Field(description="In Finnish")
    versions: dict[str, dict[str, str]] = Field(
        description="name, description and contact in each language, as a reader of it gets them (Finnish where no "
        "version was written)"
    )
    written: dict[str, dict[str, str]] = Field(description="name, description and contact as written, per language")
    targets: dict[str, Any]
    channels: list[str] | None
    title: dict[str, str]
    message: dict[str, str]
    response_options: list[dict[str, str]] = Field(description="Each poll answer per language")
    escalation: dict[str, Any] | None
    external_system: str | None
    external_sent_at: datetime | None
    duration_minutes: int | None
    occurrence_at: datetime | None
    runs: list[int] = Field(description="A recurring drill's occurrences, newest first")
    alerts: list[int]
    sent: list[DrillAlertRead]
    ends_at: datetime | None
    created_by: str
    created_at: datetime
    started_by: str | None
    ended_by: str | None
    objectives: list[ObjectiveRead]
    phases: list[PhaseRead]
    observations: list[DrillObservationRead]
    exercise_levels: list[ExerciseLevel] = Field(description="Exercise readiness decisions made in the drill")
    action_cards: list[str] = Field([], description="The action cards its plan activates when it starts (keys)")


class DrillList(BaseModel):
    items: list[DrillSummary]
    total: int


# After the drill: findings and the improvement plan -------------------------------------------------------------


class FindingIn(_Input):
    kind: Literal["strength", "area_for_improvement"]
    text: str = Field(min_length=1, max_length=4000)
    objective: int | None = Field(None, ge=1, le=20, description="The objective it concerns, by its number")


class FindingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    drill_id: int
    kind: str
    text: str
    objective: int | None
    recorded_by: str
    recorded_at: datetime


ItemStatusName = Literal["open", "in_progress", "done", "dropped"]


class ImprovementItemIn(_Input):
    text: str = Field(min_length=1, max_length=2000, description="The area for improvement")
    action: str = Field(min_length=1, max_length=2000, description="The corrective action")
    organisation_id: int | None = Field(None, ge=1, le=2**31 - 1, description="Who is to fix it")
    due: date | None = None
    finding_id: int | None = Field(None, ge=1, le=2**31 - 1)


class ImprovementItemUpdate(_Input):
    action: str | None = Field(None, min_length=1, max_length=2000)
    organisation_id: int | None = Field(None, ge=1, le=2**31 - 1)
    due: date | None = None
    status: ItemStatusName | None = None
    note: str | None = Field(None, max_length=2000)


class ImprovementItemRead(BaseModel):
    id: int
    drill_id: int
    drill_name: str
    text: str
    action: str
    organisation_id: int | None
    organisation: str | None
    due: date | None
    status: str
    created_by: str
    created_at: datetime
    closed_at: datetime | None
    note: str | None


class ImprovementItemList(BaseModel):
    items: list[ImprovementItemRead]
    total: int


# An exercise run elsewhere, imported from its log ----------------------------------------------------------------


class UnmatchedRead(BaseModel):
    row: int = Field(description="The first row about them")
    name: str | None
    organisation: str | None


class LogImportRead(BaseModel):
    drill_id: int | None = Field(description="The drill the log is in (none for a dry run of a new drill)")
    dry_run: bool
    already_imported: bool = Field(description="This very file was imported before: nothing changed")
    source: str
    sha256: str
    mapping: str
    encoding: str | None = None
    rows: int
    events: int = Field(0, description="Events added (a row already in the drill, or repeated, is one event)")
    repeated_rows: int = 0
    already_in_drill: int = 0
    recipients: int = Field(0, description="People alerted, per phase")
    matched: dict[str, int] = Field({}, description="People matched to the roster, by number, email or name")
    unmatched: list[UnmatchedRead] = Field([], description="People the roster does not know, kept by name")
    phases: list[str] = []
    started_at: datetime | None = None
    ended_at: datetime | None = None


# The after-action report's words (drills.report.narrative) ----------------------------------------------------------

NARRATIVE_SECTIONS = ("summary", "purpose", "scenario", "conclusions", "recommendations")
Marking = Literal["public", "personal_data", "secret_24_1_8"]
"""The publicity marking an approver chooses: Julkinen; Ei julkinen, sisältää henkilötietoja; Salassa pidettävä
JulkL 621/1999 24 § 1 mom. 8 k. (the words: drills/report/texts.yaml, ``marking``)."""
CourseKind = Literal["start", "phase", "alert", "decision", "observation", "acknowledged", "end", "note"]


class SectionText(_Input):
    """A narrative section's versions: each language given is set (an empty one clears it), the others are kept."""

    fi: str | None = Field(None, max_length=20_000)
    sv: str | None = Field(None, max_length=20_000)
    en: str | None = Field(None, max_length=20_000)


class CourseEventIn(_Input):
    at: FinnishTime = Field(description="When; no zone means Finnish time")
    kind: CourseKind = "note"
    text: SectionText


class ReportUpdate(_Input):
    """What an operator writes into a report (``PATCH /api/v1/drills/{id}/report``): the fields given change."""

    summary: SectionText | None = None
    purpose: SectionText | None = None
    scenario: SectionText | None = None
    conclusions: SectionText | None = None
    recommendations: SectionText | None = None
    course_of_events: list[CourseEventIn] | None = Field(
        None, max_length=500, description="The edited course of events; null: made again from what the system knows"
    )
    marking: Marking | None = None
    distribution: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(None, max_length=60)


class ReportApprove(_Input):
    """Approving a report freezes it as a new version; marking and distribution may be given here too."""

    marking: Marking | None = None
    distribution: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(None, max_length=60)


class MetricRecordIn(_Input):
    """A person's record of one of the agreement's metrics the service cannot measure
    (``PATCH /api/v1/followup/metrics/{key}``)."""

    year: int = Field(ge=2000, le=2100)
    status: Literal["met", "in_progress", "not_met", "unknown"]
    evidence: str = Field(min_length=1, max_length=1000, description="A link or a file name, and what it shows")
    on: date | None = Field(None, description="The date it refers to (e.g. the seminar's)")


class MetricRecordRead(BaseModel):
    id: int
    key: str
    year: int
    status: str
    evidence: str
    on: date | None
    recorded_by: str
    recorded_at: datetime
