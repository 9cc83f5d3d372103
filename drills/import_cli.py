"""`alueturva drill import|events`: an exercise run elsewhere, from its log; a drill's own event log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from alueturva.errors import Invalid
from drills.cli_support import OBJECTIVE_HELP, console, objective_option, write_output

KINDS = "exercise, communication_test, management_group_test or external_system_test"


def import_log(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The log: CSV (UTF-8 or Windows-1252) or .xlsx")],
    name: Annotated[str | None, typer.Option(metavar="NAME", help="The drill it becomes")] = None,
    kind: Annotated[str, typer.Option(metavar="KIND", help=KINDS)] = "exercise",
    description: Annotated[str, typer.Option(metavar="TEXT", help="The scenario")] = "",
    mapping: Annotated[
        Path | None, typer.Option(metavar="MAP", help="A mapping (YAML); default: the plain or Alueturva log")
    ] = None,
    drill: Annotated[
        int | None, typer.Option("--drill", metavar="ID", help="Add the log to this imported drill")
    ] = None,
    objective: Annotated[
        list[str] | None, typer.Option("--objective", metavar="OBJECTIVE", help=OBJECTIVE_HELP)
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and report; store nothing")] = False,
) -> None:
    """Import the log of an exercise run elsewhere as a drill, all or nothing; the same file is never imported
    twice. Times without a zone are Finnish time."""
    from alueturva.auth.service import cli_principal
    from drills.imports.flows import import_log as import_flow
    from drills.imports.mapping import mapping_from_file
    from drills.models import DrillKind

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise Invalid(f"{file}: cannot read: {exc.strerror}") from exc
    try:
        drill_kind = DrillKind(kind)
    except ValueError as exc:
        raise Invalid(f"--kind is {KINDS}") from exc
    given = mapping_from_file(mapping) if mapping else None
    goals = _objectives([objective_option(text) for text in objective]) if objective else None
    result = import_flow(
        data=data,
        filename=file.name,
        mapping=given,
        name=name,
        kind=drill_kind,
        description=description,
        drill_id=drill,
        objectives=goals,
        dry_run=dry_run,
        actor=cli_principal().actor,
    )
    _print_result(result)


def _objectives(given: list[dict[str, Any]]) -> Any:
    from pydantic import ValidationError

    from drills.schemas import ObjectivesAdapter

    try:
        return ObjectivesAdapter.validate_python(given)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise Invalid(f"--objective: {error['msg']} ({'.'.join(str(part) for part in error['loc'])})") from exc


def _print_result(result: Any) -> None:
    out = console()
    if result.already_imported:
        out.print(f"{result.source} was imported before (drill {result.drill_id}); nothing changed")
        return
    where = "dry run, nothing stored" if result.dry_run else f"drill {result.drill_id}"
    out.print(
        f"{result.source} ({result.mapping} mapping, {result.encoding}): {result.rows} rows, {result.events} new "
        f"events ({result.repeated_rows} repeated, {result.already_in_drill} already in the drill); {where}"
    )
    matched = ", ".join(f"{count} by {how}" for how, count in result.matched.items() if count)
    out.print(f"{result.recipients} recipients over {len(result.phases) or 'no'} phases; on the roster: {matched}")
    if result.unmatched:
        out.print(f"not on the roster ({len(result.unmatched)}), kept by name:")
        for person in result.unmatched:
            out.print(f"  row {person.row}: {person.name or '-'} ({person.organisation or '-'})")


def events(
    drill_id: Annotated[int, typer.Argument(metavar="ID", help="Drill id")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="File to write (default: standard output)")
    ] = None,
) -> None:
    """The drill's event log as CSV (names and numbers), in the columns `drill import` reads back."""
    from alueturva.db import get_database
    from drills import service
    from drills.imports.export import event_log

    with get_database().session() as session:
        content = event_log(session, service.get_drill(session, drill_id=drill_id))
    write_output(content, output)


def register(drill_app: typer.Typer) -> None:
    drill_app.command("import")(import_log)
    drill_app.command("events")(events)
