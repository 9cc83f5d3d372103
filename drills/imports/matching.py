"""Who a log row means: a person of the roster matched by mobile number, then by email address, then by name and
organisation; someone the roster does not know is kept by what the log says (and listed, never dropped)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts import service as contacts
from contacts.models import Organisation, Person


class Whom(Protocol):
    """What a log row says about its recipient (a row being read, or one stored)."""

    name: str | None
    number: str | None
    email: str | None
    organisation: str | None


@dataclass(frozen=True)
class Match:
    person_id: int | None
    organisation_id: int | None
    organisation_name: str | None  # the log's organisation when it is not one of ours
    by: str  # number, email, name, or unmatched


class Roster:
    """The roster's people and organisations, looked up once for a whole file."""

    def __init__(self, session: Session) -> None:
        self.organisations: dict[str, Organisation] = contacts.organisation_lookup(session)
        people = session.scalars(select(Person)).all()
        self.by_number = {person.mobile: person for person in people if person.mobile}
        self.by_email = {person.email.casefold(): person for person in people if person.email}
        self.by_name: dict[tuple[str, int], Person] = {
            (person.name.casefold(), person.organisation_id): person for person in people
        }

    def organisation(self, name: str | None) -> Organisation | None:
        return self.organisations.get(name.strip().casefold()) if name else None

    def match(self, event: Whom) -> Match:
        organisation = self.organisation(event.organisation)
        person, by = None, "unmatched"
        if event.number and event.number in self.by_number:
            person, by = self.by_number[event.number], "number"
        elif event.email and event.email.casefold() in self.by_email:
            person, by = self.by_email[event.email.casefold()], "email"
        elif event.name and organisation is not None:
            person = self.by_name.get((event.name.casefold(), organisation.id))
            by = "name" if person is not None else by
        if person is not None:
            return Match(person.id, person.organisation_id, None, by)
        return Match(None, organisation.id if organisation else None, None if organisation else event.organisation, by)


def identity(event: Whom, match: Match) -> str:
    """Whom an event is about: a person of the roster, or someone the roster does not know, as the log knows them
    (by number, else email, else name and organisation)."""
    if match.person_id is not None:
        return f"person:{match.person_id}"
    if event.number:
        return f"number:{event.number}"
    if event.email:
        return f"email:{event.email.casefold()}"
    return f"name:{(event.name or '').casefold()}|{(event.organisation or '').casefold()}"
