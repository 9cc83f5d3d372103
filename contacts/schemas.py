from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from alueturva.api_types import ApiInput, IdField
from alueturva.i18n import Language
from contacts.areas import AreaKey
from contacts.compliance import RequirementResult, RuleResult
from contacts.models import OrganisationKind
from contacts.validation import normalise_email, normalise_mobile

Key = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")]
BusinessId = Annotated[str, Field(pattern=r"^[0-9]{7}-[0-9]$")]


class _Patch(ApiInput):
    """A partial update: fields left out stay as they are; ``not_null`` fields cannot be set to null."""

    not_null: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _refuse_null(self) -> Self:
        nulled = [f for f in self.not_null if f in self.model_fields_set and getattr(self, f) is None]
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be null; leave the field out to keep it")
        return self


def _mobile_or_none(value: str | None) -> str | None:
    return None if value is None or value == "" else normalise_mobile(value)


def _email_or_none(value: str | None) -> str | None:
    return None if value is None or value == "" else normalise_email(value)


# Organisations ---------------------------------------------------------------------------------------------------


class OrganisationCreate(ApiInput):
    key: Key
    short_name: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    name_sv: str | None = Field(None, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    business_id: BusinessId | None = None
    kind: OrganisationKind
    area: AreaKey | None = None
    population: int | None = Field(None, ge=0, le=10_000_000)
    languages: list[Language] = Field(default=["fi"], min_length=1, max_length=3)
    parent_id: IdField | None = None


class OrganisationUpdate(_Patch):
    not_null = ("short_name", "name", "languages")

    short_name: str | None = Field(None, min_length=1, max_length=100)
    name: str | None = Field(None, min_length=1, max_length=200)
    name_sv: str | None = Field(None, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    business_id: BusinessId | None = None
    area: AreaKey | None = None
    population: int | None = Field(None, ge=0, le=10_000_000)
    languages: list[Language] | None = Field(None, min_length=1, max_length=3)


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    short_name: str
    name: str
    name_sv: str | None
    name_en: str | None
    business_id: str | None
    kind: OrganisationKind
    area: str | None
    population: int | None
    languages: list[str]
    parent_id: int | None


class OrganisationList(BaseModel):
    items: list[OrganisationRead]
    total: int


# People ------------------------------------------------------------------------------------------------------------


class PersonCreate(ApiInput):
    name: str = Field(min_length=1, max_length=200)
    organisation_id: IdField
    title: str | None = Field(None, max_length=200)
    mobile: str | None = Field(None, max_length=40, description="Mobile number; stored as E.164 (default region FI)")
    email: str | None = Field(None, max_length=254)
    language: Language = "fi"
    active: bool = True

    _check_mobile = field_validator("mobile")(_mobile_or_none)
    _check_email = field_validator("email")(_email_or_none)


class PersonUpdate(_Patch):
    not_null = ("name", "organisation_id", "language", "active")

    name: str | None = Field(None, min_length=1, max_length=200)
    organisation_id: IdField | None = None
    title: str | None = Field(None, max_length=200)
    mobile: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254)
    language: Language | None = None
    active: bool | None = None

    _check_mobile = field_validator("mobile")(_mobile_or_none)
    _check_email = field_validator("email")(_email_or_none)


class PersonRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    organisation_id: int
    title: str | None
    mobile: str | None = Field(description="E.164; shown to operators and admins only (null for other roles)")
    email: str | None = Field(description="Shown to operators and admins only (null for other roles)")
    language: str
    active: bool
    created_at: datetime
    updated_at: datetime


class PersonList(BaseModel):
    items: list[PersonRead]
    total: int


# Groups ------------------------------------------------------------------------------------------------------------


CALL_AFTER = (
    "Alerts to the group call its members who have not acknowledged after this many minutes (null: never), unless "
    "the alert sets its own call_after_minutes"
)


class GroupCreate(ApiInput):
    key: Key
    name: str = Field(min_length=1, max_length=200)
    name_sv: str | None = Field(None, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=1000)
    organisation_id: IdField | None = None
    call_after_minutes: float | None = Field(None, ge=0, le=24 * 60, description=CALL_AFTER)


class GroupUpdate(_Patch):
    not_null = ("name",)

    name: str | None = Field(None, min_length=1, max_length=200)
    name_sv: str | None = Field(None, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=1000)
    call_after_minutes: float | None = Field(None, ge=0, le=24 * 60, description=CALL_AFTER)


class GroupRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    name: str
    name_sv: str | None
    name_en: str | None
    description: str | None
    organisation_id: int | None
    builtin: bool
    call_after_minutes: float | None = Field(None, description=CALL_AFTER)
    member_count: int = 0


class GroupList(BaseModel):
    items: list[GroupRead]
    total: int


class MemberCreate(ApiInput):
    person_id: IdField
    role: str = Field(min_length=1, max_length=60)
    order: int = Field(0, ge=0, le=10_000)
    deputy_of: IdField | None = Field(None, description="Membership id of the member this person deputises")


class MemberUpdate(_Patch):
    not_null = ("role", "order")

    role: str | None = Field(None, min_length=1, max_length=60)
    order: int | None = Field(None, ge=0, le=10_000)
    deputy_of: IdField | None = None


class MemberRead(BaseModel):
    id: int
    person_id: int
    name: str
    organisation_id: int
    title: str | None
    role: str
    order: int
    deputy_of: int | None
    active: bool


class GroupDetail(GroupRead):
    members: list[MemberRead]


# Roles -------------------------------------------------------------------------------------------------------------


class RoleRead(BaseModel):
    key: str
    names: dict[str, str]
    basis: str
    required: dict[str, object] | None = Field(description="What the agreement asks: who names the role, how many")
    recommended: dict[str, object] | None = Field(description="The same for a role the agreement does not ask for")
    deputy: bool = Field(description="A deputy is recommended (the agreement asks for none)")
    group: str = Field(description="The group where the role counts")


class RoleList(BaseModel):
    items: list[RoleRead]
    total: int


# Roster import and compliance --------------------------------------------------------------------------------------


class RowErrorRead(BaseModel):
    row: int
    column: str | None
    message: str


class MemberChangeRead(BaseModel):
    person_id: int | None = Field(description="None for a person the import would create (a dry run)")
    name: str
    role: str
    change: str = Field(description="added, changed (order or deputy) or removed")


class GroupChangesRead(BaseModel):
    group: str
    group_name: str
    added: list[MemberChangeRead]
    changed: list[MemberChangeRead]
    removed: list[MemberChangeRead]
    kept_absent: list[MemberChangeRead] = Field(
        description="Members absent from the file who stay, because the import did not replace the group"
    )


class PersonChangeRead(BaseModel):
    person_id: int | None
    name: str
    fields: list[str] = Field(description="The fields that changed (for a new person: empty)")


class ImportReportRead(BaseModel):
    dry_run: bool
    replace: bool
    applied: bool
    changed: bool
    rows: int
    errors: list[RowErrorRead]
    people_created: int
    people_updated: int
    memberships_added: int
    memberships_updated: int
    memberships_removed: int
    people_created_names: list[PersonChangeRead]
    people_updated_names: list[PersonChangeRead]
    groups: list[GroupChangesRead]


class ComplianceRead(BaseModel):
    generated_at: datetime
    complete: bool = Field(description="Everything the agreement requires is named and reachable")
    complete_with_recommendations: bool
    met: int = Field(description="Requirements of the agreement met")
    total: int = Field(description="Requirements of the agreement")
    recommendations_met: int
    recommendations_total: int
    organisations: dict[str, list[RequirementResult]]
    areas: list[RequirementResult]
    region: list[RequirementResult]
    rules: list[RuleResult]
