"""`alueturva roster …`: import, export and check the rosters from the command line."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from alueturva.auth.service import cli_principal
from alueturva.db import get_database
from contacts import compliance, roster

roster_app = typer.Typer(help="Rosters: import, export and compliance.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


def _print_errors(report: roster.ImportReport) -> None:
    table = Table("row", "column", "problem", title=f"{len(report.errors)} error(s); nothing was imported")
    for error in report.errors:
        table.add_row(str(error.row), error.column or "", error.message)
    err_console.print(table)


@roster_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Roster CSV")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and count the changes only")] = False,
) -> None:
    """Import a roster CSV, all or nothing (one row per group membership)."""
    try:
        with get_database().session() as session:
            report = roster.import_roster(session, data=file.read_bytes(), dry_run=dry_run, actor=cli_principal())
    except roster.RosterRejected as exc:
        _print_errors(exc.report)
        raise typer.Exit(1) from exc
    verb = "would change" if dry_run else "changed"
    console.print(
        f"{report.rows} rows; {verb}: {report.people_created} people created, {report.people_updated} updated, "
        f"{report.memberships_added} memberships added, {report.memberships_updated} updated, "
        f"{report.memberships_removed} removed"
    )


@roster_app.command("export")
def export_file(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: standard output)")
    ] = None,
) -> None:
    """Export the roster in the import format."""
    with get_database().session() as session:
        text = roster.export_roster(session)
    if output is None:
        sys.stdout.write(text.removeprefix("\ufeff"))
    else:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {output}")


@roster_app.command("check")
def check(
    language: Annotated[str, typer.Option(help="fi, sv or en")] = "fi",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Has every organisation named the contacts the agreement requires? Exit 2 when something is missing."""
    with get_database().session() as session:
        report = compliance.check_compliance(session)
    if as_json:
        print(json.dumps(asdict(report), default=str, ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(compliance.render_text(report, language))
    if not report.complete:
        raise typer.Exit(2)
