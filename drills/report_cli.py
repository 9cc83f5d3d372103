"""`alueturva drill report|finding|item …` and `alueturva followup`: the after-action report, its findings and
improvement plan, and the councils' yearly follow-up."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.table import Table

from alueturva.errors import Invalid
from drills.cli_support import Language, console, validated, write_output

if TYPE_CHECKING:
    from drills.report.schemas import CsvTable, Format


def report(
    drill_id: Annotated[int, typer.Argument(help="Drill id")],
    format: Annotated[str, typer.Option(help="json, html, pdf or csv")] = "html",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: standard output)")
    ] = None,
    language: Language = "fi",
    redact: Annotated[bool, typer.Option(help="Organisations and roles only: no names, numbers or emails")] = False,
    table: Annotated[str, typer.Option(help="For csv: people or organisations")] = "people",
    version: Annotated[int | None, typer.Option(help="An approved version (default: the latest)", min=1)] = None,
) -> None:
    """The drill's after-action report and improvement plan: the latest approved version, or the draft of the next
    (the CSV is always redacted)."""

    from alueturva.db import get_database
    from drills.report import render
    from drills.report.approval import report_document

    if format not in ("json", "html", "pdf", "csv") or table not in ("people", "organisations"):
        raise Invalid("--format is json, html, pdf or csv; --table is people or organisations")
    with get_database().session() as session:
        data = report_document(
            session, drill_id=drill_id, language=language, redact=redact or format == "csv", version=version
        )
    write_output(render.export(data, cast("Format", format), table=cast("CsvTable", table), pretty=True), output)


def finding(
    drill_id: Annotated[int, typer.Argument(help="Drill id")],
    kind: Annotated[str, typer.Argument(help="strength or improvement (an area for improvement)")],
    text: Annotated[str, typer.Argument(help="What was seen")],
    objective: Annotated[int | None, typer.Option(help="The objective it concerns, by number")] = None,
) -> None:
    """Write a strength or an area for improvement into the drill's after-action report."""
    from alueturva.auth.service import cli_principal
    from drills import findings
    from drills.schemas import FindingIn

    kinds = {"strength": "strength", "improvement": "area_for_improvement"}
    if kind not in kinds:
        raise Invalid("the kind is strength or improvement")
    payload = validated(FindingIn, {"kind": kinds[kind], "text": text, "objective": objective})
    findings.add_finding(drill_id=drill_id, payload=payload, actor=cli_principal().actor)
    console().print("recorded")


item_app = typer.Typer(help="The improvement plan: items stay open across drills until closed.", no_args_is_help=True)


def _print_items(rows: list[Any], language: str) -> None:
    from alueturva.i18n import format_date
    from drills.report.texts import words as report_words

    words = report_words("report", language)
    table = Table("id", words["areas_for_improvement"], words["action"], words["owner"], words["due"], words["status"])
    for item in rows:
        due = format_date(item.due, language) if item.due else "-"
        table.add_row(
            str(item.id), item.text, item.action, item.organisation or "-", due, words[f"status_{item.status}"]
        )
    console().print(table)


def _organisation_id(reference: str | None) -> int | None:
    if reference is None:
        return None
    from alueturva.db import get_database
    from contacts import service as contacts

    with get_database().session() as session:
        return contacts.ids_of(session, references=[reference], find=contacts.find_organisation, what="--organisation")[
            0
        ]


@item_app.command("add")
def item_add(
    drill_id: Annotated[int, typer.Argument(help="The drill that found it")],
    text: Annotated[str, typer.Option(help="The area for improvement")],
    action: Annotated[str, typer.Option(help="The corrective action")],
    organisation: Annotated[str | None, typer.Option(help="The organisation to fix it (key or name)")] = None,
    due: Annotated[str | None, typer.Option(help="Due date, 2027-03-31")] = None,
) -> None:
    """Add an item to the improvement plan."""
    from alueturva.auth.service import cli_principal
    from drills import findings
    from drills.schemas import ImprovementItemIn

    payload = validated(
        ImprovementItemIn,
        {"text": text, "action": action, "organisation_id": _organisation_id(organisation), "due": due},
    )
    item = findings.add_item(drill_id=drill_id, payload=payload, actor=cli_principal().actor)
    console().print(f"item {item.id} added")


@item_app.command("update")
def item_update(
    item_id: Annotated[int, typer.Argument(help="Item id")],
    status: Annotated[str | None, typer.Option(help="open, in_progress, done or dropped")] = None,
    due: Annotated[str | None, typer.Option(help="Due date, 2027-03-31")] = None,
    note: Annotated[str | None, typer.Option(help="What was done")] = None,
) -> None:
    """Move an item on, or change its due date."""
    from alueturva.auth.service import cli_principal
    from drills import findings
    from drills.schemas import ImprovementItemUpdate

    given = {key: value for key, value in {"status": status, "due": due, "note": note}.items() if value is not None}
    payload = validated(ImprovementItemUpdate, given)
    findings.update_item(item_id=item_id, payload=payload, actor=cli_principal().actor)
    console().print(f"item {item_id} updated")


@item_app.command("list")
def item_list(
    status: Annotated[list[str] | None, typer.Option("--status", help="open, in_progress, done, dropped")] = None,
    language: Language = "en",
) -> None:
    """The improvement plan across drills, soonest due first."""
    from alueturva.db import get_database
    from drills import findings
    from drills.models import ItemStatus

    try:
        statuses = [ItemStatus(value) for value in status] if status else None
    except ValueError as exc:
        raise Invalid(f"--status: {exc}") from exc
    with get_database().session() as session:
        rows = findings.items(session, status=statuses)
    _print_items(rows, language)


followup_app = typer.Typer(help="The councils' yearly follow-up, with the split of the SMS and call costs.")


@followup_app.callback(invoke_without_command=True)
def followup(
    year: Annotated[int, typer.Option(help="The year, e.g. 2026")],
    format: Annotated[str, typer.Option(help="json, html or pdf")] = "html",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: standard output)")
    ] = None,
    language: Language = "fi",
) -> None:
    """Drills held, objectives met, figures per municipality, compliance at each drill, improvement items, costs."""

    from alueturva.db import get_database
    from drills.followup import followup as yearly
    from drills.report import render

    if format not in ("json", "html", "pdf"):
        raise Invalid("--format is json, html or pdf")
    with get_database().session() as session:
        data = yearly(session, year=year, language=language)
    write_output(render.export(data, cast("Format", format), pretty=True), output)


def register(drill_app: typer.Typer) -> None:
    """Add the report commands to ``alueturva drill``."""
    drill_app.command("report")(report)
    drill_app.command("finding")(finding)
    drill_app.add_typer(item_app, name="item")
