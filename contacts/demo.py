"""A clearly fictional demo roster for the whole region.

Names are invented (surnames such as "Esimerkki", "Harjoitus" and "Kuvitelma" mean example, exercise, imagination).
Mobile numbers come from the range the Swedish Post and Telecom Authority (PTS) reserves for fiction,
+46 70 174 06 05 … +46 70 174 06 99, because no Finnish range is reserved for fiction: none of them can reach a real
subscriber. Email addresses are under the reserved top-level domain ``.example`` (RFC 2606).
The roster is loaded through the ordinary CSV import, so the demo also exercises it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from alueturva.auth.service import Principal
from alueturva.db import get_database
from contacts.models import Organisation, OrganisationKind
from contacts.roster import import_roster
from contacts.roster_csv import write_rows

FIRST_NAMES = [
    "Aino",
    "Eero",
    "Helmi",
    "Ilmari",
    "Kerttu",
    "Lauri",
    "Martta",
    "Niilo",
    "Oona",
    "Paavo",
    "Saimi",
    "Toivo",
    "Ulla",
    "Veikko",
    "Anni",
    "Onni",
    "Siiri",
    "Väinö",
    "Elli",
    "Arvo",
]
SURNAMES = ["Esimerkki", "Harjoitus", "Kuvitelma", "Malli", "Testinen", "Keksitty", "Sepite", "Kokeilu"]
FICTION_NUMBERS = [f"+4670174{n:04d}" for n in range(605, 700)]
DEMO_ACTOR = Principal(actor="demo", name="demo roster")


@dataclass(frozen=True)
class _DemoPerson:
    organisation: Organisation
    name: str
    title: str
    mobile: str
    email: str
    language: str


class _Roster:
    def __init__(self) -> None:
        self.names = (f"{first} {last}" for last, first in itertools.product(SURNAMES, FIRST_NAMES))
        self.numbers = iter(FICTION_NUMBERS)
        self.rows: list[list[str]] = []
        self.count = 0

    def person(self, organisation: Organisation, title: str, *, email: bool = True) -> _DemoPerson:
        name = next(self.names)
        self.count += 1
        local_part = name.lower().replace(" ", ".").translate(str.maketrans("äö", "ao"))
        bilingual = "sv" in organisation.languages
        return _DemoPerson(
            organisation=organisation,
            name=name,
            title=title,
            mobile=next(self.numbers),
            email=f"{local_part}@{organisation.key}.example" if email else "",
            language="sv" if bilingual and self.count % 3 == 0 else "fi",
        )

    def member(
        self, person: _DemoPerson, group: str, role: str, deputy_of: _DemoPerson | None = None, order: int = 0
    ) -> None:
        self.rows.append(
            [
                person.organisation.short_name,
                person.name,
                person.title,
                person.mobile,
                person.email,
                person.language,
                group,
                role,
                deputy_of.name if deputy_of else "",
                str(order),
            ]
        )


def demo_roster_csv(session: Session) -> bytes:
    organisations = {o.key: o for o in session.scalars(select(Organisation))}
    municipalities = sorted(
        (o for o in organisations.values() if o.kind == OrganisationKind.municipality), key=lambda o: o.key
    )
    roster = _Roster()
    lead = roster.person(organisations["pelastuslaitos"], "Valmiuspäällikkö")
    lead_deputy = roster.person(organisations["pelastuslaitos"], "Riskienhallintapäällikkö")
    roster.member(lead, "alueturva", "alueturva_lead")
    roster.member(lead_deputy, "alueturva", "alueturva_lead", deputy_of=lead, order=1)
    county_contact = roster.person(organisations["soite"], "Hyvinvointikoordinaattori")
    roster.member(county_contact, "ehkaiseva_paihdetyo", "substance_abuse_violence_contact")
    council = roster.person(organisations["liitto"], "Aluekehitysjohtaja")
    roster.member(council, "alueturva", "alueturva_member", order=2)
    board: dict[str, list[_DemoPerson]] = {"kokkola": [], "kaustinen": [], "kannus": []}
    for index, municipality in enumerate(municipalities):
        title = "Kaupunginjohtaja" if municipality.key in ("kokkola", "kannus") else "Kunnanjohtaja"
        director = roster.person(municipality, title)
        contact = roster.person(
            municipality, "Valmiuspäällikkö" if municipality.key == "kokkola" else "Hallintojohtaja"
        )
        deputy = roster.person(municipality, "Tekninen johtaja")
        group = f"johtoryhma_{municipality.key}"
        for order, member in enumerate((director, contact, deputy)):
            roster.member(member, group, "management_group_member", order=order)
        order = 10 + index * 10
        # The agreement names one person for both preparedness and civil defence: one role with both duties.
        roster.member(contact, "alueturva", "preparedness_contact", order=order)
        roster.member(director, "alueturva", "alueturva_responsible", order=order + 1)
        roster.member(deputy, "alueturva", "preparedness_contact", deputy_of=contact, order=order + 2)
        roster.member(deputy, "alueturva", "alueturva_responsible", deputy_of=director, order=order + 2)
        # Two deliberate gaps, so that the compliance report has something to show: Lestijärvi has not yet named
        # its substance-abuse and domestic-violence contact (a requirement of the agreement), and Perho's has no
        # email address (reachable by SMS as required, but not by both channels as recommended).
        if municipality.key != "lestijarvi":
            wellbeing = roster.person(municipality, "Hyvinvointikoordinaattori", email=municipality.key != "perho")
            roster.member(wellbeing, "ehkaiseva_paihdetyo", "substance_abuse_violence_contact", order=index + 1)
        if municipality.key in board:
            board[municipality.key] = [director, contact]
    for position, (member, deputy) in enumerate(board.values()):
        roster.member(member, "valmiusjohtoryhma", "valmiusjohtoryhma_member", order=position * 2)
        roster.member(
            deputy,
            "valmiusjohtoryhma",
            "valmiusjohtoryhma_member",
            deputy_of=member,
            order=position * 2 + 1,
        )
    health = roster.person(organisations["kokkola"], "Ympäristöterveyspäällikkö")
    health_deputy = roster.person(organisations["kaustinen"], "Ympäristötarkastaja")
    roster.member(health, "alueturva_steering", "environmental_health_representative")
    roster.member(
        health_deputy,
        "alueturva_steering",
        "environmental_health_representative",
        deputy_of=health,
        order=1,
    )
    roster.member(lead, "alueturva_steering", "alueturva_lead", order=2)
    return write_rows(roster.rows).encode("utf-8")


def load_demo_roster() -> str:
    """The demo roster, through the ordinary CSV import (its own transaction)."""
    with get_database().session() as session:
        data = demo_roster_csv(session)
    report = import_roster(data=data, dry_run=False, actor=DEMO_ACTOR)
    return f"{report.people_created} people created, {report.memberships_added} memberships added ({report.rows} rows)"
