"""Roster compliance: has every organisation named the contacts the agreement requires?

This is the agreement's own follow-up metric ("kunnat ovat nimenneet …"). What the agreement requires (a named person
per required role, reachable by at least one channel; one valmiusjohtoryhmä member per area) is kept apart from what
is only recommended (a deputy, both SMS and email, the roles the agreement does not ask for): the first fails a
municipality, the second is advice. A role counts only in its designated group (``config/roles.yaml``). The result
is data for programs; ``contacts.compliance_text`` puts it into words.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from alueturva.db import utcnow
from contacts import catalogue
from contacts.areas import AREAS
from contacts.catalogue import Requirement, RoleSpec
from contacts.models import Membership, Organisation, OrganisationKind, Person

Status = Literal["ok", "incomplete", "missing"]
Kind = Literal["required", "recommended"]


@dataclass
class Finding:
    """Something missing, as a code (``not_named``, ``unreachable``, ``inactive``, ``no_deputy``, ``no_mobile``,
    ``no_email``) with what it is about; ``compliance_text`` says it in each language."""

    code: str
    person: str | None = None
    deputy: bool = False
    missing: int | None = None
    of: int | None = None


@dataclass
class Holder:
    person_id: int
    name: str
    organisation: str
    reachable: bool  # active, with a mobile number or an email address
    both_channels: bool
    deputies: list[str]


@dataclass
class RequirementResult:
    scope: str  # the organisation's short name, the area key or "region"
    scope_names: dict[str, str]
    role: str
    role_name: dict[str, str]
    kind: Kind  # required by the agreement, or only recommended
    required: int
    status: Status  # whether the requirement itself is met
    named: list[Holder]
    problems: list[Finding]  # what fails the requirement
    recommendations: list[Finding]  # recommended, never failing a required role: deputies, both channels
    deputy_recommended: bool
    has_deputy: bool
    reachable: bool

    @property
    def recommendations_met(self) -> bool:
        return self.status == "ok" and not self.recommendations


@dataclass
class RuleResult:
    """The valmiusjohtoryhmä composition: of the municipalities' members, one from each management area. The group
    is run together with the wellbeing services county: its members from the county (and the rescue department) are
    members, not exceptions to the rule; members from elsewhere are counted, and do not break it either."""

    rule: str
    kind: Kind
    ok: bool
    group_names: dict[str, str]
    members_per_area: dict[str, int]
    county_members: int
    outside_areas: int


@dataclass
class ComplianceReport:
    generated_at: datetime
    organisations: dict[str, list[RequirementResult]]
    areas: list[RequirementResult]
    region: list[RequirementResult]
    rules: list[RuleResult]
    area_names: dict[str, dict[str, str]] = field(default_factory=dict)

    def all_results(self) -> list[RequirementResult]:
        return [r for results in self.organisations.values() for r in results] + self.areas + self.region

    def results(self, kind: Kind) -> list[RequirementResult]:
        return [result for result in self.all_results() if result.kind == kind]

    @property
    def met(self) -> int:
        """Requirements of the agreement that are met."""
        return sum(result.status == "ok" for result in self.results("required"))

    @property
    def total(self) -> int:
        return len(self.results("required"))

    @property
    def recommendations_met(self) -> int:
        return sum(result.recommendations_met for result in self.all_results())

    @property
    def complete(self) -> bool:
        """Everything the agreement requires is named and reachable."""
        return self.met == self.total and all(rule.ok for rule in self.rules if rule.kind == "required")

    @property
    def complete_with_recommendations(self) -> bool:
        return self.complete and self.recommendations_met == len(self.all_results())


def _person_findings(person: Person, *, deputy: bool) -> list[Finding]:
    """What keeps a person from being reached well: inactive, or a channel missing (both are recommended)."""
    if not person.active:
        return [Finding("inactive", person=person.name, deputy=deputy)]
    findings = []
    if not person.mobile:
        findings.append(Finding("no_mobile", person=person.name, deputy=deputy))
    if not person.email:
        findings.append(Finding("no_email", person=person.name, deputy=deputy))
    return findings


def _holder(person: Person, deputies: list[Membership]) -> Holder:
    return Holder(
        person_id=person.id,
        name=person.name,
        organisation=person.organisation.short_name,
        reachable=person.active and bool(person.mobile or person.email),
        both_channels=bool(person.mobile and person.email),
        deputies=[deputy.person.name for deputy in deputies],
    )


class _Roster:
    """The memberships that count: each role only in its designated group; holders active; deputies apart."""

    def __init__(self, session: Session) -> None:
        self.organisations = list(
            session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.short_name))
        )
        memberships = session.scalars(
            select(Membership).options(
                selectinload(Membership.group),
                selectinload(Membership.person).selectinload(Person.organisation),
            )
        ).all()
        self.holders: dict[str, list[Membership]] = defaultdict(list)
        self.deputies_of: dict[int, list[Membership]] = defaultdict(list)
        for membership in memberships:
            if membership.deputy_of_id is not None:
                self.deputies_of[membership.deputy_of_id].append(membership)
            elif membership.person.active:
                self.holders[membership.role_key].append(membership)

    def counted(self, role: RoleSpec) -> list[Membership]:
        """The role's holders in its designated group."""
        return [m for m in self.holders[role.key] if m.group.key == role.group]

    def counted_for(self, role: RoleSpec, organisation: Organisation) -> list[Membership]:
        """An organisation's holders of the role: in the organisation's own group where the role has a group per
        organisation (whoever sits in it), otherwise its people in the role's group."""
        if "{organisation}" in role.group:
            return [m for m in self.holders[role.key] if m.group.key == role.group_for(organisation.key)]
        return [m for m in self.counted(role) if m.person.organisation_id == organisation.id]

    def result(
        self, scope: str, scope_names: dict[str, str], role: RoleSpec, kind: Kind, count: int, named: list[Membership]
    ) -> RequirementResult:
        people: dict[int, Person] = {}
        deputies: dict[int, list[Membership]] = defaultdict(list)
        for membership in named:
            people[membership.person_id] = membership.person
            deputies[membership.person_id] += self.deputies_of.get(membership.id, [])
        holders = [_holder(person, deputies[person_id]) for person_id, person in people.items()]
        problems = []
        if len(holders) < count:
            problems.append(Finding("not_named", missing=count - len(holders), of=count))
        problems += [Finding("unreachable", person=h.name) for h in holders if not h.reachable]
        recommendations = []
        if holders and role.deputy and not all(h.deputies for h in holders):
            recommendations.append(Finding("no_deputy"))
        for person_id, person in people.items():
            if person.active and (person.mobile or person.email):
                recommendations += _person_findings(person, deputy=False)
            for deputy in deputies[person_id]:
                recommendations += _person_findings(deputy.person, deputy=True)
        status: Status = "missing" if not holders else ("ok" if not problems else "incomplete")
        return RequirementResult(
            scope=scope,
            scope_names=scope_names,
            role=role.key,
            role_name=role.names.model_dump(),
            kind=kind,
            required=count,
            status=status,
            named=holders,
            problems=problems,
            recommendations=recommendations,
            deputy_recommended=role.deputy,
            has_deputy=bool(holders) and all(h.deputies for h in holders),
            reachable=bool(holders) and all(h.reachable for h in holders),
        )


