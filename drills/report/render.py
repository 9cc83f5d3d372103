"""The report's forms: JSON (the source), one self-contained HTML file (charts inline, no external assets,
printable on A4), a PDF made from the same HTML, and CSV tables per person and per organisation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, cast

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from alerting.public import EXERCISE_WORD
from alueturva.csvfile import write_csv
from alueturva.errors import Invalid
from alueturva.i18n import format_date, format_money, format_number, format_percent, format_time, helsinki
from contacts.catalogue import place_names
from drills import texts
from drills.report import charts
from drills.report.people import CALL_CHANNELS
from drills.report.schemas import CsvTable, Followup, Format, NamedPerson, PersonCalls, Report, TimelineEvent
from drills.report.texts import call_outcome, text, words
from situation.config import BASE_LEVEL, readiness_config

JSON = "application/json"
HTML = "text/html; charset=utf-8"
CSV = "text/csv; charset=utf-8"
# An HTML report is one self-contained file: its styles and charts are inline, and it runs no script. Served with
# this policy wherever it is served (the API and the console).
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
PDF = "application/pdf"

# The other systems a log's messages may have gone through: their own names, the same in every language.
SYSTEM_NAMES = {"erica": "Erica", "virve": "VIRVE"}


def channel_name(channel: str, language: str) -> str:
    """A channel as the report's language names it (sms, email, a call: ours or a log's; Erica and VIRVE by their
    own names)."""
    return words("channels", language).get(channel) or SYSTEM_NAMES.get(channel, channel)


def _json_value(value: object) -> object:
    """What JSON cannot say by itself: times and dates as ISO 8601, decimals as numbers, enums by value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON")


def _plain(document: Report | Followup) -> dict[str, Any]:
    """The document as plain values (``model_dump``). A report's people are plain dictionaries already (typed ones):
    they are passed on as they are, in their place, instead of being walked and copied once more."""
    if not isinstance(document, Report):
        return document.model_dump()
    dumped = document.model_dump(exclude={"people"})
    return {name: document.people if name == "people" else dumped[name] for name in Report.model_fields}


def as_json(document: Report | Followup, *, indent: int | None = None) -> str:
    """A report or follow-up as JSON: its parts as plain values, then the standard library's encoder with
    ``_json_value`` for times, decimals and enums (times as ISO 8601 with their ``+00:00``, decimals as numbers, as
    the API has always answered). Plain values hold no cycles: the encoder need not look for them in every one of a
    report's 70,000 dictionaries and lists."""
    plain = _plain(document)
    return json.dumps(plain, default=_json_value, ensure_ascii=False, indent=indent, check_circular=False)


def duration(seconds: float | None) -> str:
    """``3 min 20 s``; ``45 s``; ``1 h 05 min``; a dash when there is no time (the SI symbols, the same in fi, sv
    and en)."""
    if seconds is None:
        return "–"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def euros(value: Decimal, places: int = 2, *, language: str) -> str:
    """``1,98 €`` (fi, sv) or ``€1.98`` (en), with exactly ``places`` decimals (Babel)."""
    if places == 2:
        return format_money(value, language)
    return f"{format_number(value, language, decimals=places)} €" if language != "en" else f"€{value:.{places}f}"


@lru_cache(maxsize=4096)
def _helsinki_offset(utc_hour: datetime) -> timedelta:
    """Helsinki's offset from UTC, the same for a whole UTC hour: its changes happen on the hour (01:00 UTC)."""
    offset = helsinki(utc_hour).utcoffset()
    assert offset is not None
    return offset


def clock(moment: datetime, language: str) -> str:
    """The Helsinki wall-clock time of an aware moment, with seconds. A report has one for each event of every
    person; the zone's offset is looked up once per hour instead of converting each moment through the zone."""
    moment = moment.astimezone(UTC)
    local = moment + _helsinki_offset(moment.replace(minute=0, second=0, microsecond=0))
    separator = ":" if language == "en" else "."
    return separator.join(
        (str(local.hour) if language != "en" else f"{local.hour:02d}", f"{local.minute:02d}", f"{local.second:02d}")
    )


