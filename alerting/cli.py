"""`alueturva alert …`: send an alert, show it, its recipients, cancel it, and watch acknowledgements arrive.

Heavy imports happen inside the commands, so that `--help` answers at once. Times are Finnish time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import typer

from contacts.areas import AREAS

if TYPE_CHECKING:
    from rich.console import Console

    from alerting.schemas import AlertRead

alert_app = typer.Typer(help="Alerts: send, show, cancel and watch acknowledgements.", no_args_is_help=True)

EXIT_NOT_ALL_ACKNOWLEDGED = 2
SILENT_SHOWN = 50


def _console() -> Console:
    from rich.console import Console

    return Console()


def _time(moment: object) -> str:
    from datetime import datetime

    from alueturva.i18n import format_time

    return format_time(moment, "en") if isinstance(moment, datetime) else "-"


def _print_status(console: Console, status: AlertRead, *, silent_limit: int = SILENT_SHOWN) -> None:
    from rich.table import Table

    from alerting import service
    from alueturva.db import get_database

    exercise = " [black on yellow] HARJOITUS / ÖVNING / EXERCISE [/]" if status.exercise else ""
    console.print(f"[bold]alert {status.id}[/bold]: {status.title}{exercise}")
    console.print(
        f"status {status.status}, code {status.short_code}, languages {', '.join(status.texts)}, "
        f"sent {_time(status.created_at)}, closes {_time(status.closes_at)} (Finnish time)"
    )
    if status.cancel_reason:
        console.print(f"cancelled {_time(status.cancelled_at)}: {status.cancel_reason}")
    table = Table("organisation", "targeted", "sent", "delivered", "failed", "acknowledged")
    for row in status.by_organisation:
        table.add_row(
            row.organisation, *(str(v) for v in (row.targeted, row.sent, row.delivered, row.failed, row.acknowledged))
        )
    c = status.counts
    table.add_row("[bold]total[/bold]", *(str(v) for v in (c.targeted, c.sent, c.delivered, c.failed, c.acknowledged)))
    console.print(table)
    if status.answers:
        console.print("poll: " + ", ".join(f"{a.option} = {a.text}: {a.count}" for a in status.answers))
    for event in status.events:
        console.print(f"  {_time(event.at)} {event.kind} {event.details if event.details else ''}")
    with get_database().session() as session:
        silent, silent_total = service.silent_recipients(session, alert_id=status.id, limit=silent_limit)
    if silent:
        more = f" (the first {silent_limit} of {silent_total})" if silent_total > silent_limit else ""
        listing = Table("recipient", "person", "name", "organisation", "mobile", title=f"still silent{more}")
        for person in silent:
            listing.add_row(
                str(person.recipient_id), str(person.person_id), person.name, person.organisation, person.mobile or "-"
            )
        console.print(listing)


@alert_app.command("send")
def send(
    title: Annotated[str, typer.Argument(metavar="TITLE", help="Short title in Finnish (also the email subject)")],
    message: Annotated[str, typer.Argument(metavar="MESSAGE", help="The alert text in Finnish")],
    title_sv: Annotated[str | None, typer.Option("--title-sv", metavar="TEXT", help="The title in Swedish")] = None,
    message_sv: Annotated[str | None, typer.Option("--message-sv", metavar="TEXT", help="The text in Swedish")] = None,
    title_en: Annotated[str | None, typer.Option("--title-en", metavar="TEXT", help="The title in English")] = None,
    message_en: Annotated[str | None, typer.Option("--message-en", metavar="TEXT", help="The text in English")] = None,
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
        list[str] | None,
        typer.Option("--response-option", metavar="TEXT", help="Poll answer in Finnish, in order (repeatable)"),
    ] = None,
    response_option_sv: Annotated[
        list[str] | None,
        typer.Option("--response-option-sv", metavar="TEXT", help="The same answers in Swedish, in order"),
    ] = None,
    response_option_en: Annotated[
        list[str] | None,
        typer.Option("--response-option-en", metavar="TEXT", help="The same answers in English, in order"),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option("--idempotency-key", metavar="KEY", help="Repeating the command with it sends nothing again"),
    ] = None,
    notify_email: Annotated[
        str | None, typer.Option("--notify-email", metavar="EMAIL", help="Told who is still silent")
    ] = None,
) -> None:
    """Send an alert to groups, roles, organisations, areas or people, in Finnish and optionally Swedish and
    English (give every text in the same languages)."""
    from pydantic import ValidationError

    from alerting import flows
    from alerting.schemas import AlertCreate, localized, localized_options
    from alueturva.auth.service import cli_principal
    from alueturva.errors import Invalid
    from alueturva.queue import InProcessQueue, get_queue

    try:
        request = AlertCreate.model_validate(
            {
                "title": localized(title, title_sv, title_en),
                "message": localized(message, message_sv, message_en),
                "targets": {
                    "groups": group or [],
                    "roles": role or [],
                    "organisations": organisation or [],
                    "areas": area or [],
                    "people": person or [],
                },
                "channels": channel or None,
                "exercise": exercise,
                "response_options": localized_options(
                    response_option or [], response_option_sv or [], response_option_en or []
                ),
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
    console = _console()
    if not created.created:
        console.print(f"alert {created.alert_id} already exists with this idempotency key; nothing was sent again")
    _print_status(console, flows.alert_status(created.alert_id))


@alert_app.command("show")
def show(alert_id: Annotated[int, typer.Argument(metavar="ALERT", help="Alert id")]) -> None:
    """Status and counts of an alert, per organisation, the poll's answers, its escalation events and who is
    still silent."""
    from alerting import flows

    _print_status(_console(), flows.alert_status(alert_id))


@alert_app.command("recipients")
def recipients(
    alert_id: Annotated[int, typer.Argument(metavar="ALERT", help="Alert id")],
    silent: Annotated[bool, typer.Option("--silent", help="Only those who have not acknowledged")] = False,
) -> None:
    """Every recipient: recipient and person id, name, organisation, what was sent, the acknowledgement and the
    answer."""
    from rich.table import Table
    from sqlalchemy import select

    from alerting import service
    from alueturva.db import get_database
    from contacts.models import Organisation

    table = Table("recipient", "person", "name", "organisation", "lang", "deliveries", "acknowledged", "answer")
    with get_database().session() as session:
        alert = service.get_alert(session, alert_id=alert_id)
        rows, _ = service.list_recipients(session, alert_id=alert_id, limit=100_000)
        organisations = dict(session.execute(select(Organisation.id, Organisation.short_name)).all())
        for recipient, name, deliveries in rows:
            organisation = organisations.get(recipient.organisation_id, str(recipient.organisation_id))
            if silent and recipient.acknowledged_at is not None:
                continue
            sent = ", ".join(f"{d.channel.value} {d.kind.value} {d.state.value}" for d in deliveries) or "-"
            acknowledged = (
                f"{_time(recipient.acknowledged_at)} {recipient.ack_method.value if recipient.ack_method else ''}"
                + (" (late)" if recipient.ack_late else "")
                if recipient.acknowledged_at
                else "-"
            )
            answer = (
                f"{recipient.response} = {alert.response_options[recipient.response - 1]}"
                if recipient.response
                else "-"
            )
            table.add_row(
                str(recipient.id),
                str(recipient.person_id),
                name,
                organisation,
                recipient.language,
                sent,
                acknowledged,
                answer,
            )
    _console().print(table)


@alert_app.command("cancel")
def cancel(
    alert_id: Annotated[int, typer.Argument(metavar="ALERT", help="Alert id")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept on the alert and in the audit log)")],
) -> None:
    """Cancel an alert: escalation and unsent messages stop, everyone already reached gets a cancellation notice."""
    from alerting import flows
    from alueturva.auth.service import cli_principal
    from alueturva.errors import Invalid
    from alueturva.queue import InProcessQueue, get_queue

    if not reason.strip() or len(reason) > 500:
        raise Invalid("--reason must be 1 to 500 characters")
    notices = flows.cancel_alert(alert_id=alert_id, actor=cli_principal().actor, reason=reason.strip())
    queue = get_queue()
    if isinstance(queue, InProcessQueue):
        queue.join(timeout=300)
    _console().print(f"alert {alert_id} is cancelled; {notices} cancellation notice(s) sent")


@alert_app.command("link")
def link(
    alert_id: Annotated[int, typer.Argument(metavar="ALERT", help="Alert id")],
    recipient_id: Annotated[
        int, typer.Argument(metavar="RECIPIENT", help="Recipient id (see `alueturva alert recipients ALERT`)")
    ],
) -> None:
    """Print a recipient's acknowledgement link (to pass on by other means, or to try the page out)."""
    from alerting import service
    from alerting.tokens import ack_url
    from alueturva.db import get_database

    with get_database().session() as session:
        print(ack_url(service.get_recipient(session, alert_id=alert_id, recipient_id=recipient_id)))


