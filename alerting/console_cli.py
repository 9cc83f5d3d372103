"""`alueturva outbox` and `alueturva sms reply`: the embedded default's stand-ins for a phone. The outbox shows what
the console backends "sent"; a reply goes through the same inbound path as a Twilio webhook (the reply parser,
recording and audit), its signature check passed by construction."""

from __future__ import annotations

from typing import Annotated

import typer

outbox_app = typer.Typer(help="The demo outbox: what the console backends sent (SMS and email).")
sms_app = typer.Typer(no_args_is_help=True)


@sms_app.callback()
def sms() -> None:
    """SMS in the embedded default: answer an alert as a phone would."""


@outbox_app.callback(invoke_without_command=True)
def outbox(
    to: Annotated[
        str | None, typer.Option("--to", metavar="NUMBER", help="Only messages to this number or address")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, metavar="N", help="How many, newest first")] = 20,
) -> None:
    """The messages the console backends sent, newest first: when (Finnish time), to whom, the text."""
    from rich.console import Console
    from rich.table import Table

    from alerting import demo_outbox as kept
    from alueturva.db import get_database
    from alueturva.i18n import format_time

    table = Table("id", "sent", "channel", "to", "message", show_lines=True)
    with get_database().session() as session:
        rows, total = kept.list_messages(session, to=_number(to) if to else None, limit=limit)
        for row in rows:
            text = f"[bold]{row.subject}[/bold]\n{row.body}" if row.subject else row.body
            table.add_row(str(row.id), format_time(row.sent_at, "en"), row.channel.value, row.to, text)
    console = Console()
    console.print(table, markup=True)
    console.print(f"{len(rows)} of {total} (times are Finnish time)")


def _number(value: str) -> str:
    """A mobile number as stored (E.164); an email address or anything else as given."""
    if "@" in value:
        return value.strip()
    from contacts.validation import normalise_mobile

    try:
        return normalise_mobile(value)
    except ValueError:
        return value.strip()


@sms_app.command("reply")
def reply(
    body: Annotated[str, typer.Argument(metavar="TEXT", help='What the person answers, e.g. "ok 4821" or "1 4821"')],
    sender: Annotated[str, typer.Option("--from", metavar="NUMBER", help="The replying mobile number")],
) -> None:
    """Reply to an alert by SMS from a roster member's number, as Twilio would deliver it (embedded default
    only): acknowledges or answers the poll, is recorded and audited, and prints the answer the phone gets."""
    import uuid

    from alerting import demo_outbox as kept
    from alerting.channels import InboundSms
    from alerting.inbound import handle_inbound_sms
    from alerting.models import Channel
    from alueturva.errors import Invalid
    from alueturva.settings import get_settings

    if get_settings().sms_backend != "console":
        raise Invalid(
            "`sms reply` stands in for a phone in the embedded default (ALUETURVA_SMS_BACKEND=console); "
            "with Twilio, replies come through its webhook"
        )
    message = InboundSms(provider_id=f"console-{uuid.uuid4().hex}", sender=sender, body=body)
    result = handle_inbound_sms(message=message)
    kept.keep(channel=Channel.sms, to=_number(sender), body=result.reply, reference=f"reply:{result.outcome}")
    print(f"{result.outcome}: {result.reply}")
