"""`alueturva cards …`: action cards and card sets from the command line, and the municipalities' reviews.

Heavy imports happen inside the commands, so that `--help` answers at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

cards_app = typer.Typer(help="Action cards (toimintaohjekortit): list, import, export, reviews.", no_args_is_help=True)


@cards_app.command("list")
def list_cards(
    card_set: Annotated[str | None, typer.Option("--set", help="Only this card set")] = None,
    level: Annotated[str | None, typer.Option(help="Only cards of this readiness level")] = None,
) -> None:
    """The cards, one line each: key, level or drill kind, area, tasks."""
    from actioncards import read
    from alueturva.db import get_database

    with get_database().session() as session:
        cards = read.card_list(session, card_set=card_set, level=level)
    for card in cards.items:
        when = card.level or f"drill:{card.drill_kind}"
        state = "" if card.active else " (not in use)"
        typer.echo(f"{card.key}\t{when}\t{card.area}\t{len(card.tasks)} tasks\t{card.title['fi']}{state}")
    typer.echo(f"{cards.total} card(s)")


@cards_app.command("import")
def import_set(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", exists=True, dir_okay=False, readable=True, help="A card set (YAML)")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and list the changes only")] = False,
) -> None:
    """Import a card set file, all or nothing: new cards are added, changed ones get a new version."""
    from actioncards import flows
    from actioncards.cardsets import MAX_SET_BYTES
    from alueturva.auth.service import cli_principal

    with file.open("rb") as handle:
        data = handle.read(MAX_SET_BYTES + 1)
    result = flows.import_set(data=data, source=file.name, actor=cli_principal().actor, dry_run=dry_run)
    verb = "would be" if dry_run else "were"
    typer.echo(
        f"{result.card_set}: {len(result.created)} new, {len(result.updated)} changed, "
        f"{len(result.unchanged)} unchanged card(s) {verb} imported"
    )
    for key in result.created:
        typer.echo(f"  + {key}")
    for key in result.updated:
        typer.echo(f"  ~ {key}")


@cards_app.command("export")
def export_set(
    card_set: Annotated[str, typer.Argument(metavar="SET", help="The card set")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="The file (default: print)")] = None,
) -> None:
    """Write a card set as YAML, importable again as it is."""
    from actioncards.cardsets import export_set as export
    from alueturva.db import get_database

    with get_database().session() as session:
        text = export(session, card_set=card_set)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@cards_app.command("review")
def record_review(
    organisation: Annotated[str, typer.Argument(help="The municipality (its key, e.g. kokkola)")],
    subject: Annotated[str, typer.Argument(metavar="action_cards|management_group", help="What was reviewed")],
    reviewed_by: Annotated[str, typer.Option("--by", help="Who reviewed, as named")],
    comment: Annotated[str, typer.Option(help="What the review found")] = "",
    at: Annotated[str | None, typer.Option(help="When (default: now), e.g. 2025-11-01 or 2025-11-01T08:00")] = None,
) -> None:
    """Record a municipality's review of its action cards or of its management group's composition."""
    from pydantic import ValidationError

    from actioncards import flows
    from actioncards.schemas import ReviewIn
    from alueturva.auth.service import cli_principal
    from alueturva.db import get_database
    from alueturva.errors import Invalid
    from contacts.service import organisation_lookup

    with get_database().session() as session:
        found = organisation_lookup(session).get(organisation.casefold())
        if found is None:
            raise Invalid(f"no organisation '{organisation}'")
        organisation_id = found.id
    try:
        payload = ReviewIn(
            organisation_id=organisation_id, subject=subject, reviewed_by=reviewed_by, comment=comment, reviewed_at=at
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Invalid(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc
    review = flows.record_review(payload=payload, actor=cli_principal().actor)
    typer.echo(f"review {review.id} recorded")


@cards_app.command("reviews")
def review_status() -> None:
    """Each municipality's latest review of its action cards and of its management group's composition."""
    from actioncards import read
    from alueturva.db import get_database
    from alueturva.i18n import format_time

    with get_database().session() as session:
        status = read.review_status(session)
    for item in status.items:
        cards = format_time(item.action_cards.reviewed_at, "fi") if item.action_cards else "-"
        group = format_time(item.management_group.reviewed_at, "fi") if item.management_group else "-"
        typer.echo(f"{item.organisation}\tcards: {cards}\tmanagement group: {group}")
