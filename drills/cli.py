"""`alueturva drill …`: plan drills, run them, record observations, watch them live and see their objectives."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from alueturva.errors import Invalid
from drills import import_cli, report_cli
from drills.cli_support import OBJECTIVE_HELP, Language, console, objective_option, validated

drill_app = typer.Typer(help="Drills and exercises: plan, start, watch, observe, end.", no_args_is_help=True)


def _localized(fi: str | None, sv: str | None, en: str | None) -> dict[str, str] | None:
    if fi is None:
        return None
    return {language: text for language, text in (("fi", fi), ("sv", sv), ("en", en)) if text}


def _targets(group: list[str], organisation: list[str], role: list[str], area: list[str], person: list[int]) -> Any:
    from alueturva.db import get_database
    from contacts import service as contacts

    with get_database().session() as session:
        return {
            "groups": contacts.ids_of(session, references=group, find=contacts.find_group, what="--group"),
            "organisations": contacts.ids_of(
                session, references=organisation, find=contacts.find_organisation, what="--organisation"
            ),
            "roles": role,
            "areas": area,
            "people": person,
        }


def _read_plan_file(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise Invalid(f"{path}: cannot be read as YAML or JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise Invalid(f"{path}: expected a drill (a mapping of fields, as POST /api/v1/drills takes)")
    return data


def _print(drill_id: int, language: str = "en") -> None:
    from alueturva.db import get_database, utcnow
    from alueturva.i18n import format_time
    from contacts.catalogue import place_names
    from drills import read, service, texts
    from situation.config import readiness_config

    def words(key: str) -> str:
        return texts.label(key, language)

    places = place_names()
    levels = {key: getattr(names, language) for key, names in readiness_config().level_names().items()}

    with get_database().session() as session:
        drill = read.drill_read(session, service.get_drill(session, drill_id=drill_id), now=utcnow())

    def when(moment: Any) -> str:
        return format_time(moment, language) if moment else "-"

    out = console()
    kind, state = texts.kind_name(drill.kind, language), texts.state_name(drill.state, language)
    out.print(f"[bold]{words('drill')} {drill.id}[/bold]: {drill.names[language]} ({kind}) — {state}")
    if drill.schedule:
        plan = drill.schedule.get("cron") or when(drill.schedule.get("at"))
        upcoming = drill.schedule.get("next_at")
        out.print(f"{words('schedule')}: {plan}" + (f", {words('next')} {when(upcoming)}" if upcoming else ""))
    out.print(
        f"{words('started')} {when(drill.started_at)}, {words('ends')} {when(drill.ends_at)}, "
        f"{words('ended')} {when(drill.ended_at)}"
    )
    if drill.runs:
        out.print(f"{words('runs')}: {', '.join(map(str, drill.runs))}")
    out.print(f"{words('alerts')}: {', '.join(map(str, drill.alerts)) or '-'}")
    if drill.action_cards:
        out.print(f"{words('action_cards')}: {', '.join(drill.action_cards)}")
    for sent in drill.sent:
        if sent.last_error:
            out.print(f"[red]{words('not_sent')} ({sent.purpose}): {sent.last_error}[/red]")
    table = Table("#", words("objective"), words("result"), words("figure"))
    for objective in (read.objective_shown(objective, language) for objective in drill.objectives):
        table.add_row(str(objective.position), objective.text, objective.met_word, objective.value_text)
    if drill.objectives:
        out.print(table)
    for phase in drill.phases:
        out.print(f"{words('phase')} {phase.number}: {phase.name} — {words('started')} {when(phase.started_at)}")
    for level in drill.exercise_levels:
        out.print(
            f"{words('decision')} {level.decision_id}: {places.get(level.area, {}).get(language, level.area)} "
            f"{levels.get(level.previous_level, level.previous_level)} → {levels.get(level.level, level.level)}"
        )
    for observation in drill.observations:
        out.print(f"{when(observation.at)} {observation.author}: {observation.text}")


def _progress_table(progress: Any) -> Table:
    from alerting.public import COUNT_KEYS

    table = Table("organisation", *COUNT_KEYS, title=f"drill {progress.drill_id}: {progress.name} — {progress.state}")
    for organisation, counts in progress.by_organisation.items():
        table.add_row(organisation, *(str(counts[key]) for key in COUNT_KEYS))
    table.add_row("[bold]total[/bold]", *(str(progress.totals[key]) for key in COUNT_KEYS))
    return table


def _finnish_time(text: str, option: str) -> Any:
    from datetime import datetime

    from alueturva.i18n import AmbiguousLocalTime, from_helsinki

    try:
        return from_helsinki(datetime.fromisoformat(text))
    except (ValueError, AmbiguousLocalTime) as exc:
        raise Invalid(f"{option} {text!r}: {exc}") from exc


def _wait_for_in_process_sends() -> None:
    from alueturva.queue import InProcessQueue, get_queue

    queue = get_queue()
    if isinstance(queue, InProcessQueue):
        queue.join(timeout=300)  # no worker process in the embedded default: send before exiting


@drill_app.command("plan")
def plan(
    name: Annotated[str | None, typer.Option(help="The drill's name")] = None,
    kind: Annotated[
        str | None,
        typer.Option(help="communication_test, management_group_test, external_system_test or exercise"),
    ] = None,
    group: Annotated[list[str] | None, typer.Option("--group", help="Group key or name (repeatable)")] = None,
    organisation: Annotated[list[str] | None, typer.Option("--organisation", help="Organisation (repeatable)")] = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="Role key (repeatable)")] = None,
    area: Annotated[list[str] | None, typer.Option("--area", help="Management area (repeatable)")] = None,
    person: Annotated[list[int] | None, typer.Option("--person", help="Person id (repeatable)")] = None,
    title: Annotated[str | None, typer.Option(help="The alert's title in Finnish")] = None,
    title_sv: Annotated[str | None, typer.Option(help="… in Swedish")] = None,
    title_en: Annotated[str | None, typer.Option(help="… in English")] = None,
    message: Annotated[str | None, typer.Option(help="The alert's message in Finnish")] = None,
    message_sv: Annotated[str | None, typer.Option(help="… in Swedish")] = None,
    message_en: Annotated[str | None, typer.Option(help="… in English")] = None,
    channel: Annotated[list[str] | None, typer.Option("--channel", help="sms or email (repeatable)")] = None,
    response_option: Annotated[
        list[str] | None, typer.Option("--response-option", help="A poll answer in Finnish (repeatable)")
    ] = None,
    response_option_sv: Annotated[
        list[str] | None, typer.Option("--response-option-sv", help="… in Swedish, in the same order")
    ] = None,
    response_option_en: Annotated[
        list[str] | None, typer.Option("--response-option-en", help="… in English, in the same order")
    ] = None,
    objective: Annotated[list[str] | None, typer.Option("--objective", help=OBJECTIVE_HELP)] = None,
    description: Annotated[str, typer.Option(help="The scenario")] = "",
    contact: Annotated[str | None, typer.Option(help="The drill's point of contact")] = None,
    at: Annotated[str | None, typer.Option(help="Start once at this time, Finnish time: 2026-12-01T09:00")] = None,
    cron: Annotated[str | None, typer.Option(help="Recurring, in Finnish time, e.g. '0 9 1 * *'")] = None,
    card: Annotated[
        list[str] | None,
        typer.Option("--card", help="An action card (its key) activated as the drill's exercise when it starts"),
    ] = None,
    file: Annotated[
        Path | None, typer.Option(help="A YAML or JSON file in the shape POST /api/v1/drills takes")
    ] = None,
) -> None:
    """Plan a drill, from options or a file (the options override the file's fields)."""
    from alerting.public import localized_options
    from alueturva.auth.service import cli_principal
    from drills import plans
    from drills.schemas import DrillCreate

    data: dict[str, Any] = _read_plan_file(file) if file else {}
    given = {
        "name": name,
        "kind": kind,
        "title": _localized(title, title_sv, title_en),
        "message": _localized(message, message_sv, message_en),
        "channels": channel,
        "response_options": localized_options(response_option, response_option_sv or [], response_option_en or [])
        if response_option
        else None,
        "objectives": [objective_option(text) for text in objective] if objective else None,
        "description": description or None,
        "contact": contact,
        "schedule": {"at": at} if at else {"cron": cron} if cron else None,
        "action_cards": card,
    }
    data |= {key: value for key, value in given.items() if value is not None}
    if group or organisation or role or area or person:
        data["targets"] = _targets(group or [], organisation or [], role or [], area or [], person or [])
    request = validated(DrillCreate, data)
    _print(plans.plan(request=request, actor=cli_principal().actor).id)


@drill_app.command("list")
def list_drills(
    state: Annotated[str | None, typer.Option(help="planned, running, ended, cancelled or missed")] = None,
    language: Language = "en",
) -> None:
    """Drills, newest first; wholly in the chosen language (the command line's own, English, unless told)."""
    from alueturva.db import get_database, utcnow
    from alueturva.i18n import format_time
    from drills import read, service, texts

    table = Table("id", *(texts.label(key, language) for key in ("name", "kind", "state", "schedule", "started")))
    with get_database().session() as session:
        drills, _ = service.list_drills(session, limit=200, offset=0, state=state)
        for drill in drills:
            row = read.summary(drill, now=utcnow())
            schedule = row.schedule or {}
            plan = str(schedule.get("cron") or (format_time(schedule["at"], language) if "at" in schedule else "-"))
            started = format_time(row.started_at, language) if row.started_at else "-"
            kind, state_name = texts.kind_name(row.kind, language), texts.state_name(row.state, language)
            table.add_row(str(row.id), row.names[language], kind, state_name, plan, started)
    console().print(table)


@drill_app.command("show")
def show(drill_id: Annotated[int, typer.Argument(help="Drill id")], language: Language = "en") -> None:
    """The drill, its alerts, phases, observations and objectives evaluated now, wholly in the chosen language."""
    _print(drill_id, language)


@drill_app.command("start")
def start(
    drill_id: Annotated[int, typer.Argument(help="Drill id")],
    external_sent_at: Annotated[
        str | None, typer.Option(help="External-system test: when its message was sent (Finnish time)")
    ] = None,
) -> None:
    """Start a planned drill now (once); its alerts go out, marked as an exercise."""
    from alueturva.auth.service import cli_principal
    from drills import flows

    sent_at = _finnish_time(external_sent_at, "--external-sent-at") if external_sent_at else None
    started = flows.start(drill_id=drill_id, actor=cli_principal().actor, external_sent_at=sent_at).id
    _wait_for_in_process_sends()
    _print(started)


@drill_app.command("phase")
def phase(
    drill_id: Annotated[int, typer.Argument(help="Drill id")],
    number: Annotated[int, typer.Argument(help="Phase number (1, 2, …)")],
) -> None:
    """Start an exercise's phase: its alert goes out and its snapshot is frozen."""
    from alueturva.auth.service import cli_principal
    from drills import flows

    flows.start_phase(drill_id=drill_id, number=number, actor=cli_principal().actor)
    _wait_for_in_process_sends()
    _print(drill_id)


@drill_app.command("end")
def end(drill_id: Annotated[int, typer.Argument(help="Drill id")]) -> None:
    """End a running drill now: its alerts close and their escalation stops."""
    from alueturva.auth.service import cli_principal
    from drills import flows

    flows.end_by_hand(drill_id=drill_id, actor=cli_principal().actor)
    _print(drill_id)


@drill_app.command("cancel")
def cancel(drill_id: Annotated[int, typer.Argument(help="Drill id")]) -> None:
    """Cancel a planned drill; a recurring plan runs no more."""
    from alueturva.auth.service import cli_principal
    from drills import flows

    flows.cancel(drill_id=drill_id, actor=cli_principal().actor)
    _print(drill_id)


@drill_app.command("observe")
def observe(
    drill_id: Annotated[int, typer.Argument(help="Drill id")],
    text: Annotated[str, typer.Argument(help="What the evaluator saw")],
    phase: Annotated[int | None, typer.Option(help="The phase it belongs to")] = None,
    author: Annotated[str | None, typer.Option(help="The evaluator (default: you)")] = None,
    at: Annotated[str | None, typer.Option(help="When it happened, Finnish time (default: now)")] = None,
) -> None:
    """Record an evaluator's observation."""
    from alueturva.auth.service import cli_principal
    from drills import flows
    from drills.schemas import DrillObservationIn

    payload = validated(DrillObservationIn, {"text": text, "phase": phase, "author": author, "at": at})
    principal = cli_principal()
    flows.observe(drill_id=drill_id, payload=payload, actor=principal.actor, name=principal.name)
    console().print("observation recorded")


@drill_app.command("rate")
def rate(
    drill_id: Annotated[int, typer.Argument(help="Drill id")],
    position: Annotated[int, typer.Argument(help="The objective's number")],
    rating: Annotated[str, typer.Argument(help="P, S, M or U (HSEEP)")],
    note: Annotated[str | None, typer.Option(help="Why")] = None,
) -> None:
    """Rate a free-text objective: P without challenges, S some, M major challenges, U unable to perform."""
    from alueturva.auth.service import cli_principal
    from drills import flows
    from drills.schemas import RatingIn

    payload = validated(RatingIn, {"rating": rating.upper(), "note": note})
    flows.rate(drill_id=drill_id, position=position, payload=payload, actor=cli_principal().actor)
    _print(drill_id)


@drill_app.command("watch")
def watch(
    drill_id: Annotated[int, typer.Argument(help="Drill id")],
    interval: Annotated[float, typer.Option(min=0.05, help="Seconds between refreshes")] = 1.0,
    timeout: Annotated[float | None, typer.Option(min=0, help="Stop after this many seconds")] = None,
) -> None:
    """Live progress of all the drill's alerts together, per organisation, until it ends."""
    from rich.live import Live

    from drills.progress import drill_progress

    started = time.monotonic()
    with Live(console=console(), refresh_per_second=4) as live:
        while True:
            progress = drill_progress(drill_id)
            live.update(_progress_table(progress))
            if progress.state != "running" or (timeout is not None and time.monotonic() - started >= timeout):
                break
            time.sleep(interval)
    _print(drill_id)


report_cli.register(drill_app)
import_cli.register(drill_app)
