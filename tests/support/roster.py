"""A small roster written straight into the database, and waiting helpers, shared by the alerting tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from alueturva.db import Database
from contacts.models import Group, Membership, Organisation, Person


@dataclass
class Roster:
    organisations: dict[str, int] = field(default_factory=dict)
    group_id: int = 0
    people: dict[str, int] = field(default_factory=dict)
    mobiles: dict[str, str] = field(default_factory=dict)
    memberships: dict[str, int] = field(default_factory=dict)


def make_people(database: Database, count: int, *, organisation_key: str = "kannus", email: bool = False) -> list[int]:
    """``count`` people with distinct mobiles (+35840 000 0000 ...), Finnish speakers."""
    with database.session() as session:
        org_id = session.scalars(select(Organisation.id).where(Organisation.key == organisation_key)).one()
        people = [
            Person(
                name=f"Bulk Person {n}",
                organisation_id=org_id,
                mobile=f"+35840{n:07d}",
                email=f"bulk{n}@example.fi" if email else None,
                language="fi",
            )
            for n in range(count)
        ]
        session.add_all(people)
        session.flush()
        return [person.id for person in people]


def make_roster(database: Database) -> Roster:
    """Four people in a group: a Finnish speaker with a deputy, a Swedish speaker in Kokkola, one email-only."""
    roster = Roster()
    with database.session() as session:
        orgs = {org.key: org for org in session.scalars(select(Organisation))}
        roster.organisations = {key: org.id for key, org in orgs.items()}
        group = Group(key="test_group", name="Testiryhmä", builtin=False)
        session.add(group)
        specs = [
            ("aino", "Aino Aaltonen", "kannus", "+358401110001", "aino@example.fi", "fi"),
            ("bertil", "Bertil Backman", "kokkola", "+358401110002", "bertil@example.fi", "sv"),
            ("cecilia", "Cecilia Carlsson", "kaustinen", None, "cecilia@example.fi", "en"),
            ("deputy", "Daniel Dahl", "kannus", "+358401110004", "daniel@example.fi", "fi"),
        ]
        people = {}
        for key, name, org_key, mobile, email, language in specs:
            person = Person(name=name, organisation_id=orgs[org_key].id, mobile=mobile, email=email, language=language)
            session.add(person)
            people[key] = person
        session.flush()
        memberships = {}
        for order, key in enumerate(("aino", "bertil", "cecilia")):
            membership = Membership(group=group, person=people[key], role_key="preparedness_contact", order=order)
            session.add(membership)
            memberships[key] = membership
        session.flush()
        deputy = Membership(
            group=group,
            person=people["deputy"],
            role_key="preparedness_contact",
            order=9,
            deputy_of_id=memberships["aino"].id,
        )
        session.add(deputy)
        session.flush()
        memberships["deputy"] = deputy
        roster.group_id = group.id
        roster.people = {key: person.id for key, person in people.items()}
        roster.mobiles = {key: person.mobile for key, person in people.items() if person.mobile}
        roster.memberships = {key: m.id for key, m in memberships.items()}
    return roster


def wait_until(predicate: Callable[[], bool], *, timeout: float = 30.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def delivery_states(database: Database, alert_id: int) -> list[str]:
    from alerting.models import Delivery

    with database.session() as session:
        return [state.value for state in session.scalars(select(Delivery.state).where(Delivery.alert_id == alert_id))]


def audience_written(database: Database, alert_id: int) -> bool:
    """A large alert's people past its first batch have all been made recipients (``alerting.audience``): until
    then the deliveries written so far may all be final while more are still to come."""
    from alerting.models import Alert

    with database.session() as session:
        return session.scalar(select(Alert.audience.is_(None)).where(Alert.id == alert_id)) is True


def settled(database: Database, alert_id: int) -> bool:
    """Every recipient of the alert has been written and every delivery has left ``queued``/``sending``."""
    return audience_written(database, alert_id) and all(
        state not in ("queued", "sending") for state in delivery_states(database, alert_id)
    )
