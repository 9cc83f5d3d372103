"""Roster import and export (docs/architecture.md §5): all or nothing, with a per-row error report."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from alueturva.audit import service as audit
from alueturva.auth.service import Principal
from alueturva.errors import Invalid
from contacts import service
from contacts.models import Group, Membership, Person
from contacts.roster_csv import read_rows, write_rows
from contacts.roster_rows import RosterRow, RowError, RowValidator, deputised_row


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


def _apply(
    session: Session,
    rows: list[RosterRow],
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

    by_group: dict[int, list[RosterRow]] = defaultdict(list)
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
    rows: list[RosterRow],
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
    validator = RowValidator(session, report.errors)
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
    return write_rows(record[3] for record in records)
