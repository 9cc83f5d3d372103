"""The shipped reference data of the contacts domain: organisations, the role catalogue and built-in groups."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator, model_validator

from alueturva.config import ConfigModel, Names, check_in_order, config_path, load_yaml
from alueturva.digits import is_ascii_number
from alueturva.i18n import Language
from contacts.areas import AREAS, REGION, AreaKey
from contacts.models import OrganisationKind


def business_id_is_valid(business_id: str) -> bool:
    """Finnish business id (Y-tunnus) NNNNNNN-C with its modulo-11 check digit."""
    if len(business_id) != 9 or business_id[7] != "-" or not is_ascii_number(business_id[:7] + business_id[8]):
        return False
    remainder = sum(int(d) * w for d, w in zip(business_id[:7], (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    if remainder == 1:
        return False
    return int(business_id[8]) == (0 if remainder == 0 else 11 - remainder)


class OrganisationSpec(ConfigModel):
    key: str = Field(pattern=r"^[a-z0-9_]+$")
    short_name: str
    name: str
    name_sv: str
    name_en: str
    business_id: str | None = None
    kind: OrganisationKind
    area: AreaKey | None = None
    population: int | None = Field(None, ge=0)
    languages: list[Language] = ["fi"]
    parent: str | None = None

    @field_validator("business_id")
    @classmethod
    def _check_business_id(cls, value: str | None) -> str | None:
        if value is not None and not business_id_is_valid(value):
            raise ValueError(f"'{value}' is not a valid Finnish business id (Y-tunnus)")
        return value


class Requirement(ConfigModel):
    per: Literal["organisation", "area", "region"]
    kinds: list[OrganisationKind] = []
    organisations: list[str] = []
    count: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _has_scope(self) -> Requirement:
        if not self.kinds and not self.organisations:
            raise ValueError("a requirement names organisation kinds or organisation keys")
        return self


class RoleSpec(ConfigModel):
    """A role; ``required`` is what the agreement asks, ``recommended`` what its work needs but it does not ask;
    ``deputy``: a deputy is recommended; the role counts only in its ``group``."""

    key: str = Field(pattern=r"^[a-z0-9_]+$")
    names: Names
    basis: str = ""
    required: Requirement | None = None
    recommended: Requirement | None = None
    deputy: bool = False
    group: str

    @model_validator(mode="after")
    def _required_or_recommended(self) -> RoleSpec:
        if self.required is not None and self.recommended is not None:
            raise ValueError("a role is either required (by the agreement) or recommended, not both")
        return self

    @property
    def requirement(self) -> Requirement | None:
        return self.required or self.recommended

    def group_for(self, organisation_key: str) -> str:
        """The key of the group where this role counts for an organisation."""
        return self.group.format(organisation=organisation_key)


class GroupSpec(ConfigModel):
    key: str
    names: Names
    description: str = ""
    per_organisation: list[OrganisationKind] = []


class RegionSpec(ConfigModel):
    names: Names


class AreaSpec(ConfigModel):
    key: AreaKey
    names: Names


class OrganisationsFile(ConfigModel):
    population_date: date = Field(description="The day the organisations' populations are of (Statistics Finland)")
    region: RegionSpec
    areas: list[AreaSpec]
    organisations: list[OrganisationSpec]

    @field_validator("areas")
    @classmethod
    def _every_area_once(cls, areas: list[AreaSpec]) -> list[AreaSpec]:
        check_in_order([area.key for area in areas], AREAS, "areas")
        return areas

    @model_validator(mode="after")
    def _parents_exist(self) -> OrganisationsFile:
        keys = [o.key for o in self.organisations]
        if len(keys) != len(set(keys)):
            raise ValueError("organisation keys must be unique")
        for organisation in self.organisations:
            if organisation.parent is not None and organisation.parent not in keys:
                raise ValueError(f"{organisation.key}: parent '{organisation.parent}' is not defined")
        return self


class RolesFile(ConfigModel):
    roles: list[RoleSpec]
    groups: list[GroupSpec]

    @model_validator(mode="after")
    def _references_resolve(self) -> RolesFile:
        group_keys = {g.key for g in self.groups}
        for role in self.roles:
            if role.group not in group_keys:
                raise ValueError(f"role {role.key}: group '{role.group}' is not defined under groups")
        return self


@lru_cache(maxsize=1)
def organisations() -> OrganisationsFile:
    return load_yaml(config_path("organisations.yaml"), OrganisationsFile)


@lru_cache(maxsize=1)
def catalogue() -> RolesFile:
    return load_yaml(config_path("roles.yaml"), RolesFile)


def area_names() -> dict[str, dict[str, str]]:
    """Each readiness-management area's names by language."""
    return {area.key: area.names.model_dump() for area in organisations().areas}


def region_names() -> dict[str, str]:
    return organisations().region.names.model_dump()


def display_names(*, short_name: str, name_sv: str | None, name_en: str | None, kind: str) -> dict[str, str]:
    """An organisation's name as people read it in a list, per language (the one source for it): a municipality
    by its own name (Kokkola, Karleby, Kokkola), anything else by its full Swedish and English names."""
    if kind == OrganisationKind.municipality:
        swedish = name_sv or short_name
        for suffix in (" stad", " kommun"):
            swedish = swedish.removesuffix(suffix)
        return {"fi": short_name, "sv": swedish, "en": short_name}
    return {"fi": short_name, "sv": name_sv or short_name, "en": name_en or short_name}


def place_names() -> dict[str, dict[str, str]]:
    """The names of every place the situational picture has, by key and language: the region, the three
    readiness-management areas and the municipalities (the one source of place names, from organisations.yaml)."""
    names = {REGION: region_names(), **area_names()}
    for organisation in organisations().organisations:
        if organisation.kind == OrganisationKind.municipality:
            names[organisation.key] = display_names(
                short_name=organisation.short_name,
                name_sv=organisation.name_sv,
                name_en=organisation.name_en,
                kind=organisation.kind,
            )
    return names


def roles_by_key() -> dict[str, RoleSpec]:
    return {role.key: role for role in catalogue().roles}
