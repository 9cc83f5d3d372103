"""Resolving an alert's targets (groups, roles, organisations, areas, people) to its recipients, in the database."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, false, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from alerting.models import Channel, Recipient
from alerting.schemas import Targets
from alerting.service import address_of
from alueturva.db import UTCDateTime, id_in, random_token
from alueturva.digits import ascii_int
from alueturva.errors import Invalid
from alueturva.localized import Version, versions_for
from contacts import service as contacts
from contacts.catalogue import roles_by_key
from contacts.models import Group, Membership, Organisation, Person


def _missing(requested: Sequence[Any], found: set[Any]) -> list[Any]:
    return sorted({item for item in requested if item not in found}, key=str)


def _missing_people(session: Session, person_ids: Collection[int]) -> list[int]:
    """The ids that name nobody. Counted in the database first: the usual case (all exist) reads no rows back."""
    wanted = set(person_ids)
    found = session.scalar(select(func.count(Person.id)).where(id_in(session, Person.id, wanted))) or 0
    if found == len(wanted):
        return []
    return _missing(list(wanted), set(session.scalars(select(Person.id).where(id_in(session, Person.id, wanted)))))


def _resolved(
    references: Sequence[int | str], lookup: dict[str, int], known_ids: set[int]
) -> tuple[list[int], list[str]]:
    """Ids for references by id, key or name (a key or name first: "12" is an id only if nothing is named so);
    and the references that name nothing."""
    ids: list[int] = []
    unknown: list[str] = []
    for reference in references:
        found = lookup.get(reference.strip().casefold()) if isinstance(reference, str) else None
        if found is None and (number := ascii_int(str(reference))) is not None and number in known_ids:
            found = number
        if found is None:
            unknown.append(repr(reference) if isinstance(reference, str) else str(reference))
        elif found not in ids:
            ids.append(found)
    return ids, unknown


def resolve_references(session: Session, targets: Targets) -> Targets:
    """The targets with groups and organisations as ids (they may be named by id, key or name, as on the command
    line); anything that names nothing is refused, all problems in one answer."""
    problems = []
    groups: list[int] = []
    organisations: list[int] = []
    if targets.groups:
        lookup = {name: group.id for name, group in contacts.group_lookup(session).items()}
        groups, unknown = _resolved(targets.groups, lookup, set(lookup.values()))
        if unknown:
            problems.append(f"unknown groups: {', '.join(unknown)}")
    if targets.organisations:
        lookup = {name: org.id for name, org in contacts.organisation_lookup(session).items()}
        organisations, unknown = _resolved(targets.organisations, lookup, set(lookup.values()))
        if unknown:
            problems.append(f"unknown organisations: {', '.join(unknown)}")
    if targets.people and (missing := _missing_people(session, targets.people)):
        problems.append(f"unknown person ids: {missing[:20]}")
    if targets.roles and (missing := _missing(targets.roles, set(roles_by_key()))):
        problems.append(f"unknown role keys: {missing}")
    if problems:
        raise Invalid("targets: " + "; ".join(problems))
    return targets.model_copy(update={"groups": groups, "organisations": organisations})


def _targeted(session: Session, targets: Targets) -> ColumnElement[bool]:
    """The condition on ``Person`` that the targets name: any of groups, roles, organisations, areas, people."""
    conditions = []
    if targets.people:
        conditions.append(id_in(session, Person.id, set(targets.people)))
    if targets.organisations:
        conditions.append(Person.organisation_id.in_(targets.organisations))
    if targets.areas:
        conditions.append(
            Person.organisation_id.in_(select(Organisation.id).where(Organisation.area.in_(targets.areas)))
        )
    if targets.groups:
        conditions.append(Person.id.in_(select(Membership.person_id).where(Membership.group_id.in_(targets.groups))))
    if targets.roles:
        conditions.append(Person.id.in_(select(Membership.person_id).where(Membership.role_key.in_(targets.roles))))
    return or_(*conditions)


def count_targeted(session: Session, *, targets: Targets) -> int:
    """How many active people the targets name now (each once); unknown references are refused as when sending."""
    targets = resolve_references(session, targets)
    active = select(func.count(Person.id)).where(Person.active.is_(True), _targeted(session, targets))
    return session.scalar(active) or 0


def targeted_people(session: Session, *, targets: Targets) -> list[int]:
    """The ids of every active person the targets name, each once, in id order: the alert's audience. ``targets``
    are resolved (``resolve_references``)."""
    return list(
        session.scalars(
            select(Person.id).where(Person.active.is_(True), _targeted(session, targets)).order_by(Person.id)
        )
    )


def add_recipients(session: Session, *, alert_id: int, person_ids: Collection[int], now: datetime) -> list[int]:
    """Make these people recipients of the alert, by one ``INSERT ... SELECT`` inside the database (no person row
    travels to Python and back); the new recipients' ids. Someone already a recipient (a deputy added meanwhile, a
    chunk written before) is left as they are (``ON CONFLICT DO NOTHING`` on the alert and person, which needs no
    plan of its own, where a ``NOT IN`` guard took a plan from statistics older than the alert's rows), and
    someone erased since the alert was created is skipped."""
    people = select(
        literal(alert_id, Integer),
        Person.id,
        Person.organisation_id,
        Person.language,
        random_token(),
        literal(now, UTCDateTime()),
        false(),
    ).where(id_in(session, Person.id, person_ids))
    columns = ["alert_id", "person_id", "organisation_id", "language", "link_nonce", "added_at", "ack_late"]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(Recipient)
        .from_select(columns, people.order_by(Person.id))
        .on_conflict_do_nothing(index_elements=["alert_id", "person_id"])
        .returning(Recipient.id)
    )
    return sorted(session.scalars(statement))


@dataclass(frozen=True)
class Targeted:
    """A person the targets name, as the sender sees them before sending (no numbers or addresses)."""

    person_id: int
    name: str
    organisation_id: int
    organisation: str
    language: str
    organisation_languages: tuple[str, ...]
    has_mobile: bool
    has_email: bool


def preview_recipients(session: Session, *, targets: Targets) -> list[Targeted]:
    """Who ``targeted_people`` names now (the same references check and the same condition), read only: for the
    sender's confirmation step."""
    targets = resolve_references(session, targets)
    rows = session.execute(
        select(
            Person.id,
            Person.name,
            Person.organisation_id,
            Organisation.short_name,
            Person.language,
            Organisation.languages,
            Person.mobile,
            Person.email,
        )
        .join(Organisation, Organisation.id == Person.organisation_id)
        .where(Person.active.is_(True), _targeted(session, targets))
        .order_by(Organisation.short_name, Person.name, Person.id)
    ).all()
    return [
        Targeted(
            row[0], row[1], row[2], row[3], row[4], tuple(row[5] or ()), bool(row[6]), bool(row[7] and row[7].strip())
        )
        for row in rows
    ]


def sms_versions(session: Session, *, targets: Targets, languages: Version) -> set[Version]:
    """The versions of a text in ``languages`` that the people the targets name with a mobile number get (each must
    fit in an SMS). ``targets`` are resolved."""
    readers = session.execute(
        select(Person.language, Person.organisation_id)
        .where(Person.active.is_(True), _targeted(session, targets), Person.mobile.is_not(None))
        .distinct()
    ).all()
    official = dict(
        session.execute(
            select(Organisation.id, Organisation.languages).where(
                Organisation.id.in_({reader.organisation_id for reader in readers})
            )
        ).all()
    )
    return {
        versions_for(languages, reader=reader.language, organisation_languages=official[reader.organisation_id] or [])
        for reader in readers
    }


def addresses(session: Session, *, targets: Targets, channels: Sequence[Channel]) -> int:
    """How many messages the alert's first round is: one for each person the targets name and each channel they
    have an address on (what ``service.add_deliveries`` writes). ``targets`` are resolved."""
    return sum(
        session.scalar(
            select(func.count(Person.id)).where(
                Person.active.is_(True),
                _targeted(session, targets),
                address_of(channel).is_not(None),
                address_of(channel) != "",
            )
        )
        or 0
        for channel in channels
    )


def group_calls(session: Session, targets: Targets) -> dict[int, float]:
    """The targeted groups that call their silent members, and after how many minutes (``Group.call_after_minutes``)."""
    if not targets.groups:
        return {}
    rows = session.execute(
        select(Group.id, Group.call_after_minutes).where(
            Group.id.in_([int(group) for group in targets.groups]), Group.call_after_minutes.is_not(None)
        )
    ).all()
    return {row.id: float(row.call_after_minutes) for row in rows}
