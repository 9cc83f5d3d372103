"""Alerting API shapes (docs/architecture.md §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from alueturva.api_types import ApiInput, IdField
from contacts.areas import AreaKey
from contacts.validation import normalise_email

ChannelName = Literal["sms", "email"]


class _Input(ApiInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Targets(_Input):
    groups: list[IdField] = Field([], max_length=1000)
    roles: list[str] = Field([], max_length=200)
    organisations: list[IdField] = Field([], max_length=1000)
    areas: list[AreaKey] = Field([], max_length=3)
    people: list[IdField] = Field([], max_length=50_000)

    @field_validator("roles")
    @classmethod
    def _role_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            if not key or len(key) > 60:
                raise ValueError("a role key is 1 to 60 characters")
        return value

    @model_validator(mode="after")
    def _some_target(self) -> Targets:
        if not (self.groups or self.roles or self.organisations or self.areas or self.people):
            raise ValueError("name at least one target: groups, roles, organisations, areas or people")
        return self


class EscalationOverride(_Input):
    """Overrides of the default policy in ``config/alerting.yaml``; omitted fields keep the default.
    ``null`` switches the deputy and operator steps off; for the other fields it keeps the default."""

    resend_after_minutes: float | None = Field(None, gt=0, le=24 * 60)
    resend_times: int | None = Field(None, ge=0, le=10)
    other_channel: bool | None = None
    deputy_after_minutes: float | None = Field(None, ge=0, le=24 * 60)
    notify_operator_after_minutes: float | None = Field(None, ge=0, le=24 * 60)
    close_after_minutes: float | None = Field(None, gt=0, le=7 * 24 * 60)


class AlertCreate(_Input):
    title: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=1000)
    targets: Targets
    channels: list[ChannelName] | None = Field(None, min_length=1, max_length=2)
    exercise: bool = False
    response_options: list[str] = Field([], max_length=9)
    escalation: EscalationOverride | None = None
    notify_email: str | None = Field(None, max_length=254, description="Told who is still silent")
    idempotency_key: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")

    @field_validator("title")
    @classmethod
    def _one_line(cls, value: str) -> str:
        """A title is one line (an email subject, the first line of an SMS): a pasted line break becomes a space."""
        return " ".join(value.split())

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("a channel is named twice")
        return value

    @field_validator("response_options")
    @classmethod
    def _options(cls, value: list[str]) -> list[str]:
        cleaned = [option.strip() for option in value]
        if any(not option or len(option) > 60 for option in cleaned):
            raise ValueError("each response option is 1 to 60 characters")
        if len(value) == 1:
            raise ValueError("give at least two response options, or none")
        return cleaned

    @field_validator("notify_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else normalise_email(value)


class AcknowledgeOnBehalf(_Input):
    response: int | None = Field(None, ge=1, le=9, description="The chosen response option (1-based)")
    note: str | None = Field(None, max_length=500, description="e.g. 'phoned the duty officer'")


class Counts(BaseModel):
    targeted: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    acknowledged: int = 0


class OrganisationCounts(Counts):
    organisation_id: int
    organisation: str


class AlertEventRead(BaseModel):
    at: datetime
    kind: str
    details: dict[str, object]


class AlertSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    exercise: bool
    status: str
    created_at: datetime
    created_by: str
    closes_at: datetime


class AlertRead(AlertSummary):
    message: str
    short_code: str
    channels: list[str]
    response_options: list[str]
    escalation: dict[str, object]
    closed_at: datetime | None
    cancelled_at: datetime | None
    counts: Counts
    deliveries: dict[str, int] = Field(description="Deliveries by state (alert, reminders and cancellations)")
    by_organisation: list[OrganisationCounts]
    events: list[AlertEventRead]


class AlertList(BaseModel):
    items: list[AlertSummary]
    total: int


class DeliveryRead(BaseModel):
    id: int
    channel: str
    kind: str
    round: int
    state: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    next_attempt_at: datetime | None
    error_code: str | None
    error_message: str | None


class RecipientRead(BaseModel):
    id: int
    person_id: int
    name: str
    organisation_id: int
    language: str
    deputy_for_id: int | None
    acknowledged_at: datetime | None
    ack_method: str | None
    ack_by: str | None
    ack_late: bool
    response: int | None
    response_text: str | None
    deliveries: list[DeliveryRead]


class RecipientList(BaseModel):
    items: list[RecipientRead]
    total: int
