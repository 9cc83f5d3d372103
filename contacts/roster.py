"""Roster import and export (docs/architecture.md §5): all or nothing, with a per-row error report."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from alueturva.audit import service as audit
from alueturva.auth.service import Principal
from alueturva.db import get_database
from alueturva.errors import Invalid
from contacts import service
from contacts.models import Group, Membership, Person
from contacts.roster_csv import read_rows, write_rows
from contacts.roster_rows import RosterRow, RowError, RowValidator, deputised_row


@dataclass
class MemberChange:
    person_id: int | None  # None: a person a dry run would create
    name: str
    role: str
    change: str  # added, changed (order or deputy), removed, or kept (absent from the file, not replaced)


@dataclass
class GroupChanges:
    group: str
    group_name: str
    added: list[MemberChange] = field(default_factory=list)
    changed: list[MemberChange] = field(default_factory=list)
    removed: list[MemberChange] = field(default_factory=list)
    kept_absent: list[MemberChange] = field(default_factory=list)


@dataclass
class PersonChange:
    person_id: int | None
    name: str
    fields: list[str]


@dataclass
class ImportReport:
    dry_run: bool
    replace: bool = False
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    people_created: int = 0
    people_updated: int = 0
    memberships_added: int = 0
    memberships_updated: int = 0
    memberships_removed: int = 0
    people_created_names: list[PersonChange] = field(default_factory=list)
    people_updated_names: list[PersonChange] = field(default_factory=list)
    groups: list[GroupChanges] = field(default_factory=list)

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

    def audit_details(self) -> dict[str, Any]:
        """Counts and person ids per group: the audit log keeps no names."""
        counts = ("people_created", "people_updated", "memberships_added", "memberships_updated", "memberships_removed")
        return {
            "rows": self.rows,
            "replace": self.replace,
            **{key: getattr(self, key) for key in counts},
            "groups": {
                changes.group: {
                    kind: [member.person_id for member in getattr(changes, kind)]
                    for kind in ("added", "changed", "removed")
                    if getattr(changes, kind)
                }
                for changes in self.groups
            },
        }


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
) -> list[Person]:
    """Apply the rows; the people created (a dry run forgets their ids)."""
    created: list[Person] = []
    for row in rows:
        if row.person_key in people:
            person = people[row.person_key]
            if changes := service.apply_changes(person, row.person_fields()):
                report.people_updated += 1
                fields = sorted(name.removesuffix("_id") for name in changes)
                report.people_updated_names.append(PersonChange(person.id, person.name, fields))
        else:
            person = Person(name=row.name, mobile=row.mobile, **row.person_fields())
            session.add(person)
            people[row.person_key] = person
            created.append(person)
            report.people_created += 1
    session.flush()
    report.people_created_names = [PersonChange(person.id, person.name, []) for person in created]

    by_group: dict[int, list[RosterRow]] = defaultdict(list)
    groups: dict[int, Group] = {}
    for row in rows:
        if row.group is not None:
            by_group[row.group.id].append(row)
            groups[row.group.id] = row.group
    for group_id, group_rows in by_group.items():
        report.groups.append(_sync_group(session, groups[group_id], group_rows, people, report))
    if report.changed:
        audit.record(
            session, actor=actor.actor, action="roster.import", entity_type="roster", details=report.audit_details()
        )
    return created


def _sync_group(
    session: Session,
    group: Group,
    rows: list[RosterRow],
    people: dict[tuple[str, str], Person],
    report: ImportReport,
) -> GroupChanges:
    """Add and update the file's members of the group; with ``report.replace`` also remove the members the file
    does not name (otherwise they stay, and are listed as kept)."""
    changes = GroupChanges(group=group.key, group_name=group.name)
    session.refresh(group, ["members"])
    current = {(m.person_id, m.role_key): m for m in group.members}
    wanted = {(people[row.person_key].id, row.role or "") for row in rows}
    for key, membership in current.items():
        if key in wanted:
            continue
        member = MemberChange(membership.person_id, membership.person.name, membership.role_key, "removed")
        if report.replace:
            group.members.remove(membership)
            session.delete(membership)
            report.memberships_removed += 1
            changes.removed.append(member)
        else:
            member.change = "kept"
            changes.kept_absent.append(member)
    session.flush()
    by_row: dict[int, Membership] = {}
    touched: set[int] = set()
    for position, row in enumerate(rows):
        person = people[row.person_key]
        order = row.order if row.order is not None else position
        found = current.get((person.id, row.role or ""))
        if found is None:
            membership = Membership(group=group, person=person, role_key=row.role or "", order=order)
            session.add(membership)
            report.memberships_added += 1
            changes.added.append(MemberChange(person.id, person.name, row.role or "", "added"))
        else:
            membership = found
            if service.apply_changes(membership, {"order": order}):
                touched.add(membership.id)
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
                touched.add(membership.id)
    session.flush()
    for membership in (m for m in current.values() if m.id in touched):
        report.memberships_updated += 1
        changes.changed.append(
            MemberChange(membership.person_id, membership.person.name, membership.role_key, "changed")
        )
    return changes


def import_roster(*, data: bytes, dry_run: bool, actor: Principal, replace: bool = False) -> ImportReport:
    """Validate every row, then apply all of it or nothing, in a transaction of its own. The file's memberships are
    added and updated; with ``replace`` each group in the file also loses the members the file does not name. A dry
    run applies inside a savepoint and rolls back, so its report is exactly what the real import would do."""
    report = ImportReport(dry_run=dry_run, replace=replace)
    raw_rows = read_rows(data)
    report.rows = len(raw_rows)
    with get_database().session() as session:
        validator = RowValidator(session, report.errors)
        rows = [row for line, values in raw_rows if (row := validator.row(line, values)) is not None]
        if not report.errors:
            validator.consistency(rows)
        people = validator.existing_people(rows) if not report.errors else {}
        if report.errors:
            report.errors.sort(key=lambda e: (e.row, e.column or ""))
            raise RosterRejected(f"{len(report.errors)} error(s); nothing was imported", report)
        savepoint = session.begin_nested()
        created_ids = {person.id for person in _apply(session, rows, people, report, actor)}
        if dry_run:
            savepoint.rollback()
            session.expire_all()
            _forget_ids(report, created_ids)
        else:
            savepoint.commit()
    return report


def _forget_ids(report: ImportReport, new_ids: set[int]) -> None:
    """A dry run's new people have no ids: the ids they had inside the rolled-back savepoint mean nothing."""
    for person in report.people_created_names:
        person.person_id = None if person.person_id in new_ids else person.person_id
    for member in (member for changes in report.groups for member in changes.added):
        member.person_id = None if member.person_id in new_ids else member.person_id


def export_roster(session: Session) -> str:
    """The roster in the import format (`;`-separated UTF-8 with a BOM, as Finnish spreadsheets expect)."""
    people = session.scalars(
        select(Person)
        .options(
            selectinload(Person.organisation),
            selectinload(Person.memberships).selectinload(Membership.group),
            selectinload(Person.memberships).selectinload(Membership.deputy_of).selectinload(Membership.person),
        )
        .where(Person.erased_at.is_(None))
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
