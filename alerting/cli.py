"""`alueturva alert …`: send an alert, show it, and watch acknowledgements arrive."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from alerting import flows, service
from alerting.schemas import AlertCreate, AlertRead
from alerting.tokens import ack_url
from alueturva.auth.service import cli_principal
from alueturva.db import get_database
from alueturva.errors import Invalid
from alueturva.queue import InProcessQueue, get_queue
from contacts import service as contacts
from contacts.areas import AREAS
from contacts.models import Group, Organisation

alert_app = typer.Typer(help="Alerts: send, show and watch acknowledgements.", no_args_is_help=True)
console = Console()

EXIT_NOT_ALL_ACKNOWLEDGED = 2


def _ids(references: list[str], *, find: Callable[..., Group | Organisation | None], option: str) -> list[int]:
    """The ids of the groups or organisations that ``--option`` values name; a name that matches none is refused."""
    with get_database().session() as session:
        ids = []
        for reference in references:
            found = find(session, reference=reference)
            if found is None:
                raise Invalid(f"{option} {reference!r}: nothing by that id, key or name")
            ids.append(found.id)
        return ids


def _print_status(status: AlertRead) -> None:
    exercise = " [black on yellow] HARJOITUS / ÖVNING / EXERCISE [/]" if status.exercise else ""
    console.print(f"[bold]alert {status.id}[/bold]: {status.title}{exercise}")
    console.print(f"status {status.status}, code {status.short_code}, closes {status.closes_at:%Y-%m-%d %H:%M} UTC")
    table = Table("organisation", "targeted", "sent", "delivered", "failed", "acknowledged")
    for row in status.by_organisation:
        table.add_row(
            row.organisation, *(str(v) for v in (row.targeted, row.sent, row.delivered, row.failed, row.acknowledged))
        )
    c = status.counts
    table.add_row("[bold]total[/bold]", *(str(v) for v in (c.targeted, c.sent, c.delivered, c.failed, c.acknowledged)))
    console.print(table)
    for event in status.events:
        console.print(f"  {event.at:%H:%M:%S} {event.kind} {event.details if event.details else ''}")


@alert_app.command("send")
def send(
    title: Annotated[str, typer.Argument(help="Short title (also the email subject)")],
    message: Annotated[str, typer.Argument(help="The alert text")],
    group: Annotated[list[str] | None, typer.Option("--group", help="Group id, key or name (repeatable)")] = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="Role key, e.g. preparedness_contact")] = None,
    organisation: Annotated[
        list[str] | None, typer.Option("--organisation", help="Organisation id, key, name or business id")
    ] = None,
    area: Annotated[list[str] | None, typer.Option("--area", help=", ".join(AREAS) + " (repeatable)")] = None,
    person: Annotated[list[int] | None, typer.Option("--person", help="Person id (repeatable)")] = None,
    channel: Annotated[
        list[str] | None, typer.Option("--channel", help="sms or email (repeatable; default from config)")
    ] = None,
    exercise: Annotated[bool, typer.Option("--exercise", help="A drill: every message says so")] = False,
    response_option: Annotated[
        list[str] | None, typer.Option("--response-option", help="Poll answer, in order (repeatable)")
    ] = None,
    idempotency_key: Annotated[
        str | None, typer.Option("--idempotency-key", help="Repeating the command with it sends nothing again")
    ] = None,
    notify_email: Annotated[str | None, typer.Option("--notify-email", help="Told who is still silent")] = None,
) -> None:
    """Send an alert to groups, roles, organisations, areas or people."""
    from pydantic import ValidationError

    try:
        request = AlertCreate.model_validate(
            {
                "title": title,
                "message": message,
                "targets": {
                    "groups": _ids(group or [], find=contacts.find_group, option="--group"),
                    "roles": role or [],
                    "organisations": _ids(organisation or [], find=contacts.find_organisation, option="--organisation"),
                    "areas": area or [],
                    "people": person or [],
                },
                "channels": channel or None,
                "exercise": exercise,
                "response_options": response_option or [],
                "idempotency_key": idempotency_key,
                "notify_email": notify_email,
            }
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise Invalid(problems) from exc
    created = flows.create_alert(request, actor=cli_principal().actor)
    queue = get_queue()
    if isinstance(queue, InProcessQueue):
        queue.join(timeout=300)  # no worker process in the embedded default: send before exiting
    if not created.created:
        console.print(f"alert {created.alert_id} already exists with this idempotency key; nothing was sent again")
    _print_status(flows.alert_status(created.alert_id))


@alert_app.command("show")
def show(alert_id: Annotated[int, typer.Argument(help="Alert id")]) -> None:
    """Status and counts of an alert, per organisation, with its escalation events."""
    _print_status(flows.alert_status(alert_id))


@alert_app.command("link")
def link(
    alert_id: Annotated[int, typer.Argument(help="Alert id")],
    recipient_id: Annotated[int, typer.Argument(help="Recipient id (see GET /api/v1/alerts/ID/recipients)")],
) -> None:
    """Print a recipient's acknowledgement link (to pass on by other means, or to try the page out)."""
    with get_database().session() as session:
        print(ack_url(service.get_recipient(session, alert_id=alert_id, recipient_id=recipient_id)))


@alert_app.command("ack")
def acknowledge(
    alert_id: Annotated[int, typer.Argument(help="Alert id")],
    recipient_id: Annotated[int, typer.Argument(help="Recipient id")],
    response: Annotated[int | None, typer.Option(min=1, max=9, help="The chosen response option")] = None,
    note: Annotated[str | None, typer.Option(help="How they answered, e.g. 'by phone'")] = None,
) -> None:
    """Acknowledge on someone's behalf (they phoned in); recorded with who ran the command."""
    outcome = flows.acknowledge_on_behalf(
        alert_id=alert_id, recipient_id=recipient_id, actor=cli_principal().actor, response=response, note=note
    )
    console.print("already acknowledged" if outcome.already else "acknowledged" + (" (late)" if outcome.late else ""))


def _finished(status: AlertRead) -> Literal["all", "ended"] | None:
    if status.counts.targeted and status.counts.acknowledged >= status.counts.targeted:
        return "all"
    if status.status != "open":
        return "ended"
    return None


@alert_app.command("watch")
def watch(
    alert_id: Annotated[int, typer.Argument(help="Alert id")],
    interval: Annotated[float, typer.Option(min=0.05, help="Seconds between refreshes")] = 1.0,
    timeout: Annotated[float | None, typer.Option(min=0, help="Stop after this many seconds")] = None,
) -> None:
    """A live progress bar until everyone has acknowledged or the alert closes (exit 2 if some stayed silent)."""
    status = flows.alert_status(alert_id)
    started = time.monotonic()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        sent = progress.add_task("sent", total=status.counts.targeted)
        acked = progress.add_task("acknowledged", total=status.counts.targeted)
        while True:
            progress.update(sent, completed=status.counts.sent, total=status.counts.targeted)
            progress.update(acked, completed=status.counts.acknowledged, total=status.counts.targeted)
            outcome = _finished(status)
            if outcome is not None or (timeout is not None and time.monotonic() - started >= timeout):
                break
            time.sleep(interval)
            status = flows.alert_status(alert_id)
    _print_status(status)
    if _finished(status) != "all":
        silent = status.counts.targeted - status.counts.acknowledged
        console.print(f"[yellow]{silent} of {status.counts.targeted} have not acknowledged[/yellow]")
        raise typer.Exit(EXIT_NOT_ALL_ACKNOWLEDGED)
    console.print(f"[green]all {status.counts.targeted} acknowledged[/green]")