def _in_scope(organisation: Organisation, requirement: Requirement) -> bool:
    return organisation.kind in requirement.kinds or organisation.key in requirement.organisations


def _names_of(organisation: Organisation) -> dict[str, str]:
    return catalogue.display_names(
        short_name=organisation.short_name,
        name_sv=organisation.name_sv,
        name_en=organisation.name_en,
        kind=organisation.kind,
    )


def check_compliance(session: Session) -> ComplianceReport:
    roster = _Roster(session)
    area_names = catalogue.area_names()
    report = ComplianceReport(
        generated_at=utcnow(), organisations={}, areas=[], region=[], rules=[], area_names=area_names
    )
    for role in catalogue.catalogue().roles:
        requirement = role.requirement
        if requirement is None:
            continue
        kind: Kind = "required" if role.required is not None else "recommended"
        in_scope = [o for o in roster.organisations if _in_scope(o, requirement)]
        if requirement.per == "organisation":
            for organisation in in_scope:
                own = roster.counted_for(role, organisation)
                report.organisations.setdefault(organisation.short_name, []).append(
                    roster.result(organisation.short_name, _names_of(organisation), role, kind, requirement.count, own)
                )
            continue
        scope_ids = {o.id for o in in_scope}
        named = [m for m in roster.counted(role) if m.person.organisation_id in scope_ids]
        if requirement.per == "area":
            for area in AREAS:
                own = [m for m in named if m.person.organisation.area == area]
                report.areas.append(roster.result(area, area_names[area], role, kind, requirement.count, own))
            report.rules.append(_composition_rule(role, kind, roster.counted(role)))
        else:
            region = catalogue.region_names()
            report.region.append(roster.result("region", region, role, kind, requirement.count, named))
    return report


def _of_county(organisation: Organisation) -> bool:
    """The wellbeing services county, or one of its units (the rescue department)."""
    parent = organisation.parent
    return organisation.kind == OrganisationKind.county or (
        organisation.kind == OrganisationKind.unit and parent is not None and parent.kind == OrganisationKind.county
    )


def _composition_rule(role: RoleSpec, kind: Kind, memberships: Sequence[Membership]) -> RuleResult:
    """The valmiusjohtoryhmä: of the municipalities' members, exactly one from each of Kokkola, Perhonjokilaakso and
    Lestijokilaakso; the county's members are members too (the group works together with the county)."""
    per_area: dict[str | None, set[int]] = defaultdict(set)
    county: set[int] = set()
    for membership in memberships:
        organisation = membership.person.organisation
        if _of_county(organisation):
            county.add(membership.person_id)
            continue
        area = organisation.area if organisation.kind == OrganisationKind.municipality else None
        per_area[area].add(membership.person_id)
    counts: dict[str, int] = {area: len(per_area.get(area, set())) for area in AREAS}
    group = next(g for g in catalogue.catalogue().groups if g.key == role.group)
    return RuleResult(
        rule=f"{role.key}_composition",
        kind=kind,
        ok=all(count == 1 for count in counts.values()),
        group_names=group.names.model_dump(),
        members_per_area=counts,
        county_members=len(county),
        outside_areas=len(per_area.get(None, set())),
    )
