"""`alueturva situation …`: the picture at the terminal, CAP import and readiness decisions.

Heavy imports happen inside the commands, so that `--help` answers at once.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from situation.levels import LEVEL_ORDER

situation_app = typer.Typer(help="Situational picture and readiness levels.", no_args_is_help=True)


@situation_app.command("import-cap")
def import_cap(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A CAP 1.2 XML file, e.g. an FMI weather warning")],
) -> None:
    """Import a CAP 1.2 warning as observations for the matching municipalities."""
    from rich.console import Console

    from alueturva.auth.service import cli_principal
    from alueturva.errors import Invalid
    from situation.observations import import_cap as import_cap_flow

    try:
        document = file.read_bytes()
    except OSError as exc:
        raise Invalid(f"cannot read {file}: {exc.strerror}") from exc
    result = import_cap_flow(document=document, actor=cli_principal().actor)
    console = Console()
    console.print(
        f"CAP {result.identifier}: {result.stored} stored, {result.duplicates} already stored; "
        f"municipalities: {', '.join(result.matched_areas) or '-'}"
    )
    if result.unmatched_areas:
        console.print(f"areas outside our region: {', '.join(result.unmatched_areas)}")


@situation_app.command("show")
def show(
    language: Annotated[str, typer.Option(metavar="fi|sv|en", help="The language of the whole table")] = "en",
) -> None:
    """Each area's decided level (with its reason, who decided and when), its recommendation and why, and how much
    of its picture is current; wholly in English, Finnish or Swedish (times in Finnish time)."""
    from rich.console import Console
    from rich.table import Table

    from alueturva.db import get_database
    from alueturva.errors import Invalid
    from alueturva.i18n import LANGUAGES, format_time
    from situation.config import readiness_config
    from situation.flows import current_picture
    from situation.texts import text

    if language not in LANGUAGES:
        raise Invalid(f"--language {language!r}: use fi, sv or en")
    with get_database().session() as session:
        picture = current_picture(session)
    levels = {key: getattr(names, language) for key, names in readiness_config().level_names().items()}
    headings = ("area", "decided", "decision", "recommended", "coverage", "reasons")
    table = Table(*(text(f"heading_{heading}", language) for heading in headings))
    for row in picture["areas"]:
        decided, recommended, coverage = row["decided"], row["recommended"], row["coverage"]
        decision = "-"
        if decided["decision_id"] is not None:
            when = format_time(datetime.fromisoformat(decided["decided_at"]), language)
            decision = text("decided_by", language, reason=decided["reason"], who=decided["decided_by_name"], time=when)
        table.add_row(
            row["names"].get(language, row["key"]),
            levels[decided["level"]],
            decision,
            (levels[recommended["level"]] if recommended["level"] else text("no_data", language))
            + (" (!)" if row["differs"] else ""),
            f"{coverage['current']}/{coverage['total']}",
            "; ".join(reason["text"][language] for reason in recommended["reasons"]) or "-",
        )
    console = Console()
    console.print(table)
    if picture["differs"]:
        console.print(text("differs_note", language))


@situation_app.command("decide")
def decide(
    area: Annotated[str, typer.Argument(metavar="AREA", help="region, a management area or a municipality key")],
    level: Annotated[str, typer.Argument(metavar="LEVEL", help=", ".join(LEVEL_ORDER))],
    reason: Annotated[str, typer.Option(metavar="TEXT", help="Why (recorded and audited)")],
    drill: Annotated[
        int | None,
        typer.Option("--drill", metavar="ID", help="An exercise decision in this running drill (never the real level)"),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation (scripts)")] = False,
) -> None:
    """Record a readiness decision and dispatch the reactions it sets in motion.

    A real decision that would alert people says how many and asks first.
    """
    from pydantic import ValidationError
    from rich.console import Console

    from alueturva.auth.service import cli_principal
    from alueturva.db import get_database
    from alueturva.errors import Invalid
    from situation.config import readiness_config
    from situation.decisions import decide as decide_flow
    from situation.decisions import preview
    from situation.schemas import DecisionIn
    from situation.texts import text

    try:
        payload = DecisionIn.model_validate({"area": area, "level": level, "reason": reason, "drill_id": drill})
    except ValidationError as exc:
        raise Invalid("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from exc
    level_names = {key: names.en for key, names in readiness_config().level_names().items()}
    with get_database().session() as session:
        planned = preview(session, payload=payload)
    if planned.drill_id is None and planned.people and not yes:
        Console().print(
            f"[bold]A real decision[/bold] (not an exercise): {planned.area} {level_names[planned.previous_level]} "
            f"-> {level_names[planned.level]}. It alerts {planned.people} people (groups: {', '.join(planned.groups)})."
        )
        if not typer.confirm("Make the decision and alert them?", default=False):
            raise typer.Exit(1)
    decision = decide_flow(payload=payload, actor=cli_principal().actor)
    scope = f" (exercise, drill {decision.drill_id})" if decision.drill_id is not None else ""
    recommended = level_names[decision.recommended_level] if decision.recommended_level else text("no_data", "en")
    alerts = sorted({alert_id for reaction in decision.reactions for alert_id in reaction.alert_ids})
    Console().print(
        f"decision {decision.id}{scope}: {decision.area} {level_names[decision.previous_level]} -> "
        f"{level_names[decision.level]} (recommended {recommended}); "
        f"reactions: {len(decision.reactions)}" + (f"; alerts sent: {', '.join(map(str, alerts))}" if alerts else "")
    )
