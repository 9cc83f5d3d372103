"""Roster changes, each in a transaction of its own (docs/architecture.md §2): the API, the web console and the
command line change organisations, people, groups and memberships only through these. Every change is audited with
its actor in the same transaction (``contacts.service``)."""

from __future__ import annotations

from typing import Any

from alueturva.auth.service import Principal
from alueturva.db import get_database
from contacts import read, service
from contacts.schemas import GroupDetail, MemberCreate, OrganisationRead, PersonRead

# Organisations ---------------------------------------------------------------------------------------------------


def create_organisation(*, values: dict[str, Any], actor: Principal) -> OrganisationRead:
    with get_database().session() as session:
        return OrganisationRead.model_validate(service.create_organisation(session, values=values, actor=actor))


def update_organisation(*, organisation_id: int, values: dict[str, Any], actor: Principal) -> OrganisationRead:
    with get_database().session() as session:
        organisation = service.get_organisation(session, organisation_id=organisation_id)
        service.update_organisation(session, organisation=organisation, values=values, actor=actor)
        return OrganisationRead.model_validate(organisation)


def delete_organisation(*, organisation_id: int, actor: Principal) -> None:
    with get_database().session() as session:
        organisation = service.get_organisation(session, organisation_id=organisation_id)
        service.delete_organisation(session, organisation=organisation, actor=actor)


# People ------------------------------------------------------------------------------------------------------------


def create_person(*, values: dict[str, Any], actor: Principal) -> PersonRead:
    with get_database().session() as session:
        return PersonRead.model_validate(service.create_person(session, values=values, actor=actor))


def update_person(*, person_id: int, values: dict[str, Any], actor: Principal) -> PersonRead:
    with get_database().session() as session:
        person = service.get_person(session, person_id=person_id)
        service.update_person(session, person=person, values=values, actor=actor)
        return PersonRead.model_validate(person)


def delete_person(*, person_id: int, actor: Principal) -> None:
    with get_database().session() as session:
        service.delete_person(session, person=service.get_person(session, person_id=person_id), actor=actor)


# Groups and memberships --------------------------------------------------------------------------------------------


def create_group(*, values: dict[str, Any], actor: Principal) -> GroupDetail:
    with get_database().session() as session:
        group = service.create_group(session, values=values, actor=actor)
        return read.group_detail(service.get_group(session, group_id=group.id))


def update_group(*, group_id: int, values: dict[str, Any], actor: Principal) -> GroupDetail:
    with get_database().session() as session:
        group = service.get_group(session, group_id=group_id)
        service.update_group(session, group=group, values=values, actor=actor)
        return read.group_detail(group)


def delete_group(*, group_id: int, actor: Principal) -> None:
    with get_database().session() as session:
        service.delete_group(session, group=service.get_group(session, group_id=group_id), actor=actor)


def add_member(*, group_id: int, member: MemberCreate, actor: Principal) -> GroupDetail:
    """Add a person to a group in a role (the API's and the console's one way)."""
    with get_database().session() as session:
        group = service.get_group(session, group_id=group_id)
        person = service.get_person(session, person_id=member.person_id)
        service.add_member(
            session,
            group=group,
            person=person,
            role_key=member.role,
            order=member.order,
            deputy_of=member.deputy_of,
            actor=actor,
        )
        return read.group_detail(group)


MEMBER_COLUMNS = {"role": "role_key", "deputy_of": "deputy_of_id"}  # the API's names of a membership's columns


def update_member(*, group_id: int, membership_id: int, values: dict[str, Any], actor: Principal) -> GroupDetail:
    """Change a membership; ``values`` use the API's names (``role``, ``order``, ``deputy_of``)."""
    with get_database().session() as session:
        group = service.get_group(session, group_id=group_id)
        membership = service.get_membership(group, membership_id=membership_id)
        columns = {MEMBER_COLUMNS.get(key, key): value for key, value in values.items()}
        service.update_member(session, group=group, membership=membership, values=columns, actor=actor)
        return read.group_detail(group)


def remove_member(*, group_id: int, membership_id: int, actor: Principal) -> GroupDetail:
    with get_database().session() as session:
        group = service.get_group(session, group_id=group_id)
        membership = service.get_membership(group, membership_id=membership_id)
        service.remove_member(session, group=group, membership=membership, actor=actor)
        return read.group_detail(group)
