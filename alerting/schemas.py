"""Alerting API shapes (docs/architecture.md §5)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from alueturva.api_types import ApiInput, IdField
from alueturva.errors import Invalid
from alueturva.localized import LocalizedText
from contacts.areas import AreaKey
from contacts.validation import normalise_email

ChannelName = Literal["sms", "email", "voice"]


def _at_most(limit: int) -> Callable[[LocalizedText], LocalizedText]:
    def check(text: LocalizedText) -> LocalizedText:
        for language in text.languages:
            if len(text[language]) > limit:
                raise ValueError(f"the '{language}' text is longer than {limit} characters")
        return text

    return check


def _one_line(text: LocalizedText) -> LocalizedText:
    """A title is one line (an email subject, the first line of an SMS): a pasted line break becomes a space."""
    return LocalizedText(**{language: " ".join(text[language].split()) for language in text.languages})


AlertTitle = Annotated[LocalizedText, AfterValidator(_one_line), AfterValidator(_at_most(200))]
AlertMessage = Annotated[LocalizedText, AfterValidator(_at_most(1000))]
ResponseOption = Annotated[LocalizedText, AfterValidator(_at_most(60))]
# A group or organisation by id, or by key or name (as on the command line).
Reference = IdField | Annotated[str, Field(min_length=1, max_length=200)]


class _Input(ApiInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Targets(_Input):
    groups: list[Reference] = Field([], max_length=1000, description="Group ids, keys or names")
    roles: list[str] = Field([], max_length=200, description="Role keys (GET /api/v1/roles)")
    organisations: list[Reference] = Field(
        [], max_length=1000, description="Organisation ids, keys, names or business ids"
    )
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
    call_after_minutes: float | None = Field(
        None,
        ge=0,
        le=24 * 60,
        description="Call those still silent after this many minutes (null: never, not even the groups' own calls)",
    )
    close_after_minutes: float | None = Field(None, gt=0, le=7 * 24 * 60)


class AlertCreate(_Input):
    """An alert. ``title``, ``message`` and each response option are a string (Finnish) or
    ``{"fi": …, "sv": …, "en": …}``; every text has the same languages, so no reader gets a mix."""

    title: AlertTitle
    message: AlertMessage
    targets: Targets
    channels: list[ChannelName] | None = Field(
        None, min_length=1, max_length=3, description="sms, email and/or voice (a call to the mobile number)"
    )
    exercise: bool = False
    response_options: list[ResponseOption] = Field([], max_length=9)
    escalation: EscalationOverride | None = None
    notify_email: str | None = Field(None, max_length=254, description="Told who is still silent")
    idempotency_key: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("a channel is named twice")
        return value

    @field_validator("response_options")
    @classmethod
    def _options(cls, value: list[LocalizedText]) -> list[LocalizedText]:
        if len(value) == 1:
            raise ValueError("give at least two response options, or none")
        return value

    @model_validator(mode="after")
    def _same_languages(self) -> AlertCreate:
        languages = self.title.languages
        texts = {"message": self.message, **{f"response option {n}": o for n, o in enumerate(self.response_options, 1)}}
        for name, text in texts.items():
            if text.languages != languages:
                raise ValueError(
                    f"the title is in {', '.join(languages)} but the {name} in {', '.join(text.languages)}: "
                    "give the title, the message and every response option in the same languages"
                )
        return self

    @field_validator("notify_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else normalise_email(value)


class AlertCancel(_Input):
    reason: str | None = Field(None, max_length=500, description="Why (recorded on the alert and in the audit log)")


class AcknowledgeOnBehalf(_Input):
    response: int | None = Field(None, ge=1, le=9, description="The chosen response option (1-based)")
    note: str | None = Field(None, max_length=500, description="e.g. 'phoned the duty officer'")


class Counts(BaseModel):
    targeted: int = 0
    sent: int = Field(0, description="Recipients of whom at least one message reached the provider")
    delivered: int = Field(0, description="Recipients of whom the provider confirmed at least one message")
    no_receipt: int = Field(
        0, description="Recipients reached only through channels that give no delivery receipt (email): not known"
    )
    failed: int = Field(0, description="Recipients no message could be sent to")
    acknowledged: int = 0


class OrganisationCounts(Counts):
    organisation_id: int
    organisation: str


class PollAnswer(BaseModel):
    option: int = Field(description="1-based")
    text: str = Field(description="The option in Finnish")
    count: int


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


class AlertText(BaseModel):
    title: str
    message: str
    response_options: list[str]


class AlertRead(AlertSummary):
    message: str
    texts: dict[str, AlertText] = Field(description="The alert's texts per language (fi always)")
    short_code: str
    channels: list[str]
    response_options: list[str]
    escalation: dict[str, object]
    closed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    counts: Counts
    answers: list[PollAnswer] = Field(description="How the poll has been answered so far (empty without options)")
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
    answered_by: str | None = Field(None, description="Calls: who or what answered (human, machine_…, fax, unknown)")
    duration_seconds: int | None = Field(None, description="Calls: how long the call lasted, as the provider said")


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


class OutboxMessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sent_at: datetime
    channel: str
    to: str
    subject: str | None
    body: str
    reference: str


class OutboxList(BaseModel):
    items: list[OutboxMessageRead]
    total: int


# Texts given on a command line ------------------------------------------------------------------------------------


def localized(finnish: str, swedish: str | None, english: str | None) -> dict[str, str | None]:
    """A text given as ``--title``, ``--title-sv`` and ``--title-en`` (the missing languages as None)."""
    return {"fi": finnish, "sv": swedish, "en": english}


def localized_options(finnish: list[str], swedish: list[str], english: list[str]) -> list[dict[str, str | None]]:
    """Each response option in the languages given; the --response-option-sv/-en lists follow the Finnish one."""
    for flag, other in (("--response-option-sv", swedish), ("--response-option-en", english)):
        if other and len(other) != len(finnish):
            raise Invalid(f"give {flag} as many times as --response-option ({len(finnish)}), in the same order")
    return [
        localized(option, swedish[n] if swedish else None, english[n] if english else None)
        for n, option in enumerate(finnish)
    ]
