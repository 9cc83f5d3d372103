"""Roster compliance: has every organisation named the contacts the agreement requires?

This is the agreement's own follow-up metric ("kunnat ovat nimenneet …"), so the result is both data for programs
and a text a person can read (``render_text``).
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
from contacts.catalogue import RoleSpec
from contacts.models import Membership, Organisation, Person

Status = Literal["ok", "incomplete", "missing"]

LABELS = {
    "fi": {
        "area": "alue",
        "ok": "kunnossa",
        "incomplete": "puutteellinen",
        "missing": "puuttuu",
        "deputy": "varahenkilö",
        "yes": "kyllä",
        "no": "ei",
        "not_required": "ei vaadita",
        "reachable": "tavoitettavissa",
        "title": "Yhteyshenkilöiden nimeäminen",
        "region": "Koko alue",
        "rules": "Kokoonpanosäännöt",
        "summary": "{met}/{total} vaatimusta täytetty",
    },
    "sv": {
        "area": "område",
        "ok": "i ordning",
        "incomplete": "ofullständig",
        "missing": "saknas",
        "deputy": "ersättare",
        "yes": "ja",
        "no": "nej",
        "not_required": "krävs inte",
        "reachable": "nåbar",
        "title": "Utnämnda kontaktpersoner",
        "region": "Hela regionen",
        "rules": "Sammansättningsregler",
        "summary": "{met}/{total} krav uppfyllda",
    },
    "en": {
        "area": "area",
        "ok": "ok",
        "incomplete": "incomplete",
        "missing": "missing",
        "deputy": "deputy",
        "yes": "yes",
        "no": "no",
        "not_required": "not required",
        "reachable": "reachable",
        "title": "Named contacts",
        "region": "Whole region",
        "rules": "Composition rules",
        "summary": "{met}/{total} requirements met",
    },
}


@dataclass
class Holder:
    person_id: int
    name: str
    organisation: str
    reachable: bool
    deputies: list[str]
    problems: list[str]


@dataclass
class RequirementResult:
    scope: str
    role: str
    role_name: dict[str, str]
    required: int
    status: Status
    deputy_expected: bool
    has_deputy: bool
    reachable: bool
    named: list[Holder]
    problems: list[str] = field(default_factory=list)


@dataclass
class RuleResult:
    rule: str
    ok: bool
    message: str


@dataclass
class ComplianceReport:
    generated_at: datetime
    organisations: dict[str, list[RequirementResult]]
    areas: list[RequirementResult]
    region: list[RequirementResult]
    rules: list[RuleResult]

    def all_results(self) -> list[RequirementResult]:
        return [r for results in self.organisations.values() for r in results] + self.areas + self.region

    @property
    def met(self) -> int:
        return sum(r.status == "ok" for r in self.all_results())

    @property
    def complete(self) -> bool:
        return self.met == len(self.all_results()) and all(rule.ok for rule in self.rules)


def _problems_of(person: Person) -> list[str]:
    problems = []
    if not person.active:
        problems.append("inactive")
    if not person.mobile:
        problems.append("no mobile number")
    if not person.email:
        problems.append("no email address")
    return problems


def _holder(person: Person, deputies: list[Membership]) -> Holder:
    problems = _problems_of(person)
    for deputy in deputies:
        problems += [f"deputy {deputy.person.name}: {p}" for p in _problems_of(deputy.person)]
    return Holder(
        person_id=person.id,
        name=person.name,
        organisation=person.organisation.short_name,
        reachable=not _problems_of(person),
        deputies=[d.person.name for d in deputies],
        problems=problems,
    )


def _result(scope: str, role: RoleSpec, required: int, holders: list[Holder]) -> RequirementResult:
    has_deputy = bool(holders) and all(h.deputies for h in holders)
    reachable = bool(holders) and all(h.reachable for h in holders)
    problems = []
    if len(holders) < required:
        problems.append(f"{required - len(holders)} of {required} not named")
    if holders and role.deputy and not has_deputy:
        problems.append("no deputy named")
    if holders and not reachable:
        problems.append("not reachable by both SMS and email")
    status: Status = "missing" if not holders else ("ok" if not problems else "incomplete")
    return RequirementResult(
        scope=scope,
        role=role.key,
        role_name=role.names.model_dump(),
        required=required,
        status=status,
        deputy_expected=role.deputy,
        has_deputy=has_deputy,
        reachable=reachable,
        named=holders,
        problems=problems,
    )


def _load(
    session: Session,
) -> tuple[list[Organisation], dict[str, list[Membership]], dict[int, list[Membership]]]:
    organisations = list(session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.short_name)))
    memberships = session.scalars(
        select(Membership).options(selectinload(Membership.person).selectinload(Person.organisation))
    ).all()
    holders_by_role: dict[str, list[Membership]] = defaultdict(list)
    deputies_of: dict[int, list[Membership]] = defaultdict(list)
    for membership in memberships:
        if membership.deputy_of_id is None:
            if membership.person.active:
                holders_by_role[membership.role_key].append(membership)
        else:
            deputies_of[membership.deputy_of_id].append(membership)
    return organisations, holders_by_role, deputies_of


def _in_scope(organisation: Organisation, kinds: Sequence[str], keys: Sequence[str]) -> bool:
    return organisation.kind in kinds or organisation.key in keys


def check_compliance(session: Session) -> ComplianceReport:
    organisations, holders_by_role, deputies_of = _load(session)
    report = ComplianceReport(generated_at=utcnow(), organisations={}, areas=[], region=[], rules=[])

    def holders(memberships: list[Membership]) -> list[Holder]:
        """One holder per person, with the deputies named for any of the person's memberships in the role."""
        people: dict[int, Person] = {}
        deputies: dict[int, list[Membership]] = defaultdict(list)
        for membership in memberships:
            people[membership.person_id] = membership.person
            deputies[membership.person_id] += deputies_of.get(membership.id, [])
        return [_holder(person, deputies[person_id]) for person_id, person in people.items()]

    for role in catalogue.catalogue().roles:
        requirement = role.required
        if requirement is None:
            continue
        in_scope = [o for o in organisations if _in_scope(o, requirement.kinds, requirement.organisations)]
        scope_ids = {o.id for o in in_scope}
        named = [m for m in holders_by_role.get(role.key, []) if m.person.organisation_id in scope_ids]
        if requirement.per == "organisation":
            for organisation in in_scope:
                own = [m for m in named if m.person.organisation_id == organisation.id]
                report.organisations.setdefault(organisation.short_name, []).append(
                    _result(organisation.short_name, role, requirement.count, holders(own))
                )
        elif requirement.per == "area":
            for area in AREAS:
                own = [m for m in named if m.person.organisation.area == area]
                report.areas.append(_result(area, role, requirement.count, holders(own)))
            report.rules.append(_composition_rule(role, holders_by_role.get(role.key, [])))
        else:
            report.region.append(_result("region", role, requirement.count, holders(named)))
    return report