def _event(event: TimelineEvent, language: str) -> str:
    shown = words("report", language)
    call = event.get("channel") in CALL_CHANNELS
    name = {"sent": "event_called", "delivered": "event_answered"}.get(event["event"]) if call else None
    said = shown[name or f"event_{event['event']}"]
    if "channel" in event:
        reminder = f", {shown['reminder']}" if event.get("reminder") else ""
        said += f" ({channel_name(event['channel'], language)}{reminder})"
    if event.get("seconds") is not None:
        said += f" {duration(event['seconds'])}"
    if event["event"] == "failed" and event.get("error"):
        outcome = call_outcome(event["error"], language) if call else None
        said += f": {outcome}" if outcome else f" {event['error']}"
    if event["event"] == "acknowledged" and event.get("late"):
        said += f", {shown['late'].lower()}"
    if event.get("deputy"):
        said += f": {event.get('deputy')}"
    return said


def timeline(events: list[TimelineEvent], language: str) -> str:
    """A person's events in one line: ``9.00.05 lähetetty (tekstiviesti); 9.00.31 toimitettu (tekstiviesti)``. Made
    here rather than in the template: a report of 10,000 people has some 50,000 events."""
    return "; ".join(
        f"{clock(datetime.fromisoformat(event['at']), language)} {_event(event, language)}" for event in events
    )


def css_string(value: str) -> Markup:
    """A text as a CSS string (a page's running marking and distribution): quoted, backslashes, quotes and angle
    brackets escaped, so that nothing written ends the string or the style element."""
    escaped = "".join(f"\\{ord(c):x} " if c in '\\"<>\n\r' else c for c in value)
    return Markup(f'"{escaped}"')


