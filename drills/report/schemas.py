"""The after-action report and the yearly follow-up as typed data: what ``drills.report.assemble.build_report`` and
``drills.followup.followup`` return, and what ``drills.report.render.export`` turns into JSON, HTML, PDF or CSV.

Their JSON is the API's (``GET /api/v1/drills/{id}/report``, ``GET /api/v1/followup``; docs/drills.md): field names
and order are kept as they were when these were dictionaries.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, SkipValidation
from typing_extensions import TypedDict

from drills.schemas import ExerciseLevel, ImprovementItemRead, PhaseRead


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True)


# Figures -----------------------------------------------------------------------------------------------------------


class Times(_Part):
    """Seconds: how many had a time, and the median, 90th percentile and slowest of them (nearest rank)."""

    count: int
    median: float | None
    p90: float | None
    max: float | None


NO_TIMES = Times(count=0, median=None, p90=None, max=None)


class Counts(_Part):
    """People measured, each with one meaning (``drills.report.figures``): targeted, reached (sent), delivered (a
    receipt confirmed it), no receipt (reached only on channels without receipts: not known), failed, acknowledged,
    acknowledged late."""

    targeted: int
    sent: int
    delivered: int
    no_receipt: int
    failed: int
    acknowledged: int
    late: int


NO_COUNTS = Counts(targeted=0, sent=0, delivered=0, no_receipt=0, failed=0, acknowledged=0, late=0)


class ChannelFigures(_Part):
    channel: str
    messages: int
    sent: int
    receipts: bool  # the channel gives delivery receipts (SMS); email does not
    delivered: int | None  # None: no receipts, so not known
    failed: int
    delivery_seconds: Times


class _OfOrganisation(_Part):
    organisation: str


class OrganisationFigures(Counts, _OfOrganisation):  # fields in the order organisation, counts, ack_seconds
    ack_seconds: Times


class _OfArea(_Part):
    area: str
    names: dict[str, str]


class AreaFigures(Counts, _OfArea):  # fields in the order area, names, counts, ack_seconds
    ack_seconds: Times


class _OfPhase(_Part):
    phase: int


class PhaseFigures(Counts, _OfPhase):  # fields in the order phase, counts, ack_seconds: everyone alerted in it
    ack_seconds: Times


class Shares(_Part):
    """Shares (%): delivered of those whose messages can be confirmed (None: no receipts), acknowledged of all."""

    delivered: float | None
    acknowledged: float | None


class Curve(_Part):
    """The cumulative share acknowledged (%) at each whole minute since the alert, overall and per area."""

    minutes: list[int]
    overall: list[float]
    by_area: dict[str, list[float]]


class PollAnswer(_Part):
    option: int
    answer: str
    count: int


# Parts of the report -----------------------------------------------------------------------------------------------


class ReportDrill(_Part):
    id: int
    name: str
    kind: str
    kind_name: str
    state: str
    description: str
    contact: str | None
    started_at: datetime
    ended_at: datetime | None
    external_system: str | None
    external_sent_at: datetime | None
    participants: list[str]
    alerts: list[int]


class ObjectiveShown(_Part):
    """An objective as people read it, in one language (the report, the drill's page, the command line)."""

    position: int
    kind: str
    text: str
    met: bool | None
    met_word: str  # met, not met, open ("kesken") or not rated ("arvioimatta") once it can no longer be met
    final: bool
    value: Any
    value_text: str | None
    how: str
    rating: str | None
    rating_note: str | None
    minutes: float | None
    percent: float | None


class TimelineEvent(TypedDict):
    """One moment of a person's timeline. ``event`` says which: ``sent``, ``delivered`` or ``failed`` (by a
    ``channel``, a ``reminder`` or not; a failure with the provider's ``error``; an answered call with its
    ``seconds``), ``deputy_alerted`` (the ``deputy``'s
    name only in a full report) or ``acknowledged`` (its ``method``, ``late`` or not). Only the keys an event has are
    present. ``at`` is the moment as the JSON gives it (ISO 8601, UTC), written once where the event is made: a report
    of 10,000 people has some 50,000 events."""

    at: str
    event: str
    channel: NotRequired[str]
    reminder: NotRequired[bool]
    error: NotRequired[str | None]
    deputy: NotRequired[str | None]
    method: NotRequired[str | None]
    late: NotRequired[bool | None]
    seconds: NotRequired[int]  # an answered call's duration, when the provider reported it


class PersonCalls(TypedDict):
    """A person's calls: ``attempts`` placed, ``answered`` (by a person), ``seconds`` in all (None while no duration
    is known)."""

    attempts: int
    answered: int
    seconds: int | None


class ReportPerson(TypedDict):
    """A person the drill reached out to. A redacted report shows organisation and roles only; a full one also the
    name (and the number and address for operators and admins): the keys of ``NamedPerson``."""

    organisation: str
    phase: int | None
    roles: list[str]
    on_roster: bool
    deputy: bool
    acknowledged_at: datetime | None
    ack_seconds: int | None  # whole seconds, as the timeline's times read
    late: bool | None
    response: int | None
    answer: str | None
    calls: PersonCalls | None  # None: nobody called them
    timeline: list[TimelineEvent]


class NamedPerson(ReportPerson):
    person_id: int | None
    name: str | None
    mobile: str | None
    email: str | None
    deputy_for: str | None


class RosterFix(_Part):
    code: str
    organisation: str
    person: str | None
    problem: str


class ReportObservation(_Part):
    at: datetime
    author: str | None
    text: str
    phase: int | None


class Comparable(_Part):
    """The figures a report compares with the previous drill's."""

    targeted: int
    acknowledged_share: float | None
    delivered_share: float | None
    ack_median: float | None
    ack_p90: float | None
    objectives_met: int


class PreviousDrill(_Part):
    id: int
    name: str
    started_at: datetime | None
    figures: Comparable


class ComparisonRow(_Part):
    figure: str
    label: str
    this: float | None
    previous: float | None
    better: bool | None


class ReportPhase(PhaseRead):
    levels: dict[str, str] | None  # each area's exercise level in the phase's snapshot


class ImportedFile(_Part):
    source: str
    sha256: str
    mapping: str | None
    rows: int
    events: int
    imported_at: datetime
    imported_by: str


class ImportedFrom(_Part):
    """Where an imported drill's figures come from: its first log file, and every file imported into it."""

    source: str
    sha256: str
    mapping: str | None
    files: list[ImportedFile]


class CardTaskFigures(_Part):
    """An action card's tasks in one organisation during the drill (docs/action-cards.md)."""

    card: str
    organisation: str | None
    tasks: int
    done: int  # in time
    late: int
    not_done: int  # cannot do, cancelled or still open
    median_seconds: float | None  # from the card's activation to a task done


class CourseEvent(_Part):
    """A moment of the course of events, in every language (``{"fi", "sv", "en"}``)."""

    at: datetime
    kind: str
    text: dict[str, str]


class Sections(_Part):
    """The report's words, in the order the report has them: each narrative section in every language written
    (``{"fi", "sv", "en"}``), and the course of events, made from what the system knows until someone edits it."""

    summary: dict[str, str]
    purpose: dict[str, str]
    scenario: dict[str, str]
    course_of_events: list[CourseEvent]
    course_edited: bool
    conclusions: dict[str, str]
    recommendations: dict[str, str]


class FeedbackQuestion(_Part):
    """One question of the participants' feedback: how many gave each answer (1–5, or yes / no / partly), and for a
    free-text question the texts, without names."""

    text: str
    kind: str
    answers: dict[str, int]
    texts: list[str]


class Feedback(_Part):
    requested: int
    answered: int
    questions: list[FeedbackQuestion]


class Approval(_Part):
    """Draft until a readiness manager approves it; an approved version is frozen. ``marking`` is the publicity
    marking's key, ``marking_text`` its words in the report's language."""

    state: Literal["draft", "approved"]
    version: int
    approved_by: str | None
    approved_at: datetime | None
    marking: str | None
    marking_text: str | None
    distribution: list[str]


class Report(_Part):
    """The after-action report of one drill, in one language."""

    language: str
    redacted: bool
    generated_at: datetime
    drill: ReportDrill
    objectives: list[ObjectiveShown]
    counts: Counts
    shares: Shares
    ack_seconds: Times
    delivery_seconds: Times
    by_channel: list[ChannelFigures]
    by_organisation: list[OrganisationFigures]
    by_area: list[AreaFigures]
    by_phase: list[PhaseFigures]
    poll: list[PollAnswer]
    curve: Curve
    # A report of 10,000 people has some 50,000 events: they are typed dictionaries, made, read and written out as
    # quickly as plain ones (not validated again here: ``drills.report.people`` makes them from the database).
    people: Annotated[list[NamedPerson | ReportPerson], SkipValidation]
    roster_fixes: list[RosterFix]
    observations: list[ReportObservation]
    strengths: list[str]
    areas_for_improvement: list[str]
    improvement_items: list[ImprovementItemRead]
    open_items_from_earlier: list[ImprovementItemRead]
    previous: PreviousDrill | None
    comparison: list[ComparisonRow]
    phases: list[ReportPhase]
    exercise_levels: list[ExerciseLevel]
    imported: ImportedFrom | None
    sections: Sections
    feedback: Feedback
    approval: Approval
    action_cards: list[CardTaskFigures] = []


class ReportWords(_Part):
    """What ``PATCH /api/v1/drills/{id}/report`` answers: the report's words and its approval as they are now."""

    sections: Sections
    approval: Approval


# The yearly follow-up ----------------------------------------------------------------------------------------------


class FollowupDrill(_Part):
    id: int
    name: str
    kind: str
    kind_name: str
    state: str
    started_at: datetime
    month: int
    objectives_met: int
    objectives: int
    targeted: int
    acknowledged: int
    counts: Counts
    shares: Shares
    ack_seconds: Times
    by_municipality: dict[str, Counts]
    compliance: dict[str, Any] | None


class ObjectivesMet(_Part):
    met: int
    total: int


class YearsItems(_Part):
    opened: list[ImprovementItemRead]
    closed: list[ImprovementItemRead]
    open_now: int


class CostShare(_Part):
    organisation: str  # in the follow-up's language
    names: dict[str, str]  # in each language (``contacts.catalogue``, the one source of names)
    key: str
    cents: int
    euros: Decimal
    share: float | None  # the municipality's population share, %; None for the county's fixed share


class CallFigures(_Part):
    """Calls placed, answered (by a person or a machine: the provider bills both), the billed minutes (each answered
    call's duration rounded up to whole minutes), and answered calls whose duration is not known (not in the
    minutes)."""

    calls: int
    answered: int
    minutes: int
    without_duration: int


class CostPart(_Part):
    segments: int
    sms_euros: Decimal
    calls: CallFigures
    call_euros: Decimal
    euros: Decimal  # SMS and calls
    split: list[CostShare]


class Costs(_Part):
    """The year's costs of SMS and calls (VAT 0 %) and their split: the agreement's example unless the parties agreed
    one."""

    price_per_segment: Decimal
    price_per_call_minute: Decimal
    vat_percent: int
    basis: Literal["example", "agreed"]
    applies_to: str
    population_date: date
    county_share_percent: Decimal
    exercise: CostPart
    real: CostPart
    total: CostPart


MetricStatus = Literal["met", "in_progress", "not_met", "unknown"]


class MetricDetail(_Part):
    """One line of a metric: a municipality or an area, its status and evidence (``at``: the date it refers to)."""

    subject: str
    status: MetricStatus
    evidence: str
    at: date | None


class Metric(_Part):
    """One of the agreement's evaluation metrics or measures (``drills.metrics``): measured by the service, or
    recorded by a person with evidence; who confirmed it and when."""

    key: str
    group: str
    text: str
    status: MetricStatus
    status_text: str
    measured: bool
    evidence: str
    confirmed_by: str | None
    confirmed_at: datetime | None
    details: list[MetricDetail]


class Followup(_Part):
    """The councils' yearly follow-up of the agreement, in one language."""

    year: int
    language: str
    generated_at: datetime
    drills: list[FollowupDrill]
    missed: int
    by_kind_and_month: dict[str, dict[int, int]]
    objectives: ObjectivesMet
    improvement_items: YearsItems
    costs: Costs
    metrics: list[Metric]
    marking: str
    marking_text: str


Format = Literal["json", "html", "pdf", "csv"]
CsvTable = Literal["people", "organisations"]
