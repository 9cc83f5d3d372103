"""Data access for organisations, people, groups and memberships. Every change is audited with its actor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from alueturva.audit import service as audit
from alueturva.auth.service import Principal
from alueturva.digits import ascii_int
from alueturva.errors import Conflict, Invalid, NotFound
from contacts import catalogue
from contacts.models import Group, Membership, Organisation, Person

Entity = TypeVar("Entity", Organisation, Person, Group, Membership)


def apply_changes(entity: object, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Apply ``values`` to ``entity`` and return what changed as ``{field: [old, new]}``."""
    changed: dict[str, list[Any]] = {}
    for field, new in values.items():
        old = getattr(entity, field)
        if old != new:
            setattr(entity, field, new)
            changed[field] = [old, new]
    return changed


def _redact(changes: dict[str, list[Any]]) -> dict[str, Any]:
    """Audit details keep which personal fields changed, not their values (the log is read widely)."""
    personal = {"mobile", "email", "name"}
    return {field: ("changed" if field in personal else values) for field, values in changes.items()}


def _audit(
    session: Session, *, actor: Principal, verb: str, entity: Entity, details: dict[str, Any] | None = None
) -> None:
    """Audit ``<entity type>.<verb>``. A membership is audited under its group (rosters are read by group)."""
    kind = type(entity).__name__.lower()
    entity_type, entity_id = kind, entity.id
    if isinstance(entity, Membership):
        entity_type, entity_id = "group", entity.group_id
        details = {"membership_id": entity.id, **(details or {})}
    audit.record(
        session,
        actor=actor.actor,
        action=f"{kind}.{verb}",
        entity_type=entity_type,
        entity_id=entity_id,
        details=details,
    )


def _added(session: Session, entity: Entity, *, actor: Principal, details: dict[str, Any]) -> Entity:
    """Add ``entity`` and audit its creation in the same transaction."""
    session.add(entity)
    session.flush()
    _audit(session, actor=actor, verb="create", entity=entity, details=details)
    return entity


def _deleted(session: Session, entity: Entity, *, actor: Principal, details: dict[str, Any] | None = None) -> None:
    """Audit the deletion of ``entity`` and delete it, in the same transaction."""
    _audit(session, actor=actor, verb="delete", entity=entity, details=details)
    session.delete(entity)
    session.flush()


def _updated(
    session: Session,
    *,
    entity: Entity,
    values: dict[str, Any],
    actor: Principal,
    describe: Callable[[dict[str, list[Any]]], dict[str, Any]] = dict,
) -> Entity:
    """Apply ``values``; when anything changed, flush and audit ``describe(changes)`` in the same transaction."""
    changes = apply_changes(entity, values)
    if changes:
        session.flush()
        _audit(session, actor=actor, verb="update", entity=entity, details=describe(changes))
    return entity


# Organisations ---------------------------------------------------------------------------------------------------


def list_organisations(session: Session) -> Sequence[Organisation]:
    return session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.short_name)).all()


def get_organisation(session: Session, *, organisation_id: int) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(f"no organisation with id {organisation_id}")
    return organisation


def organisation_names(session: Session) -> dict[int, dict[str, str]]:
    """Each organisation's name as people read it in a list, per language, by id (``catalogue.display_names``:
    Kokkola, Karleby, Kokkola)."""
    return {
        organisation.id: catalogue.display_names(
            short_name=organisation.short_name,
            name_sv=organisation.name_sv,
            name_en=organisation.name_en,
            kind=organisation.kind,
        )
        for organisation in list_organisations(session)
    }


def organisation_lookup(session: Session) -> dict[str, Organisation]:
    """Organisations by business id, key, short name and each of their names (also Karleby for Kokkola),
    case-folded."""
    lookup: dict[str, Organisation] = {}
    for organisation in list_organisations(session):
        shown = catalogue.display_names(
            short_name=organisation.short_name,
            name_sv=organisation.name_sv,
            name_en=organisation.name_en,
            kind=organisation.kind,
        )
        names = (
            organisation.business_id,
            organisation.key,
            organisation.short_name,
            organisation.name,
            organisation.name_sv,
            organisation.name_en,
            *shown.values(),
        )
        lookup.update({name.casefold(): organisation for name in names if name})
    return lookup


