"""Action card shapes: a card as the API, the YAML card set and the console read and write it; reviews."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alueturva.api_types import ApiInput, IdField, PeriodStart

CardKey = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Key = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9_]*$")]
DrillKindName = Literal["communication_test", "management_group_test", "external_system_test", "exercise"]
MAX_TASKS = 40
MAX_CARDS = 500


class CardText(ApiInput):
    """A text people read: Finnish and Swedish required, English optional."""

    fi: str = Field(min_length=1, max_length=600)
    sv: str = Field(min_length=1, max_length=600)
    en: str | None = Field(default=None, min_length=1, max_length=600)


class TaskIn(ApiInput):
    text: CardText
    role: Key = Field(description="A role key of config/roles.yaml")
    target: Literal["affected", "county"] = Field(
        default="affected",
        description="affected: the role's holders in the organisations of the activated area; county: the "
        "wellbeing services county's (and its rescue department's) holders",
    )
    due_minutes: int = Field(ge=1, le=7 * 24 * 60, description="Due this many minutes after activation")
    check: CardText | None = Field(default=None, description="What the holder checks before marking it done")


class CardIn(ApiInput):
    key: CardKey
    card_set: CardKey = Field(default="oma", description="The card set (YAML file) it belongs to")
    scenario: Key = Field(description="The risk or scenario of the regional risk assessment, as a key")
    title: CardText
    level: Key | None = Field(default=None, description="A raised readiness level of config/readiness.yaml")
    drill_kind: DrillKindName | None = Field(default=None, description="Or: the drill kind it applies to")
    area: str = Field(
        default="region", min_length=1, max_length=60, description="region, a management area or a municipality"
    )
    indicators: list[Key] = Field(
        default_factory=list,
        max_length=20,
        description="Indicators of the picture for this risk; a decision activates the card when one of them stands "
        "at the decided level in the area (none: every raise to the level)",
    )
    active: bool = True
    tasks: list[TaskIn] = Field(min_length=1, max_length=MAX_TASKS)

    @model_validator(mode="after")
    def _level_or_drill_kind(self) -> CardIn:
        if (self.level is None) == (self.drill_kind is None):
            raise ValueError("give a card either a readiness level or a drill kind, not both")
        return self


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    position: int
    text: dict[str, str]
    role: str
    target: str
    due_minutes: int
    check: dict[str, str] | None


class CardRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    card_set: str
    scenario: str
    title: dict[str, str]
    level: str | None
    drill_kind: str | None
    area: str
    indicators: list[str]
    active: bool
    version: int
    updated_at: datetime
    updated_by: str
    tasks: list[TaskRead]


class CardList(BaseModel):
    items: list[CardRead]
    total: int


class CardSet(ApiInput):
    """A card set as a YAML file: ``set`` names it; each card as ``POST /api/v1/action-cards`` takes it (its
    ``card_set`` is the file's)."""

    set: CardKey
    cards: list[CardIn] = Field(min_length=1, max_length=MAX_CARDS)


class ImportResult(BaseModel):
    card_set: str
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    dry_run: bool


class ReviewIn(ApiInput):
    organisation_id: IdField
    subject: Literal["action_cards", "management_group"]
    reviewed_by: str = Field(min_length=1, max_length=200, description="Who reviewed, as named")
    reviewed_at: PeriodStart | None = Field(default=None, description="When (default: now); no offset: Finnish time")
    comment: str = Field(default="", max_length=2000)


class ReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation_id: int
    subject: str
    reviewed_by: str
    reviewed_at: datetime
    comment: str
    recorded_by: str


class ReviewStatus(BaseModel):
    """An organisation's latest review of each subject (null: never reviewed)."""

    organisation_id: int
    organisation: str
    action_cards: ReviewRead | None
    management_group: ReviewRead | None


class ReviewStatusList(BaseModel):
    items: list[ReviewStatus]
    total: int


class ActivationIn(ApiInput):
    card: CardKey = Field(description="The card's key")
    area: str = Field(
        min_length=1, max_length=60, description="region, a management area or a municipality: whose holders act"
    )
    drill_id: IdField | None = Field(default=None, description="A running drill: the activation is an exercise")
    idempotency_key: str | None = Field(
        default=None, min_length=1, max_length=80, description="The same key again answers with the same activation"
    )


class CloseIn(ApiInput):
    reason: str = Field(min_length=1, max_length=500)


class MarkIn(ApiInput):
    """An operator marks a task on someone's behalf: the reason is audited."""

    reason: str = Field(min_length=1, max_length=500, description="Why the operator marks it (audited)")
    comment: str = Field(default="", max_length=1000, description="What the person said")


class ActivatedTaskRead(BaseModel):
    id: int
    position: int
    text: dict[str, str]
    check: dict[str, str] | None
    role: str
    organisation: str | None
    assignee: str | None = Field(description="The person's name (never a number); null: nobody holds the role")
    handed_over_from: str | None
    due_at: datetime
    state: Literal["open", "done", "cannot", "cancelled"]
    overdue: bool
    done_at: datetime | None
    comment: str | None
    marked_by: str | None


class ActivationRead(BaseModel):
    id: int
    card: str
    title: dict[str, str]
    area: str
    level: str | None
    drill_id: int | None
    exercise: bool
    state: Literal["active", "closed"]
    decision_id: int | None
    activated_at: datetime
    activated_by: str
    closed_at: datetime | None
    close_reason: str | None
    tasks: list[ActivatedTaskRead]


class ActivationList(BaseModel):
    items: list[ActivationRead]
    total: int