@alert_app.command("ack")
def acknowledge(
    alert_id: Annotated[int, typer.Argument(metavar="ALERT", help="Alert id")],
    recipient_id: Annotated[int, typer.Argument(metavar="RECIPIENT", help="Recipient id")],
    response: Annotated[int | None, typer.Option(min=1, max=9, metavar="N", help="The chosen response option")] = None,
    note: Annotated[str | None, typer.Option(metavar="TEXT", help="How they answered, e.g. 'by phone'")] = None,
) -> None:
    """Acknowledge on someone's behalf (they phoned in); recorded with who ran the command."""
    from alerting import flows
    from alueturva.auth.service import cli_principal

    outcome = flows.acknowledge_on_behalf(
        alert_id=alert_id, recipient_id=recipient_id, actor=cli_principal().actor, response=response, note=note
    )
    _console().print(
        "already acknowledged" if outcome.already else "acknowledged" + (" (late)" if outcome.late else "")
    )


def _finished(status: AlertRead) -> Literal["all", "ended"] | None:
    if status.counts.targeted and status.counts.acknowledged >= status.counts.targeted:
        return "all"
    if status.status != "open":
        return "ended"
    return None


@alert_app.command("watch")
def watch(
    alert_id: Annotated[int, typer.Argument(metavar="ALERT", help="Alert id")],
    interval: Annotated[float, typer.Option(min=0.05, metavar="SECONDS", help="Seconds between refreshes")] = 1.0,
    timeout: Annotated[float | None, typer.Option(min=0, metavar="SECONDS", help="Stop after this long")] = None,
) -> None:
    """Live progress (sent, acknowledged, each poll answer) until everyone has acknowledged or the alert closes;
    then who is still silent (exit 2 if anyone)."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from alerting import flows

    console = _console()
    status = flows.alert_status(alert_id)
    started = time.monotonic()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        sent = progress.add_task("sent", total=status.counts.targeted)
        acked = progress.add_task("acknowledged", total=status.counts.targeted)
        answers = {
            answer.option: progress.add_task(f"  {answer.option} = {answer.text}", total=status.counts.targeted)
            for answer in status.answers
        }
        while True:
            total = status.counts.targeted
            progress.update(sent, completed=status.counts.sent, total=total)
            progress.update(acked, completed=status.counts.acknowledged, total=total)
            for answer in status.answers:
                progress.update(answers[answer.option], completed=answer.count, total=total)
            outcome = _finished(status)
            if outcome is not None or (timeout is not None and time.monotonic() - started >= timeout):
                break
            time.sleep(interval)
            status = flows.alert_status(alert_id)
    _print_status(console, status)
    if _finished(status) != "all":
        silent = status.counts.targeted - status.counts.acknowledged
        console.print(f"[yellow]{silent} of {status.counts.targeted} have not acknowledged[/yellow]")
        raise typer.Exit(EXIT_NOT_ALL_ACKNOWLEDGED)
    console.print(f"[green]all {status.counts.targeted} acknowledged[/green]")
