"""A realistic log of the region's 2025 exercise, run elsewhere, written for the tests (and for the docs' example):
the demo roster's people alerted by an SMS gateway in three phases (text messages, a few emails, two numbers that
fail), poll answers and acknowledgements over the following minutes, phone calls in the second phase, and four
people the roster does not know, with Finnish and Swedish names.

Two files, as such logs come: the SMS gateway's export (Windows-1252 CSV with its own Finnish column names and
words, read through a mapping file) and a sheet of phone calls kept by hand (an Excel workbook in the plain log's
columns). ``Sample.truth`` is what happened, per person and phase, for checking a report against.

    python -m tests.support.exercise_log DIR     # write the files against the demo roster (docs/examples)
"""

from __future__ import annotations

import csv
import io
import random
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from alueturva.i18n import HELSINKI

SEED = 2025
DAY = datetime(2025, 11, 5, tzinfo=HELSINKI)
PHASES = (("1 Myrsky", 9, 0), ("2 Väestönsuojelu", 11, 30), ("3 Jälkihoito", 14, 0))
GATEWAY_WORDS = {
    "sent": "Lähetetty",
    "delivered": "Toimitettu",
    "failed": "Epäonnistui",
    "acknowledged": "Kuitattu",
    "answered": "Vastattu",
}
CHANNEL_WORDS = {"sms": "Tekstiviesti", "email": "Sähköposti"}
ANSWERS = ("Tulen paikalle", "En pääse")
MAPPING = """# The SMS gateway's export (Tekstiviestipalvelu): Finnish column names and words, Windows-1252.
name: tekstiviestipalvelu
columns:
  time: Aika
  name: Vastaanottaja
  number: Puhelinnumero
  email: Sähköposti
  organisation: Organisaatio
  channel: Kanava
  event: Tila
  answer: Vastaus
  phase: Vaihe
  error: Virhekoodi
values:
  channel: {Tekstiviesti: sms, Sähköposti: email}
  event: {Lähetetty: sent, Toimitettu: delivered, Epäonnistui: failed, Kuitattu: acknowledged, Vastattu: answered}
time_formats: ["%d.%m.%Y %H:%M:%S"]
"""
# Alerted, but not on the roster: (name, organisation as the log writes it, number, email, which file)
STRANGERS = (
    ("Björn Lindqvist", "Kokkola", "+358401230001", None, "gateway"),
    ("Åsa Nyström", "Soite", None, "asa.nystrom@soite.example", "gateway"),
    ("Matti Virtanen", "Puolustusvoimat", "+358401230003", None, "gateway"),
    ("Kristiina Väisänen", "Kaustinen", None, None, "calls"),
)


@dataclass(frozen=True)
class RosterPerson:
    name: str
    mobile: str | None
    email: str | None
    organisation: str  # the organisation's short name


@dataclass
class Message:
    channel: str
    sent_at: datetime | None
    state: str  # sent, delivered, failed
    ended_at: datetime | None = None
    error: str | None = None


@dataclass
class Truth:
    """One recipient (a person in a phase) as it happened."""

    name: str
    organisation: str
    on_roster: bool
    phase: str
    alert_at: datetime
    acknowledged_at: datetime | None = None
    answer: str | None = None
    messages: list[Message] = field(default_factory=list)

    @property
    def ack_seconds(self) -> float | None:
        return None if self.acknowledged_at is None else (self.acknowledged_at - self.alert_at).total_seconds()


@dataclass
class Sample:
    gateway_rows: list[list[str]] = field(default_factory=list)
    call_rows: list[list[object]] = field(default_factory=list)
    truth: dict[tuple[str, str], Truth] = field(default_factory=dict)

    def gateway_csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        header = ["Aika", "Vastaanottaja", "Puhelinnumero", "Sähköposti", "Organisaatio", "Kanava", "Tila"]
        writer.writerow([*header, "Vastaus", "Vaihe", "Virhekoodi"])
        writer.writerows(self.gateway_rows)
        return out.getvalue().encode("cp1252")

    @cached_property
    def calls_xlsx(self) -> bytes:
        """The workbook, made once: a workbook records when it was written, so each writing differs (and so
        does its SHA-256, by which a file is imported only once)."""
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "Puhelut"
        sheet.append(["time", "name", "number", "organisation", "channel", "event", "answer", "phase"])
        for row in self.call_rows:
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


def _local(moment: datetime) -> str:
    return f"{moment.day:02d}.{moment.month:02d}.{moment.year} {moment:%H:%M:%S}"


