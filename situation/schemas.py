"""Request and response shapes of the situation API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from situation.config import LevelKey

# No control characters (PostgreSQL refuses NUL in text; the others have no place in these fields).
NO_CONTROLS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def _text(min_length: int, max_length: int) -> StringConstraints:
    return StringConstraints(min_length=min_length, max_length=max_length, strip_whitespace=True, pattern=NO_CONTROLS)


def _in_utc_range(value: datetime) -> datetime:
    """An aware time that converts to UTC (year 1 with a positive offset does not)."""
    try:
        value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the time is out of range") from exc
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"the time must be between {EARLIEST.year} and {LATEST.year}")
    return value


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
Moment = Annotated[AwareDatetime, AfterValidator(_in_utc_range)]
Key = Annotated[str, _text(1, 60)]
AreaKey = Annotated[str, _text(1, 40)]
Source = Annotated[str, _text(1, 120)]
SourceId = Annotated[str, _text(1, 200)]
Note = Annotated[str, _text(0, 2000)]
PersonName = Annotated[str, _text(0, 200)]
Reason = Annotated[str, _text(3, 2000)]
Label = Annotated[str, _text(1, 200)]
# A JSON number only: a string such as "12" is refused, not converted.
StrictNumber = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-1e12, le=1e12)]


class ObservationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicator: Key
    area: AreaKey
    value: StrictNumber
    observed_at: Moment
    source: Source
    source_id: SourceId | None = None


class ObservationBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    observations: list[ObservationIn] = Field(min_length=1, max_length=10_000)


class ObservationOut(BaseModel):
    id: int
    indicator: str
    area: str
    value: float
    observed_at: datetime
    source: str
    source_id: str | None


class IngestResult(BaseModel):
    received: int
    stored: int
    duplicates: int


class CapImportResult(IngestResult):
    identifier: str
    matched_areas: list[str]
    unmatched_areas: list[str]


class StatusReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    municipality: AreaKey
    management_group_convened: bool = Field(strict=True)
    staff_availability_percent: int = Field(strict=True, ge=0, le=100)
    key_services_running: bool = Field(strict=True)
    services_note: Note | None = None
    reporter_name: PersonName | None = None


class StatusReportOut(BaseModel):
    id: int
    municipality: str
    management_group_convened: bool
    staff_availability_percent: int
    key_services_running: bool
    services_note: str | None
    reporter_name: str | None
    reported_by: str
    reported_at: datetime


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area: AreaKey
    level: LevelKey
    reason: Reason
    drill_id: int | None = Field(
        None, ge=1, le=2**31 - 1, description="An exercise decision in this running drill: never the real level"
    )


class DecisionPreview(BaseModel):
    """What a decision would set in motion: the reaction rules it matches and, for a real decision, whom they alert."""

    area: str
    level: str
    previous_level: str
    change: str
    drill_id: int | None
    reaction_rules: list[str]
    groups: list[str]
    people: int


class ReactionOut(BaseModel):
    id: int
    rule: str
    action: str
    payload: dict[str, Any]
    status: str
    attempts: int
    last_error: str | None
    alert_ids: list[int] = Field(description="The alerts the reaction sent (once it is done)")


class DecisionRead(BaseModel):
    """A readiness decision as it is shown: the API, the picture's history and a drill's exercise levels."""

    id: int
    area: str
    level: str
    previous_level: str
    recommended_level: str | None = Field(description="What was recommended when it was decided (None: no data)")
    change: str
    reason: str
    decided_by: str
    decided_at: datetime
    drill_id: int | None


class DecisionOut(DecisionRead):
    reactions: list[ReactionOut]


class SnapshotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Label
    drill_id: int | None = Field(None, ge=1, le=2**31 - 1, description="Freeze this running drill's exercise picture")


class SnapshotOut(BaseModel):
    id: int
    label: str
    taken_at: datetime
    taken_by: str
    drill_id: int | None
    picture: dict[str, Any]


class SnapshotSummary(BaseModel):
    id: int
    label: str
    taken_at: datetime
    taken_by: str


class SnapshotList(BaseModel):
    items: list[SnapshotSummary]
    total: int


class Localized(BaseModel):
    fi: str
    sv: str
    en: str


class LevelOut(BaseModel):
    key: str
    names: Localized


class DecidedOut(BaseModel):
    level: str
    decision_id: int | None
    decided_at: datetime | None
    decided_by: str | None
    decided_by_name: str | None = Field(description="Who decided, as people read it (an account's or a key's name)")
    reason: str | None
    drill_id: int | None = Field(description="Set when the level is a drill's exercise decision")


class ReasonOut(BaseModel):
    rule: Literal["threshold", "hysteresis", "combination", "sub_areas"]
    level: str
    indicator: str | None
    area: str | None
    value: float | None
    threshold: float | None
    since: datetime | None
    sources: list[str]
    text: Localized


class RecommendedOut(BaseModel):
    level: str | None = Field(description="None when no indicator of the area has a fresh value: no data, no level")
    reasons: list[ReasonOut]


class CoverageOut(BaseModel):
    current: int = Field(description="Indicators of the area (its own and its sub-areas') with a fresh value")
    total: int = Field(description="Indicators that cover the area")


class IndicatorStatusOut(BaseModel):
    indicator: str
    names: Localized
    domain: str
    unit: str = Field(description="In English (a symbol such as % in every language)")
    unit_names: Localized
    direction: str
    area: str
    status: Literal["ok", "raised", "unknown"]
    level: str | None
    value: float | None
    observed_at: datetime | None
    stale: bool
    fresh_until: datetime | None
    thresholds: dict[str, float]
    threshold: float | None
    held: bool
    trend_per_hour: float | None
    since: datetime | None


class AnticipationOut(BaseModel):
    indicator: str
    area: str
    value: float | None
    next_level: str
    threshold: float
    slope_per_hour: float
    crosses_at: datetime
    recommended_if_crossed: str | None


class AreaOut(BaseModel):
    key: str
    kind: Literal["region", "area", "municipality"]
    names: Localized
    parent: str | None
    municipalities: list[str]
    decided: DecidedOut
    recommended: RecommendedOut
    coverage: CoverageOut
    differs: bool = Field(description="The recommended level is known and is not the decided one")
    indicators: list[IndicatorStatusOut]
    unknown_indicators: list[str]
    anticipation: list[AnticipationOut]
    status_report: StatusReportOut | None


class ExerciseLabel(BaseModel):
    drill_id: int
    name: str


class PictureOut(BaseModel):
    computed_at: datetime
    levels: list[LevelOut]
    differs: list[str]
    areas: list[AreaOut]
    exercise: ExerciseLabel | None = Field(description="Set when this is a drill's exercise picture, not the real one")


class HistoryDecision(BaseModel):
    id: int
    area: str
    level: str
    previous_level: str
    recommended_level: str | None
    reason: str
    decided_by: str
    decided_at: datetime


class HistoryRecommendation(BaseModel):
    area: str
    level: str | None = Field(description="None: from then on no indicator of the area had a fresh value")
    previous_level: str | None
    changed_at: datetime
    reasons: list[dict[str, Any]]


class ObservationList(BaseModel):
    items: list[ObservationOut]
    total: int


class HistoryOut(BaseModel):
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    decisions: list[HistoryDecision]
    recommendations: list[HistoryRecommendation]
    observations: ObservationList