def find_organisation(session: Session, *, reference: str) -> Organisation | None:
    """An organisation by its business id, key, short name or any of its names (case-insensitive), or its id."""
    found = organisation_lookup(session).get(reference.strip().casefold())
    if found is None and (number := ascii_int(reference)) is not None and number < 2**31:
        found = session.get(Organisation, number)
    return found


def create_organisation(session: Session, *, values: dict[str, Any], actor: Principal) -> Organisation:
    if values.get("parent_id") is not None:
        get_organisation(session, organisation_id=values["parent_id"])
    organisation = Organisation(**values)
    return _added(session, organisation, actor=actor, details={"key": organisation.key})


def update_organisation(
    session: Session, *, organisation: Organisation, values: dict[str, Any], actor: Principal
) -> Organisation:
    return _updated(session, entity=organisation, values=values, actor=actor)


def delete_organisation(session: Session, *, organisation: Organisation, actor: Principal) -> None:
    in_use = session.scalar(select(func.count(Person.id)).where(Person.organisation_id == organisation.id))
    if in_use:
        raise Conflict(f"organisation {organisation.id} still has {in_use} people; move or delete them first")
    _deleted(session, organisation, actor=actor, details={"key": organisation.key})


# People ------------------------------------------------------------------------------------------------------------


def list_people(
    session: Session,
    *,
    organisation_id: int | None = None,
    active: bool | None = None,
    query: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[Person], int]:
    statement = select(Person)
    if organisation_id is not None:
        statement = statement.where(Person.organisation_id == organisation_id)
    if active is not None:
        statement = statement.where(Person.active == active)
    if query:
        pattern = f"%{query.lower()}%"
        statement = statement.where(or_(func.lower(Person.name).like(pattern), func.lower(Person.title).like(pattern)))
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = session.scalars(statement.order_by(Person.name, Person.id).limit(limit).offset(offset)).all()
    return rows, total


