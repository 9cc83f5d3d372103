"""`alueturva retention …`: personal-data retention by hand (the scheduler runs it daily)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

retention_app = typer.Typer(help="Personal-data retention: pseudonymise what is past its time.", no_args_is_help=True)


@retention_app.callback()
def retention() -> None:
    """Personal data past its retention time (config/personal_data.yaml) becomes a stable pseudonym."""


@retention_app.command("run")
def run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would change")] = False,
) -> None:
    """Pseudonymise every personal field past its retention time (config/personal_data.yaml), in small batches."""
    from rich.table import Table

    from alueturva.app.output import show
    from alueturva.i18n import format_time
    from alueturva.personal.retention import run as run_retention

    runs = run_retention(dry_run=dry_run)
    title = "Would be pseudonymised (dry run)" if dry_run else "Pseudonymised"
    table = Table("data", "kind", "older than", "rows", title=title)
    for holder_run in runs:
        table.add_row(holder_run.holder, holder_run.kind, format_time(holder_run.before, "en"), str(holder_run.rows))
    show(table)


@retention_app.command("record")
def record(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE (default: print)")] = None,
) -> None:
    """The record of processing (docs/personal-data.md), in Finnish and English, from config/personal_data.yaml."""
    from alueturva.personal.record import record_markdown

    text = record_markdown()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