class _Writer:
    def __init__(self, sample: Sample, chance: random.Random) -> None:
        self.sample, self.chance = sample, chance

    def truth(self, name: str, organisation: str, on_roster: bool, phase: str, at: datetime) -> Truth:
        key = (name, phase)
        if key not in self.sample.truth:
            self.sample.truth[key] = Truth(name, organisation, on_roster, phase, at)
        return self.sample.truth[key]

    def gateway(self, at: datetime, who: tuple[str, str, str | None, str | None], channel: str, event: str,
                phase: str, answer: str = "", error: str = "") -> None:  # fmt: skip
        name, organisation, number, email = who
        cells = [
            _local(at),
            name,
            number or "",
            email or "",
            organisation,
            CHANNEL_WORDS[channel],
            GATEWAY_WORDS[event],
        ]
        self.sample.gateway_rows.append([*cells, answer, phase, error])

    def alert_by_gateway(
        self, who: tuple[str, str, str | None, str | None], phase: str, at: datetime, *, fails: bool, on_roster: bool
    ) -> None:
        """An SMS (or, to someone with only an email address, an email) and what followed; ``who`` is (name,
        organisation, number, email)."""
        name, organisation, number, _ = who
        channel = "sms" if number else "email"
        truth = self.truth(name, organisation, on_roster, phase, at)
        self.gateway(at, who, channel, "sent", phase)
        message = Message(channel, at, "sent")
        truth.messages.append(message)
        ended = at + timedelta(seconds=self.chance.randint(4, 45))
        if fails:
            code = "30003" if channel == "sms" else "550"
            self.gateway(ended, who, channel, "failed", phase, error=code)
            message.state, message.ended_at, message.error = "failed", ended, code
            return
        self.gateway(ended, who, channel, "delivered", phase)
        message.state, message.ended_at = "delivered", ended
        if self.chance.random() < 0.12:
            return  # never answered
        answered = ended + timedelta(seconds=int(self.chance.lognormvariate(5.0, 0.8)))
        if self.chance.random() < 0.6:
            answer = ANSWERS[0] if self.chance.random() < 0.85 else ANSWERS[1]
            self.gateway(answered, who, channel, "answered", phase, answer=answer)
            truth.answer = answer
        else:
            self.gateway(answered, who, channel, "acknowledged", phase)
        truth.acknowledged_at = answered

    def call(
        self, who: tuple[str, str, str | None], phase: str, at: datetime, *, on_roster: bool, missed_first: bool
    ) -> None:
        """A phone call in the sheet: ``who`` is (name, organisation, number or None when written by name only)."""
        name, organisation, number = who
        truth = self.truth(name, organisation, on_roster, phase, at)

        def row(moment: datetime, event: str) -> None:
            self.sample.call_rows.append(
                [moment.replace(tzinfo=None), name, number or "", organisation, "phone", event, "", phase]
            )

        row(at, "called")
        if missed_first:
            missed = at + timedelta(seconds=40)
            row(missed, "failed")
            truth.messages.append(Message("phone", at, "failed", missed))
            at = at + timedelta(minutes=6)
            row(at, "called")
        truth.messages.append(Message("phone", at, "sent"))
        answered = at + timedelta(seconds=self.chance.randint(10, 90))
        row(answered, "acknowledged")
        truth.acknowledged_at = answered


def make_sample(people: list[RosterPerson]) -> Sample:
    """The 2025 exercise's logs for these roster people (the demo roster's, in id order)."""
    chance = random.Random(SEED)
    sample = Sample()
    writer = _Writer(sample, chance)
    failing = {people[3].name, people[11].name}  # numbers the operator refused, in the first phase
    by_email = {people[20].name, people[30].name}  # the gateway reached these two by email only
    for number, (phase, hour, minute) in enumerate(PHASES, start=1):
        start = DAY.replace(hour=hour, minute=minute)
        alerted = people if number != 2 else people[::2]
        for index, person in enumerate(alerted):
            at = start + timedelta(seconds=index * 2)
            fails = number == 1 and person.name in failing
            reached_by = (None, person.email) if person.name in by_email else (person.mobile, None)
            writer.alert_by_gateway(
                (person.name, person.organisation, *reached_by), phase, at, fails=fails, on_roster=True
            )
        for index, (name, organisation, mobile, email, source) in enumerate(STRANGERS):
            if source == "gateway" and number != 2:
                at = start + timedelta(seconds=len(alerted) * 2 + index)
                writer.alert_by_gateway((name, organisation, mobile, email), phase, at, fails=False, on_roster=False)
        if number == 2:
            callers = people[1::6][:5]
            for index, person in enumerate(callers):
                at = start + timedelta(minutes=15 + index * 3)
                written = None if index % 2 == 1 else person.mobile  # some written down by name only
                writer.call(
                    (person.name, person.organisation, written), phase, at, on_roster=True, missed_first=index == 0
                )
            name, organisation = STRANGERS[3][:2]
            at = start + timedelta(minutes=35)
            writer.call((name, organisation, None), phase, at, on_roster=False, missed_first=False)
    sample.gateway_rows.sort(key=lambda row: (datetime.strptime(row[0], "%d.%m.%Y %H:%M:%S"), row[1]))
    return sample


def roster_people(session: Session) -> list[RosterPerson]:
    """The roster's people, in id order (those the sample alerts)."""
    from contacts.models import Organisation, Person

    rows = session.execute(
        select(Person.name, Person.mobile, Person.email, Organisation.short_name)
        .join(Organisation, Organisation.id == Person.organisation_id)
        .order_by(Person.id)
    ).all()
    return [RosterPerson(*row) for row in rows]


def demo_people() -> list[RosterPerson]:
    """The demo roster's people, from a database of its own."""
    import tempfile

    from alueturva.app.wiring import prepare_database
    from alueturva.db import Database, set_database
    from contacts.demo import load_demo_roster

    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/sample.db"
        prepare_database(url)
        database = Database(url)
        set_database(database)
        load_demo_roster()
        with database.session() as session:
            people = roster_people(session)
        set_database(None)
    return people


def main() -> None:
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    sample = make_sample(demo_people())
    (target / "tekstiviestipalvelu.csv").write_bytes(sample.gateway_csv())
    (target / "tekstiviestipalvelu.yaml").write_text(MAPPING, encoding="utf-8")
    (target / "puhelut.xlsx").write_bytes(sample.calls_xlsx)
    print(f"wrote {len(sample.gateway_rows)} gateway rows and {len(sample.call_rows)} calls to {target}")


if __name__ == "__main__":
    main()
