"""Validating roster rows: each row on its own, then the file as a whole (rows agree about each person, deputies
name a member of the same group), then against the people already stored."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alueturva.api_types import refuse_control_characters
from alueturva.digits import ascii_int
from alueturva.i18n import LANGUAGES
from contacts import catalogue, service
from contacts.models import Group, Organisation, Person
from contacts.roster_csv import MAX_LENGTHS
from contacts.validation import normalise_email, normalise_mobile


@dataclass
class RowError:
    row: int
    column: str | None
    message: str


@dataclass
class RosterRow:
    line: int
    organisation: Organisation
    name: str
    title: str | None
    mobile: str | None
    email: str | None
    language: str
    group: Group | None
    role: str | None
    deputy_of: str | None
    order: int | None

    @property
    def person_key(self) -> tuple[str, str]:
        return (self.name, self.mobile or f"no-mobile:{self.organisation.id}")

    def person_fields(self) -> dict[str, Any]:
        return {
            "organisation_id": self.organisation.id,
            "title": self.title,
            "email": self.email,
            "language": self.language,
        }


def deputised_row(row: RosterRow, group_rows: list[RosterRow]) -> RosterRow | None:
    """The row that ``row`` deputises: the other member of that name in the group, preferring the same role."""
    named = [r for r in group_rows if r.name == row.deputy_of and r.person_key != row.person_key]
    candidates = [r for r in named if r.role == row.role] or named
    return candidates[0] if len({r.person_key for r in candidates}) == 1 else None


class RowValidator:
    def __init__(self, session: Session, errors: list[RowError]) -> None:
        self.session = session
        self.errors = errors
        self.roles = catalogue.roles_by_key()
        self.organisations = service.organisation_lookup(session)
        self.groups = service.group_lookup(session)

    def error(self, line: int, column: str | None, message: str) -> None:
        self.errors.append(RowError(line, column, message))

    def row(self, line: int, values: dict[str, str]) -> RosterRow | None:
        if "__width__" in values:
            self.error(line, None, f"the row {values['__width__']}")
            return None
        errors_before = len(self.errors)
        for column, limit in MAX_LENGTHS.items():
            if len(values[column]) > limit:
                self.error(line, column, f"longer than {limit} characters")
        for column, value in values.items():
            try:
                refuse_control_characters(value)
            except ValueError as exc:
                self.error(line, column, str(exc))
        organisation = self.organisations.get(values["organisation"].casefold())
        if organisation is None:
            self.error(line, "organisation", f"unknown organisation '{values['organisation']}'")
        if not values["name"]:
            self.error(line, "name", "the name is empty")
        mobile = self.optional(line, "mobile", values["mobile"], normalise_mobile)
        email = self.optional(line, "email", values["email"], normalise_email)
        if not values["mobile"] and not values["email"]:
            self.error(line, "mobile", "a contact needs a mobile number or an email address")
        language = values["language"].lower() or (organisation.languages[0] if organisation else "fi")
        if language not in LANGUAGES:
            self.error(line, "language", f"unknown language '{values['language']}'; use fi, sv or en")
        group = self.group(line, values)
        order = self.order(line, values["order"])
        if len(self.errors) > errors_before or organisation is None:
            return None
        return RosterRow(
            line=line,
            organisation=organisation,
            name=values["name"],
            title=values["title"] or None,
            mobile=mobile,
            email=email,
            language=language,
            group=group,
            role=values["role"] or None,
            deputy_of=values["deputy_of"] or None,
            order=order,
        )

    def optional(self, line: int, column: str, raw: str, normalise: Any) -> str | None:
        if not raw:
            return None
        try:
            return str(normalise(raw))
        except ValueError as exc:
            self.error(line, column, str(exc))
            return None

    def group(self, line: int, values: dict[str, str]) -> Group | None:
        if not values["group"] and not values["role"]:
            if values["deputy_of"]:
                self.error(line, "deputy_of", "a deputy needs a group and a role")
            return None
        if not values["group"]:
            self.error(line, "group", "a row with a role needs a group")
            return None
        if not values["role"]:
            self.error(line, "role", "a row with a group needs a role")
        elif values["role"] not in self.roles:
            self.error(line, "role", f"unknown role '{values['role']}'")
        group = self.groups.get(values["group"].casefold())
        if group is None:
            self.error(line, "group", f"unknown group '{values['group']}'")
        return group

    def order(self, line: int, raw: str) -> int | None:
        if not raw:
            return None
        number = ascii_int(raw)
        if number is None or number > 10_000:
            self.error(line, "order", f"'{raw}' is not a whole number from 0 to 10000 (digits 0-9)")
            return None
        return number

    def consistency(self, rows: list[RosterRow]) -> None:
        """Rows must agree about each person, and each group may hold a person once."""
        first_by_person: dict[tuple[str, str], RosterRow] = {}
        first_by_mobile: dict[str, RosterRow] = {}
        members: dict[int, dict[tuple[str, str, str | None], RosterRow]] = defaultdict(dict)
        for row in rows:
            first = first_by_person.setdefault(row.person_key, row)
            if first is not row and first.person_fields() != row.person_fields():
                differing = [k for k, v in row.person_fields().items() if first.person_fields()[k] != v]
                self.error(
                    row.line,
                    differing[0].removesuffix("_id"),
                    f"conflicts with row {first.line} about the same person ({', '.join(differing)} differ)",
                )
            if row.mobile:
                holder = first_by_mobile.setdefault(row.mobile, row)
                if holder.name != row.name:
                    self.error(
                        row.line,
                        "mobile",
                        f"duplicate person: row {holder.line} has this mobile number under another name",
                    )
            if row.group is not None:
                key = (*row.person_key, row.role)
                if key in members[row.group.id]:
                    self.error(
                        row.line,
                        "role",
                        f"duplicate: row {members[row.group.id][key].line} already "
                        "gives this person this role in this group",
                    )
                members[row.group.id][key] = row
        for group_members in members.values():
            group_rows = list(group_members.values())
            for member in group_rows:
                if member.deputy_of is None:
                    continue
                if member.deputy_of == member.name:
                    self.error(member.line, "deputy_of", "a member cannot be their own deputy")
                elif not [r for r in group_rows if r.name == member.deputy_of]:
                    self.error(
                        member.line,
                        "deputy_of",
                        f"'{member.deputy_of}' is not in the same group in this file",
                    )
                elif deputised_row(member, group_rows) is None:
                    self.error(member.line, "deputy_of", f"'{member.deputy_of}' is ambiguous in this group")

    def existing_people(self, rows: list[RosterRow]) -> dict[tuple[str, str], Person]:
        """Match file rows to stored people by (name, mobile); refuse a stored mobile under another name."""
        matched: dict[tuple[str, str], Person] = {}
        for row in rows:
            if row.person_key in matched:
                continue
            if row.mobile:
                person = self.session.scalar(select(Person).where(Person.mobile == row.mobile))
                if person is not None and person.name != row.name:
                    self.error(
                        row.line,
                        "mobile",
                        f"duplicate person: the mobile number belongs to person {person.id} under another name",
                    )
                    continue
            else:
                person = self.session.scalar(
                    select(Person).where(
                        Person.name == row.name,
                        Person.mobile.is_(None),
                        Person.organisation_id == row.organisation.id,
                    )
                )
            if person is not None:
                matched[row.person_key] = person
        return matched
