"""Request and response shapes of the situation API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from situation.config import LevelKey

Key = Annotated[str, StringConstraints(min_length=1, max_length=60)]
AreaKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
# A JSON number only: a string such as "12" is refused, not converted.
StrictNumber = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class ObservationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicator: Key
    area: AreaKey
    value: StrictNumber
    observed_at: AwareDatetime
    source: Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]
    source_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


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
    services_note: Annotated[str, StringConstraints(max_length=2000)] | None = None
    reporter_name: Annotated[str, StringConstraints(max_length=200)] | None = None


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
    reason: Annotated[str, StringConstraints(min_length=3, max_length=2000, strip_whitespace=True)]


class ReactionOut(BaseModel):
    id: int
    rule: str
    action: str
    payload: dict[str, Any]
    status: str
    attempts: int
    last_error: str | None


class DecisionOut(BaseModel):
    id: int
    area: str
    level: str
    previous_level: str
    recommended_level: str
    change: str
    reason: str
    decided_by: str
    decided_at: datetime
    reactions: list[ReactionOut]


class SnapshotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class SnapshotOut(BaseModel):
    id: int
    label: str
    taken_at: datetime
    taken_by: str
    picture: dict[str, Any]


class SnapshotSummary(BaseModel):
    id: int
    label: str
    taken_at: datetime
    taken_by: str


class SnapshotList(BaseModel):
    items: list[SnapshotSummary]
    total: int
