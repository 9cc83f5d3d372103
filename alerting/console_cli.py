"""`alueturva outbox`, `alueturva sms reply` and `alueturva call answer|unanswered`: the embedded default's stand-ins
for a phone. The outbox shows what the console backends "sent" (and what each call says); a reply or an answered
call goes through the same path as a Twilio webhook (the reply parser, the call's states, recording and audit), its
signature check passed by construction."""

from __future__ import annotations

from typing import Annotated

import typer

outbox_app = typer.Typer(help="The demo outbox: what the console backends sent (SMS and email).")
sms_app = typer.Typer(no_args_is_help=True)
call_app = typer.Typer(no_args_is_help=True)


@sms_app.callback()
def sms() -> None:
    """SMS in the embedded default: answer an alert as a phone would."""


@call_app.callback()
def call() -> None:
    """Calls in the embedded default: answer one as a phone would, or let it ring unanswered."""


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


def _console_only(command: str) -> None:
    from alueturva.errors import Invalid
    from alueturva.settings import get_settings

    if get_settings().voice_backend != "console":
        raise Invalid(
            f"`call {command}` stands in for a phone in the embedded default (ALUETURVA_VOICE_BACKEND=console); "
            "with Twilio, calls are answered on real phones"
        )


def _ringing_call(number: str) -> tuple[int, str]:
    """The newest call placed to ``number`` that nobody has answered yet: its delivery and call ids."""
    from sqlalchemy import select

    from alerting.models import Channel, Delivery, DeliveryState
    from alueturva.db import get_database
    from alueturva.errors import NotFound

    with get_database().session() as session:
        row = session.execute(
            select(Delivery.id, Delivery.provider_id)
            .where(
                Delivery.channel == Channel.voice,
                Delivery.address == _number(number),
                Delivery.state == DeliveryState.sent,
                Delivery.provider_id.is_not(None),
            )
            .order_by(Delivery.id.desc())
            .limit(1)
        ).first()
    if row is None:
        raise NotFound(f"no call is ringing at {number}: see `alueturva outbox --to {number}`")
    return row.id, row.provider_id


@call_app.command("answer")
def answer(
    number: Annotated[str, typer.Option("--to", metavar="NUMBER", help="The number the call rings at")],
    digits: Annotated[
        str, typer.Option("--digits", metavar="KEYS", help="Keys pressed, one per prompt, e.g. 1 (none: just listen)")
    ] = "",
    machine: Annotated[bool, typer.Option("--machine", help="An answering machine answers instead")] = False,
    seconds: Annotated[
        int | None, typer.Option("--seconds", min=0, max=3600, help="How long the call lasted (unset: not known)")
    ] = None,
) -> None:
    """Answer the newest call ringing at NUMBER (embedded default only), as a phone would: prints what the call
    says, presses the keys (1 acknowledges; with a poll, the answer's number) and hangs up. Recorded and audited
    like a Twilio call (`voice:person:<id>`)."""
    from alerting import calls
    from alerting.channels import CallEvent
    from alerting.models import DeliveryState

    _console_only("answer")
    delivery_id, call_id = _ringing_call(number)
    answered_by = "machine_end_beep" if machine else "human"

    def event(status: str, *, key: str | None = None, duration: int | None = None) -> CallEvent:
        return CallEvent(
            call_id,
            delivery_id,
            status,
            DeliveryState.delivered,
            answered_by=answered_by,
            machine=machine,
            duration_seconds=duration,
            digits=key,
        )

    print(calls.answered(event=event("in-progress")).spoken())
    for earlier, key in enumerate(digits if not machine else ""):
        print(f"[{key}]")
        print(calls.key_pressed(event=event("in-progress", key=key), wrong_keys=earlier).spoken())
    calls.apply_call_status(event=event("completed", duration=seconds))


@call_app.command("unanswered")
def unanswered(
    number: Annotated[str, typer.Option("--to", metavar="NUMBER", help="The number the call rings at")],
    busy: Annotated[bool, typer.Option("--busy", help="The line is busy instead")] = False,
) -> None:
    """Let the newest call ringing at NUMBER go unanswered (embedded default only): recorded as Twilio reports it,
    "no-answer" (or "busy"); the person stays silent and escalation goes on."""
    from alerting import calls
    from alerting.channels import CallEvent
    from alerting.models import DeliveryState

    _console_only("unanswered")
    delivery_id, call_id = _ringing_call(number)
    status = "busy" if busy else "no-answer"
    calls.apply_call_status(event=CallEvent(call_id, delivery_id, status, DeliveryState.undelivered))
    print(f"{status}: delivery {delivery_id}")
