"""A log row read through its mapping: one event (when, whom, which channel, what happened), or what is wrong
with it (row number, column, the problem). A time without a zone is Finnish time; a time that does not exist or
happens twice at the clock change is reported, never guessed."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

import phonenumbers

from alueturva.i18n import AmbiguousLocalTime, from_helsinki
from drills.imports.mapping import LogField, LogMapping
from drills.imports.reading import Cell, Table

FINNISH_TIME = re.compile(
    r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})\s+(?:klo\s+|kl\.?\s+)?"
    r"(?P<h>\d{1,2})[.:](?P<min>\d{2})(?:[.:](?P<s>\d{2}))?$",
    re.IGNORECASE,
)
QUOTED = 200  # characters of a cell repeated in an error, at most

LIMITS = {"name": 200, "organisation": 200, "answer": 500, "error": 200, "phase": 200, "email": 254}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: str


@dataclass(frozen=True)
class LogEvent:
    row: int
    at: datetime  # aware UTC
    name: str | None
    number: str | None  # E.164
    email: str | None  # as written, lower case
    organisation: str | None
    channel: str
    event: str
    answer: str | None
    error: str | None
    phase: str | None

    @property
    def key(self) -> str:
        """The row's identity: the same row in two files (or twice in one) is one event."""
        parts = (
            self.at.isoformat(),
            self.number or "",
            self.email or "",
            (self.name or "").casefold(),
            (self.organisation or "").casefold(),
            self.channel,
            self.event,
            self.answer or "",
            self.phase or "",
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class _Row:
    """One row's cells by field, collecting its problems."""

    def __init__(self, number: int, cells: dict[str, Cell], mapping: LogMapping) -> None:
        self.number, self.cells, self.mapping = number, cells, mapping
        self.errors: list[RowError] = []

    def column(self, field: LogField) -> str:
        return self.mapping.column_of(field) or field

    def raw(self, field: LogField) -> Cell:
        column = self.mapping.column_of(field)
        if column is not None:
            return self.cells.get(column.casefold(), "")
        return self.mapping.fixed.get(field, "")

    def text(self, field: LogField) -> str | None:
        value = self.raw(field)
        text = value.isoformat() if isinstance(value, datetime) else value.strip()
        if not text:
            return None
        if len(text) > LIMITS.get(field, 200):
            self.fail(field, f"longer than {LIMITS.get(field, 200)} characters")
        return text

    def fail(self, field: LogField, message: str) -> None:
        self.errors.append(RowError(self.number, self.column(field), message))


def quoted(text: str) -> str:
    """A cell as an error repeats it: in quotes, at most ``QUOTED`` characters."""
    return f"'{text}'" if len(text) <= QUOTED else f"'{text[:QUOTED]}…'"


def _parse_time(value: Cell, formats: list[str]) -> datetime:
    """A time cell as written: a workbook's date and time, ISO 8601, ``5.11.2025 9.05(.30)``, or a format of the
    mapping's; without a zone it is Finnish time."""
    if isinstance(value, datetime):
        return from_helsinki(value)
    text = value.strip()
    try:
        return from_helsinki(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError as exc:
        if isinstance(exc, AmbiguousLocalTime):
            raise
    if match := FINNISH_TIME.match(text):
        parts = {key: int(part) for key, part in match.groupdict(default="0").items()}
        try:
            moment = datetime(parts["y"], parts["m"], parts["d"], parts["h"], parts["min"], parts["s"])
        except ValueError as exc:
            raise ValueError(f"{quoted(text)} is not a date and time: {exc}") from exc
        return from_helsinki(moment)
    for layout in formats:
        try:
            return from_helsinki(datetime.strptime(text, layout))
        except ValueError as exc:
            if isinstance(exc, AmbiguousLocalTime):
                raise
    written = "write 2025-11-05 09:05, 5.11.2025 9.05 or 2025-11-05T09:05:00+02:00"
    raise ValueError(f"{quoted(text)} is not a time; {written}")


def _number(text: str) -> str:
    try:
        number = phonenumbers.parse(text, "FI")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _event(row: _Row) -> LogEvent | None:
    value = row.raw("time")
    at = None
    if value == "":
        row.fail("time", "empty: every row needs its time")
    else:
        try:
            at = _parse_time(value, row.mapping.time_formats)
        except ValueError as exc:
            row.fail("time", str(exc))
    meanings = {}
    for field in ("channel", "event"):
        word = row.text(field) or ""
        meanings[field] = row.mapping.meaning(field, word)
        if meanings[field] is None:
            known = ", ".join(f"{key} ({value})" for key, value in row.mapping.values.get(field, {}).items())
            knows = f"; this mapping knows {known}" if known else ""
            row.fail(field, f"{quoted(word)} is not a known {field}{knows}")
    number = row.text("number")
    if number is not None:
        try:
            number = _number(number)
        except ValueError as exc:
            row.fail("number", str(exc))
    email = row.text("email")
    name = row.text("name")
    if not (name or number or email):
        row.fail("name", "nobody: a row needs the recipient's name, number or email")
    answer = row.text("answer")
    if meanings["event"] == "answered" and not answer:
        row.fail("answer", "an answered row needs the answer's text")
    if row.errors or at is None:
        return None
    return LogEvent(
        row=row.number,
        at=at,
        name=name,
        number=number,
        email=email.lower() if email else None,
        organisation=row.text("organisation"),
        channel=str(meanings["channel"]),
        event=str(meanings["event"]),
        answer=answer,
        error=row.text("error"),
        phase=row.text("phase"),
    )


def read_events(table: Table, mapping: LogMapping) -> tuple[list[LogEvent], list[RowError]]:
    """Every row as an event, and every problem of every row (nothing is used when there is any)."""
    header = [column.casefold() for column in table.header]
    missing = [
        column for column in mapping.columns.values() if column.casefold() not in header and column in _needed(mapping)
    ]
    if missing:
        return [], [RowError(1, column, "the header has no such column") for column in missing]
    events, errors = [], []
    for number, values in table.rows:
        row = _Row(number, dict(zip(header, values, strict=False)), mapping)
        event = _event(row)
        errors += row.errors
        if event is not None:
            events.append(event)
    return events, errors


def _needed(mapping: LogMapping) -> set[str]:
    """The columns a file must have: a built-in mapping's required ones, or every column a mapping file names."""
    if mapping.required:
        return {mapping.columns[field] for field in mapping.required}
    return set(mapping.columns.values())