@lru_cache(maxsize=3)
def _environment(language: str) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(Path(__file__).with_name("templates"))),
        autoescape=select_autoescape(enabled_extensions=("html", "j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    levels = {key: getattr(names, language) for key, names in readiness_config().level_names().items()}
    areas = {key: names.get(language, key) for key, names in place_names().items()}
    report_words = words("report", language)
    environment.filters |= {
        "when": lambda moment: format_time(moment, language) if moment else "–",
        "day": lambda day: format_date(day, language) if isinstance(day, date) else "–",
        "timeline": lambda events: timeline(events, language),
        "duration": duration,
        "num": lambda value: "–" if value is None else format_number(value, language),
        "percent": lambda value: format_percent(value, language),
        "met_class": lambda value: {True: "met", False: "notmet", None: "open"}[value],
        "channel": lambda name: channel_name(name, language),
        "item_status": lambda status: report_words[f"status_{status}"],
        "level_name": lambda key: levels.get(key, key),
        "area_name": lambda key: areas.get(key, key),
        "kind_name": lambda kind: texts.kind_name(kind, language),
        "euros": partial(euros, language=language),
        "css_string": css_string,
    }
    environment.globals |= {"say": lambda section, key, **values: text(section, key, language, **values)}
    return environment


def report_html(report: Report, *, everyone: bool = True) -> str:
    """The report as one HTML page. ``everyone``: every person's row; otherwise (the PDF) only those who did not
    acknowledge, and a note that the complete list is in the HTML and the CSV (laying out a table of 10,000 rows
    took WeasyPrint a minute and a half)."""
    language = report.language
    people = report.people if everyone else [person for person in report.people if person["acknowledged_at"] is None]
    return (
        _environment(language)
        .get_template("report.html.j2")
        .render(
            r=report,
            people=people,
            everyone=everyone,
            w=words("report", language),
            n=words("narrative", language),
            lang=language,
            exercise_word=EXERCISE_WORD[language],
            base_level=BASE_LEVEL,
            curve_svg=charts.curve_chart(report, language),
            organisation_svg=charts.organisation_chart(report, language),
        )
    )


def followup_html(followup: Followup) -> str:
    language = followup.language
    return (
        _environment(language)
        .get_template("followup.html.j2")
        .render(
            f=followup,
            w=words("followup", language),
            m=words("metrics", language),
            lang=language,
            municipalities_svg=charts.municipalities_chart(followup, language),
        )
    )


def report_as_pdf(report: Report) -> bytes:
    """A report as a PDF: the per-organisation tables and the people who did not acknowledge (the HTML and the CSV
    list everyone, and the PDF says so)."""
    return pdf(report_html(report, everyone=False))


def pdf(html: str) -> bytes:
    """An HTML page as a PDF (WeasyPrint): charts stay vector graphics."""
    from weasyprint import HTML

    return bytes(HTML(string=html).write_pdf())


def _calls_cells(calls: PersonCalls | None) -> list[Any]:
    if calls is None:
        return ["", "", ""]
    return [calls["attempts"], calls["answered"], "" if calls["seconds"] is None else calls["seconds"]]


def people_csv(report: Report) -> str:
    """One row per person: acknowledgement, answer, first delivery; names and numbers only in a full report."""
    language, redact = report.language, report.redacted
    header = [] if redact else ["name", "mobile", "email"]
    header += ["organisation", "roles", "deputy", "acknowledged_at", "ack_seconds", "late", "response", "answer"]
    header += ["calls", "calls_answered", "call_seconds"]
    rows = []
    for person in report.people:
        row: list[Any] = []
        if not redact:  # a full report's people have names
            named = cast(NamedPerson, person)
            row = [named["name"], named["mobile"] or "", named["email"] or ""]
        row += [
            person["organisation"],
            ", ".join(person["roles"]),
            "1" if person["deputy"] else "0",
            format_time(person["acknowledged_at"], language) if person["acknowledged_at"] else "",
            "" if person["ack_seconds"] is None else format_number(person["ack_seconds"], language),
            "1" if person["late"] else "0",
            person["response"] or "",
            person["answer"] or "",
            *_calls_cells(person["calls"]),
        ]
        rows.append(row)
    return write_csv(header, rows)


ORGANISATION_COLUMNS = ["organisation", "targeted", "sent", "delivered", "no_receipt", "failed", "acknowledged", "late"]


def organisations_csv(report: Report) -> str:
    language = report.language
    header = [*ORGANISATION_COLUMNS, "ack_median_s", "ack_p90_s", "ack_max_s"]
    rows = [
        [getattr(row, key) for key in ORGANISATION_COLUMNS]
        + [
            "" if seconds is None else format_number(seconds, language)
            for seconds in (row.ack_seconds.median, row.ack_seconds.p90, row.ack_seconds.max)
        ]
        for row in report.by_organisation
    ]
    return write_csv(header, rows)


@dataclass(frozen=True)
class Exported:
    """A report or follow-up in one format: the bytes, their media type and the end of the file name they are saved
    under (``.pdf``, ``-people.csv``)."""

    body: bytes
    media_type: str
    suffix: str

    @property
    def binary(self) -> bool:
        """A PDF: written to a file, never to a terminal."""
        return self.media_type == PDF

    @property
    def to_save(self) -> bool:
        """A file to save (PDF, CSV) rather than a page to read (JSON, HTML)."""
        return self.media_type in (PDF, CSV)


def export(
    document: Report | Followup, format: Format, *, table: CsvTable = "people", pretty: bool = False
) -> Exported:
    """The one way a report or the yearly follow-up becomes a file (the API, the console and the command line use
    it): JSON (``pretty``: indented, for people), HTML, PDF, or a report's ``table`` as CSV (a follow-up has none)."""
    if format == "json":
        return Exported(as_json(document, indent=2 if pretty else None).encode("utf-8"), JSON, ".json")
    if format == "pdf":
        return Exported(
            report_as_pdf(document) if isinstance(document, Report) else pdf(followup_html(document)), PDF, ".pdf"
        )
    html = report_html(document) if isinstance(document, Report) else followup_html(document)
    if format == "html":
        return Exported(html.encode("utf-8"), HTML, ".html")
    if not isinstance(document, Report):
        raise Invalid("the yearly follow-up is json, html or pdf")
    body = people_csv(document) if table == "people" else organisations_csv(document)
    return Exported(body.encode("utf-8"), CSV, f"-{table}.csv")
