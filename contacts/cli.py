"""`alueturva roster …` and `alueturva people …`: rosters, compliance and people from the command line.

Heavy imports happen inside the commands, so that `--help` answers at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from contacts.roster import ImportReport

roster_app = typer.Typer(help="Rosters: import, export and compliance.", no_args_is_help=True)
people_app = typer.Typer(help="People in the rosters: list and show.", no_args_is_help=True)

EXIT_INCOMPLETE = 2
Language = Annotated[str, typer.Option(metavar="fi|sv|en", help="The language of the report")]


def _print_errors(report: ImportReport) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("row", "column", "problem", title=f"{len(report.errors)} error(s); nothing was imported")
    for error in report.errors:
        table.add_row(str(error.row), error.column or "", error.message)
    Console(stderr=True).print(table)


def _print_changes(report: ImportReport) -> None:
    """Every person added, changed and removed, per group: nothing changes unseen."""
    from rich.console import Console

    console = Console(soft_wrap=True)
    verb = "would be" if report.dry_run else "was"
    for person in report.people_created_names:
        console.print(f"  new person: {person.name}")
    for person in report.people_updated_names:
        console.print(f"  changed person: {person.name} ({', '.join(person.fields)})")
    for group in report.groups:
        lines = [(f"+ {m.name} ({m.role})", "added") for m in group.added]
        lines += [(f"~ {m.name} ({m.role})", "changed") for m in group.changed]
        lines += [(f"- {m.name} ({m.role})", "removed") for m in group.removed]
        if not lines and not group.kept_absent:
            continue
        console.print(f"[bold]{group.group_name}[/bold] ({group.group})", markup=True)
        for text, change in lines:
            console.print(f"  {text} {verb} {change}", markup=False)
        if group.kept_absent:
            names = ", ".join(f"{m.name} ({m.role})" for m in group.kept_absent)
            console.print(f"  not in the file, kept (use --replace to remove): {names}", markup=False)


@roster_app.command("import")
def import_file(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", exists=True, dir_okay=False, readable=True, help="Roster CSV")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and list the changes only")] = False,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Also remove from each group in the file the members the file does not name"),
    ] = False,
) -> None:
    """Import a roster CSV, all or nothing (one row per group membership): adds and updates the file's people and
    memberships, and names each change per group."""
    from rich.console import Console

    from alueturva.auth.service import cli_principal
    from contacts import roster

    try:
        report = roster.import_roster(data=file.read_bytes(), dry_run=dry_run, actor=cli_principal(), replace=replace)
    except roster.RosterRejected as exc:
        _print_errors(exc.report)
        raise typer.Exit(1) from exc
    verb = "would change" if dry_run else "changed"
    Console(soft_wrap=True).print(
        f"{report.rows} rows; {verb}: {report.people_created} people created, {report.people_updated} updated, "
        f"{report.memberships_added} memberships added, {report.memberships_updated} updated, "
        f"{report.memberships_removed} removed"
    )
    _print_changes(report)


@roster_app.command("export")
def export_file(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="File to write (default: standard output)"),
    ] = None,
) -> None:
    """Export the roster in the import format."""
    import sys

    from alueturva.db import get_database
    from contacts import roster

    with get_database().session() as session:
        text = roster.export_roster(session)
    if output is None:
        sys.stdout.write(text.removeprefix("\ufeff"))
    else:
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)


@roster_app.command("check")
def check(
    language: Language = "fi",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on the recommendations too")] = False,
) -> None:
    """Has every organisation named the contacts the agreement requires? Exit 2 while a requirement of the
    agreement is not met (with --strict, also while a recommendation is not)."""
    import json
    import sys
    from dataclasses import asdict

    from alueturva.db import get_database
    from contacts import compliance, compliance_text

    with get_database().session() as session:
        report = compliance.check_compliance(session)
    if as_json:
        print(json.dumps(asdict(report), default=str, ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(compliance_text.render_text(report, language))
    if not (report.complete_with_recommendations if strict else report.complete):
        raise typer.Exit(EXIT_INCOMPLETE)


@people_app.command("list")
def list_people(
    organisation: Annotated[
        str | None, typer.Option("--organisation", metavar="ORGANISATION", help="Id, key, name or business id")
    ] = None,
    query: Annotated[str | None, typer.Option("--query", "-q", metavar="TEXT", help="Part of a name or title")] = None,
    inactive: Annotated[bool, typer.Option("--inactive", help="Also people who are not active")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000, metavar="N", help="How many")] = 200,
) -> None:
    """People, by name: id, organisation, title, mobile, email, language."""
    from rich.console import Console
    from rich.table import Table

    from alueturva.db import get_database
    from alueturva.errors import Invalid
    from contacts import service

    table = Table("id", "name", "organisation", "title", "mobile", "email", "lang", "active")
    with get_database().session() as session:
        organisation_id = None
        if organisation is not None:
            found = service.find_organisation(session, reference=organisation)
            if found is None:
                raise Invalid(f"--organisation {organisation!r}: nothing by that id, key or name")
            organisation_id = found.id
        people, total = service.list_people(
            session, organisation_id=organisation_id, active=None if inactive else True, query=query, limit=limit
        )
        for person in people:
            table.add_row(
                str(person.id),
                person.name,
                person.organisation.short_name,
                person.title or "",
                person.mobile or "",
                person.email or "",
                person.language,
                "yes" if person.active else "no",
            )
    console = Console()
    console.print(table)
    console.print(f"{len(people)} of {total}")


@people_app.command("show")
def show_person(person_id: Annotated[int, typer.Argument(metavar="PERSON", help="Person id")]) -> None:
    """One person: contact details, and every group and role they hold (and whom they deputise)."""
    from rich.console import Console
    from rich.table import Table

    from alueturva.db import get_database
    from alueturva.i18n import format_time
    from contacts import catalogue, service

    roles = catalogue.roles_by_key()
    console = Console()
    with get_database().session() as session:
        person = service.get_person(session, person_id=person_id)
        console.print(f"[bold]{person.name}[/bold] (person {person.id}){'' if person.active else ' — not active'}")
        for label, value in (
            ("organisation", person.organisation.short_name),
            ("title", person.title),
            ("mobile", person.mobile),
            ("email", person.email),
            ("language", person.language),
            ("updated", format_time(person.updated_at, "en") + " (Finnish time)"),
        ):
            console.print(f"  {label}: {value or '-'}", markup=False)
        table = Table("group", "role", "order", "deputy of", title="memberships")
        for membership in sorted(person.memberships, key=lambda m: (m.group.key, m.role_key)):
            role = roles.get(membership.role_key)
            deputy_of = membership.deputy_of.person.name if membership.deputy_of else ""
            table.add_row(
                membership.group.key, role.names.en if role else membership.role_key, str(membership.order), deputy_of
            )
        console.print(table)