def get_person(session: Session, *, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person with id {person_id}")
    return person


def _ensure_mobile_free(session: Session, *, mobile: str | None, person_id: int | None) -> None:
    if mobile is None:
        return
    holder = session.scalar(select(Person).where(Person.mobile == mobile))
    if holder is not None and holder.id != person_id:
        raise Conflict(f"the mobile number is already person {holder.id}'s; an SMS reply must identify one person")


def create_person(session: Session, *, values: dict[str, Any], actor: Principal) -> Person:
    get_organisation(session, organisation_id=values["organisation_id"])
    _ensure_mobile_free(session, mobile=values.get("mobile"), person_id=None)
    person = Person(**values)
    return _added(session, person, actor=actor, details={"organisation_id": person.organisation_id})


def update_person(session: Session, *, person: Person, values: dict[str, Any], actor: Principal) -> Person:
    if "organisation_id" in values:
        get_organisation(session, organisation_id=values["organisation_id"])
    if "mobile" in values:
        _ensure_mobile_free(session, mobile=values["mobile"], person_id=person.id)
    return _updated(session, entity=person, values=values, actor=actor, describe=_redact)


def delete_person(session: Session, *, person: Person, actor: Principal) -> None:
    _deleted(session, person, actor=actor)


# Groups and memberships --------------------------------------------------------------------------------------------


def list_groups(session: Session) -> Sequence[tuple[Group, int]]:
    counts = select(Membership.group_id, func.count(Membership.id).label("n")).group_by(Membership.group_id).subquery()
    rows = session.execute(
        select(Group, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.group_id == Group.id)
        .order_by(Group.builtin.desc(), Group.key)
    ).all()
    return [(row[0], int(row[1])) for row in rows]


def get_group(session: Session, *, group_id: int) -> Group:
    group = session.scalar(
        select(Group).where(Group.id == group_id).options(selectinload(Group.members).selectinload(Membership.person))
    )
    if group is None:
        raise NotFound(f"no group with id {group_id}")
    return group


def group_lookup(session: Session) -> dict[str, Group]:
    """Groups by key and each of their names, case-folded."""
    lookup: dict[str, Group] = {}
    for group in session.scalars(select(Group)):
        names = (group.key, group.name, group.name_sv, group.name_en)
        lookup.update({name.casefold(): group for name in names if name})
    return lookup


def group_ids_by_key(session: Session, *, keys: Sequence[str]) -> list[int]:
    """The ids of the groups with these keys that exist, in id order (a key naming no group is left out)."""
    return list(session.scalars(select(Group.id).where(Group.key.in_(keys)).order_by(Group.id)))


def find_group(session: Session, *, reference: str) -> Group | None:
    """A group by its key or any of its names (case-insensitive), or its id."""
    found = group_lookup(session).get(reference.strip().casefold())
    if found is None and (number := ascii_int(reference)) is not None and number < 2**31:
        found = session.get(Group, number)
    return found


def ids_of(
    session: Session, *, references: Sequence[str], find: Callable[..., Group | Organisation | None], what: str
) -> list[int]:
    """The ids of the groups or organisations ``references`` name (key or name); one that names none is refused."""
    ids = []
    for reference in references:
        found = find(session, reference=reference)
        if found is None:
            raise Invalid(f"{what} {reference!r}: nothing by that key or name")
        ids.append(found.id)
    return ids


def create_group(session: Session, *, values: dict[str, Any], actor: Principal) -> Group:
    if values.get("organisation_id") is not None:
        get_organisation(session, organisation_id=values["organisation_id"])
    group = Group(**values, builtin=False)
    return _added(session, group, actor=actor, details={"key": group.key})


def update_group(session: Session, *, group: Group, values: dict[str, Any], actor: Principal) -> Group:
    return _updated(session, entity=group, values=values, actor=actor)


def delete_group(session: Session, *, group: Group, actor: Principal) -> None:
    if group.builtin:
        raise Conflict(f"group '{group.key}' is built in (the agreement requires it) and cannot be deleted")
    _deleted(session, group, actor=actor, details={"key": group.key})


def check_role(role_key: str) -> None:
    if role_key not in catalogue.roles_by_key():
        known = ", ".join(sorted(catalogue.roles_by_key()))
        raise Invalid(f"unknown role '{role_key}'; known roles: {known}")


def _check_deputy(group: Group, *, deputy_of: int | None, membership_id: int | None) -> None:
    if deputy_of is None:
        return
    if deputy_of == membership_id:
        raise Invalid("a member cannot be their own deputy")
    if deputy_of not in {m.id for m in group.members}:
        raise Invalid(f"deputy_of {deputy_of} is not a member of group {group.id}")


def add_member(
    session: Session,
    *,
    group: Group,
    person: Person,
    role_key: str,
    order: int,
    deputy_of: int | None,
    actor: Principal,
) -> Membership:
    check_role(role_key)
    _check_deputy(group, deputy_of=deputy_of, membership_id=None)
    if any(m.person_id == person.id and m.role_key == role_key for m in group.members):
        raise Conflict(f"person {person.id} already holds the role '{role_key}' in group {group.id}")
    membership = Membership(group=group, person=person, role_key=role_key, order=order, deputy_of_id=deputy_of)
    details = {"person_id": person.id, "role": role_key, "deputy_of": deputy_of}
    return _added(session, membership, actor=actor, details=details)


def get_membership(group: Group, *, membership_id: int) -> Membership:
    for membership in group.members:
        if membership.id == membership_id:
            return membership
    raise NotFound(f"no member {membership_id} in group {group.id}")


def update_member(
    session: Session, *, group: Group, membership: Membership, values: dict[str, Any], actor: Principal
) -> Membership:
    if "role_key" in values:
        check_role(values["role_key"])
    if "deputy_of_id" in values:
        _check_deputy(group, deputy_of=values["deputy_of_id"], membership_id=membership.id)
    return _updated(session, entity=membership, values=values, actor=actor)


def remove_member(session: Session, *, group: Group, membership: Membership, actor: Principal) -> None:
    for other in group.members:
        if other.deputy_of_id == membership.id:
            other.deputy_of_id = None
    _deleted(session, membership, actor=actor, details={"person_id": membership.person_id})
    session.expire(group, ["members"])
