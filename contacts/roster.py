"""Roster CSV import and export (DESIGN.md §5): one row per group membership, all-or-nothing."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from alueturva.api_types import refuse_control_characters
from alueturva.audit import service as audit
from alueturva.auth.service import Principal
from alueturva.errors import Invalid
from contacts import catalogue, service
from contacts.models import LANGUAGES, Group, Membership, Organisation, Person
from contacts.validation import normalise_email, normalise_mobile

COLUMNS = (
    "organisation",
    "name",
    "title",
    "mobile",
    "email",
    "language",
    "group",
    "role",
    "deputy_of",
    "order",
)
MAX_LENGTHS = {"name": 200, "title": 200, "mobile": 40, "email": 254, "deputy_of": 200}
MAX_ROWS = 20_000


@dataclass
class RowError:
    row: int
    column: str | None
    message: str


@dataclass
class ImportReport:
    dry_run: bool
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    people_created: int = 0
    people_updated: int = 0
    memberships_added: int = 0
    memberships_updated: int = 0
    memberships_removed: int = 0

    @property
    def changed(self) -> bool:
        return any(
            (
                self.people_created,
                self.people_updated,
                self.memberships_added,
                self.memberships_updated,
                self.memberships_removed,
            )
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"applied": not self.dry_run and not self.errors, "changed": self.changed}


class RosterRejected(Invalid):
    """The file cannot be imported; ``detail`` carries the message and the per-row errors."""

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__({"message": message, **report.as_dict()})
        self.report = report


@dataclass
class _Row:
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


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(
            f"the file is not UTF-8 (byte {exc.start} cannot be read); save it as 'CSV UTF-8' and try again"
        ) from exc


def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """Rows as ``(line number, {column: value})``; ``;`` or ``,`` separated, UTF-8 with or without a BOM."""
    text = _decode(data)
    if not text.strip():
        raise Invalid("the file is empty; the first line must name the columns: " + ", ".join(COLUMNS))
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [column.strip().lower() for column in next(reader)]
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise Invalid(f"duplicate column(s) in the header: {', '.join(duplicates)}")
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s): {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s): {', '.join(unknown)}")
        raise Invalid("; ".join(parts) + f". The columns are: {', '.join(COLUMNS)}")
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise Invalid(f"the file has more than {MAX_ROWS} rows; split it")
            line = reader.line_num
            if len(values) != len(header):
                rows.append((line, {"__width__": f"has {len(values)} fields, the header has {len(header)}"}))
                continue
            rows.append((line, {c: v.strip() for c, v in zip(header, values, strict=True)}))
    except csv.Error as exc:
        raise Invalid(f"line {reader.line_num} cannot be read as CSV: {exc}") from exc
    return rows


def deputised_row(row: _Row, group_rows: list[_Row]) -> _Row | None:
    """The row that ``row`` deputises: the other member of that name in the group, preferring the same role."""
    named = [r for r in group_rows if r.name == row.deputy_of and r.person_key != row.person_key]
    candidates = [r for r in named if r.role == row.role] or named
    return candidates[0] if len({r.person_key for r in candidates}) == 1 else None


class _Validator:
    def __init__(self, session: Session, report: ImportReport) -> None:
        self.session = session
        self.report = report
        self.roles = catalogue.roles_by_key()
        self.organisations = service.organisation_lookup(session)
        self.groups = service.group_lookup(session)

    def error(self, line: int, column: str | None, message: str) -> None:
        self.report.errors.append(RowError(line, column, message))

    def row(self, line: int, values: dict[str, str]) -> _Row | None:
        if "__width__" in values:
            self.error(line, None, f"the row {values['__width__']}")
            return None
        errors_before = len(self.report.errors)
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
        if len(self.report.errors) > errors_before or organisation is None:
            return None
        return _Row(
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
        if not raw.isdigit() or int(raw) > 10_000:
            self.error(line, "order", f"'{raw}' is not a whole number from 0 to 10000")
            return None
        return int(raw)

    def consistency(self, rows: list[_Row]) -> None:
        """Rows must agree about each person, and each group may hold a person once."""
        first_by_person: dict[tuple[str, str], _Row] = {}
        first_by_mobile: dict[str, _Row] = {}
        members: dict[int, dict[tuple[str, str, str | None], _Row]] = defaultdict(dict)
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

    def existing_people(self, rows: list[_Row]) -> dict[tuple[str, str], Person]:
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


def _apply(
    session: Session,
    rows: list[_Row],
    people: dict[tuple[str, str], Person],
    report: ImportReport,
    actor: Principal,
) -> None:
    for row in rows:
        if row.person_key in people:
            person = people[row.person_key]
            if service.apply_changes(person, row.person_fields()):
                report.people_updated += 1
        else:
            person = Person(name=row.name, mobile=row.mobile, **row.person_fields())
            session.add(person)
            people[row.person_key] = person
            report.people_created += 1
    session.flush()

    by_group: dict[int, list[_Row]] = defaultdict(list)
    groups: dict[int, Group] = {}
    for row in rows:
        if row.group is not None:
            by_group[row.group.id].append(row)
            groups[row.group.id] = row.group
    for group_id, group_rows in by_group.items():
        _sync_group(session, groups[group_id], group_rows, people, report)
    if report.changed:
        audit.record(
            session,
            actor=actor.actor,
            action="roster.import",
            entity_type="roster",
            details={k: v for k, v in report.as_dict().items() if k not in ("errors", "dry_run", "applied")},
        )


def _sync_group(
    session: Session,
    group: Group,
    rows: list[_Row],
    people: dict[tuple[str, str], Person],
    report: ImportReport,
) -> None:
    """Make the group's members exactly the file's rows for it."""
    session.refresh(group, ["members"])
    current = {(m.person_id, m.role_key): m for m in group.members}
    wanted = {(people[row.person_key].id, row.role) for row in rows}
    for key, membership in current.items():
        if key not in wanted:
            group.members.remove(membership)
            session.delete(membership)
            report.memberships_removed += 1
    session.flush()
    by_row: dict[int, Membership] = {}
    for position, row in enumerate(rows):
        person = people[row.person_key]
        order = row.order if row.order is not None else position
        found = current.get((person.id, row.role or ""))
        if found is None:
            membership = Membership(group=group, person=person, role_key=row.role or "", order=order)
            session.add(membership)
            report.memberships_added += 1
        else:
            membership = found
            if service.apply_changes(membership, {"order": order}):
                report.memberships_updated += 1
        by_row[row.line] = membership
    session.flush()
    existing_ids = {m.id for m in current.values()}
    for row in rows:
        membership = by_row[row.line]
        deputised = deputised_row(row, rows) if row.deputy_of else None
        deputy_of_id = by_row[deputised.line].id if deputised else None
        if membership.deputy_of_id != deputy_of_id:
            membership.deputy_of_id = deputy_of_id
            if membership.id in existing_ids:
                report.memberships_updated += 1
    session.flush()


def import_roster(session: Session, *, data: bytes, dry_run: bool, actor: Principal) -> ImportReport:
    """Validate every row, then apply all of it or nothing. A dry run applies inside a savepoint and rolls back,
    so its counts are exactly what the real import would do."""
    report = ImportReport(dry_run=dry_run)
    raw_rows = read_rows(data)
    report.rows = len(raw_rows)
    validator = _Validator(session, report)
    rows = [row for line, values in raw_rows if (row := validator.row(line, values)) is not None]
    if not report.errors:
        validator.consistency(rows)
    people = validator.existing_people(rows) if not report.errors else {}
    if report.errors:
        report.errors.sort(key=lambda e: (e.row, e.column or ""))
        raise RosterRejected(f"{len(report.errors)} error(s); nothing was imported", report)
    savepoint = session.begin_nested()
    _apply(session, rows, people, report, actor)
    if dry_run:
        savepoint.rollback()
        session.expire_all()
    else:
        savepoint.commit()
    return report


def export_roster(session: Session) -> str:
    """The roster in the import format (`;`-separated UTF-8 with a BOM, as Finnish spreadsheets expect)."""
    people = session.scalars(
        select(Person).options(
            selectinload(Person.organisation),
            selectinload(Person.memberships).selectinload(Membership.group),
            selectinload(Person.memberships).selectinload(Membership.deputy_of).selectinload(Membership.person),
        )
    ).all()
    records: list[tuple[Any, ...]] = []
    for person in people:
        base = [
            person.organisation.short_name,
            person.name,
            person.title or "",
            person.mobile or "",
            person.email or "",
            person.language,
        ]
        if not person.memberships:
            records.append(("", -1, person.name, [*base, "", "", "", ""]))
        for membership in person.memberships:
            deputy = membership.deputy_of.person.name if membership.deputy_of else ""
            row = [*base, membership.group.key, membership.role_key, deputy, str(membership.order)]
            records.append((membership.group.key, membership.order, person.name, row))
    records.sort(key=lambda r: (r[0] == "", r[0], r[1], r[2]))
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(record[3] for record in records)
    return out.getvalue()
