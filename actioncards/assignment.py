"""Who does a card's task: the holders of its role in the organisations its target names, as the roster says.

A role counts only in its designated group (``config/roles.yaml``), as in the compliance report. A task goes to each
main holder (a membership that deputises nobody); their deputies take over later by the same rules as an alert's
(``actioncards.timers``). Where nobody holds the role, the task is still made, without a person: a gap the board
shows (per organisation when each organisation is asked to name the role, otherwise once).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from actioncards.models import TaskTarget
from contacts.catalogue import roles_by_key
from contacts.models import Group, Membership, Organisation, OrganisationKind, Person
from situation.areas import AreaTree


@dataclass(frozen=True)
class Assignee:
    organisation_id: int | None
    person_id: int | None
    membership_id: int | None


def target_organisations(session: Session, *, tree: AreaTree, area: str, target: TaskTarget) -> list[Organisation]:
    """The organisations a task's target names: the area's municipalities, or the county and its units."""
    organisations = session.scalars(select(Organisation).order_by(Organisation.name)).all()
    if target is TaskTarget.county:
        county_ids = {o.id for o in organisations if o.kind == OrganisationKind.county}
        return [o for o in organisations if o.id in county_ids or o.parent_id in county_ids]
    municipalities = set(tree.get(area).municipalities) or {area}
    return [o for o in organisations if o.kind == OrganisationKind.municipality and o.key in municipalities]


def _designated_group(role_group: str, organisation_key: str) -> str:
    return role_group.replace("{organisation}", organisation_key)


def assignees(session: Session, *, role: str, organisations: list[Organisation]) -> list[Assignee]:
    """One per main holder of ``role`` in ``organisations``; a gap (no person) where nobody holds it."""
    spec = roles_by_key()[role]
    by_id = {organisation.id: organisation for organisation in organisations}
    rows = session.execute(
        select(Membership.id, Membership.person_id, Person.organisation_id, Group.key)
        .join(Person, Person.id == Membership.person_id)
        .join(Group, Group.id == Membership.group_id)
        .where(
            Membership.role_key == role,
            Membership.deputy_of_id.is_(None),
            Person.active.is_(True),
            Person.organisation_id.in_(list(by_id)),
        )
        .order_by(Membership.order, Membership.id)
    ).all()
    found: list[Assignee] = []
    seen: set[int] = set()
    for membership_id, person_id, organisation_id, group_key in rows:
        if group_key != _designated_group(spec.group, by_id[organisation_id].key) or person_id in seen:
            continue
        seen.add(person_id)
        found.append(Assignee(organisation_id, person_id, membership_id))
    asked = spec.required or spec.recommended
    if asked is not None and asked.per == "organisation":
        held = {assignee.organisation_id for assignee in found}
        kinds = set(asked.kinds)
        named = set(asked.organisations)
        gaps = [
            Assignee(o.id, None, None)
            for o in organisations
            if o.id not in held and (o.kind in kinds or o.key in named)
        ]
        return sorted([*found, *gaps], key=lambda a: (a.organisation_id or 0, a.person_id or 0))
    return found or [Assignee(None, None, None)]


def deputy_of(session: Session, *, membership_id: int) -> tuple[int, int] | None:
    """(membership id, person id) of the first active deputy of a membership, or None."""
    row = session.execute(
        select(Membership.id, Membership.person_id)
        .join(Person, Person.id == Membership.person_id)
        .where(Membership.deputy_of_id == membership_id, Person.active.is_(True))
        .order_by(Membership.order, Membership.id)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None