def _composition_rule(role: RoleSpec, memberships: list[Membership]) -> RuleResult:
    """The valmiusjohtoryhmä: exactly one member from each of Kokkola, Perhonjokilaakso and Lestijokilaakso."""
    per_area: dict[str | None, list[str]] = defaultdict(list)
    for membership in {m.person_id: m for m in memberships}.values():
        per_area[membership.person.organisation.area].append(membership.person.name)
    problems = [
        f"{len(per_area.get(area, []))} members from {area}" for area in AREAS if len(per_area.get(area, [])) != 1
    ]
    if per_area.get(None):
        problems.append(f"{len(per_area[None])} members from outside the three areas")
    message = f"{role.names.en}: one member from each of {', '.join(AREAS)}" + (
        " — " + "; ".join(problems) if problems else " — ok"
    )
    return RuleResult(rule=f"{role.key}_composition", ok=not problems, message=message)


def render_text(report: ComplianceReport, language: str = "fi") -> str:
    """The report as plain text for a person (the agreement's follow-up)."""
    labels = LABELS.get(language, LABELS["fi"])
    lines = [
        f"{labels['title']} ({report.generated_at:%Y-%m-%d %H:%M} UTC)",
        labels["summary"].format(met=report.met, total=len(report.all_results())),
        "",
    ]

    def describe(result: RequirementResult) -> str:
        names = ", ".join(h.name for h in result.named) or "—"
        deputy = labels["not_required"] if not result.deputy_expected else labels["yes" if result.has_deputy else "no"]
        text = (
            f"  [{labels[result.status]}] {result.role_name.get(language, result.role_name['fi'])}: {names}; "
            f"{labels['deputy']}: {deputy}; {labels['reachable']}: {labels['yes' if result.reachable else 'no']}"
        )
        return text + (f" ({'; '.join(result.problems)})" if result.problems else "")

    for organisation, results in report.organisations.items():
        lines.append(organisation)
        lines += [describe(r) for r in results]
    for result in report.areas:
        lines.append(f"{result.scope} ({labels['area']})")
        lines.append(describe(result))
    if report.region:
        lines.append(labels["region"])
        lines += [describe(r) for r in report.region]
    lines.append(labels["rules"])
    lines += [f"  [{labels['ok' if rule.ok else 'incomplete']}] {rule.message}" for rule in report.rules]
    return "\n".join(lines) + "\n"
