"""What the contacts domain holds about a person (alueturva/personal/holders.py): the roster entry and its group
memberships and roles. Kept while current (no retention kind): a person leaves the rosters when removed or erased."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from alueturva.db import utcnow
from alueturva.personal.holders import Holder, Subject, rows_changed
from alueturva.personal.pseudonym import person_pseudonym
from contacts.catalogue import display_names, roles_by_key
from contacts.models import Group, Membership, Organisation, Person


def _names(name: str, name_sv: str | None, name_en: str | None) -> dict[str, str]:
    return {"fi": name, "sv": name_sv or name, "en": name_en or name}


def _export_person(session: Session, *, subject: Subject) -> list[dict[str, Any]]:
    person = session.get(Person, subject.person_id)
    if person is None:
        return []
    organisation: Organisation = person.organisation
    return [
        {
            "name": person.name,
            "title": person.title,
            "mobile": person.mobile,
            "email": person.email,
            "language": person.language,
            "organisation": display_names(
                short_name=organisation.short_name,
                name_sv=organisation.name_sv,
                name_en=organisation.name_en,
                kind=organisation.kind,
            ),
            "active": person.active,
            "created_at": person.created_at,
        }
    ]


def _export_memberships(session: Session, *, subject: Subject) -> list[dict[str, Any]]:
    roles = roles_by_key()
    rows = session.execute(
        select(Group.name, Group.name_sv, Group.name_en, Membership.role_key, Membership.deputy_of_id)
        .join(Group, Group.id == Membership.group_id)
        .where(Membership.person_id == subject.person_id)
        .order_by(Group.name, Group.id, Membership.order, Membership.id)
    ).all()
    return [
        {
            "group": _names(row.name, row.name_sv, row.name_en),
            "role": roles[row.role_key].names.model_dump() if row.role_key in roles else row.role_key,
            "deputy": row.deputy_of_id is not None,
        }
        for row in rows
    ]


def _erase_person(session: Session, *, subject: Subject) -> int:
    """Out of every roster (the compliance report then shows the role unfilled); name, number and address become the
    person's pseudonym; the row stays, because the alerts it received are counted in reports."""
    person = session.get(Person, subject.person_id)
    if person is None:
        return 0
    removed = rows_changed(session.execute(delete(Membership).where(Membership.person_id == person.id)))
    pseudonym = person_pseudonym(person.id)
    person.name, person.mobile, person.email, person.title = pseudonym, pseudonym, None, None
    person.active, person.erased_at = False, utcnow()
    return 1 + removed


HOLDERS = (
    Holder("contacts.person", export=_export_person, erase=_erase_person),
    Holder("contacts.memberships", export=_export_memberships),
)
