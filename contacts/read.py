"""Rosters as the API and the console show them: one function per shape, from the rows."""

from __future__ import annotations

from contacts.models import Group, Person
from contacts.schemas import GroupDetail, GroupRead, MemberRead, PersonRead


def person_read(person: Person, *, contact_details: bool) -> PersonRead:
    """A person as this reader may see them: without mobile number and email unless ``contact_details`` (operators
    and admins)."""
    shown = PersonRead.model_validate(person)
    return shown if contact_details else shown.model_copy(update={"mobile": None, "email": None})


def group_detail(group: Group) -> GroupDetail:
    """A group with its members in order (names, titles, roles, deputies)."""
    members = [
        MemberRead(
            id=m.id,
            person_id=m.person_id,
            name=m.person.name,
            organisation_id=m.person.organisation_id,
            title=m.person.title,
            role=m.role_key,
            order=m.order,
            deputy_of=m.deputy_of_id,
            active=m.person.active,
        )
        for m in group.members
    ]
    return GroupDetail(
        **GroupRead.model_validate(group).model_dump(exclude={"member_count"}),
        member_count=len(members),
        members=members,
    )
