"""Alert tables. The database is the source of truth: every delivery and every escalation timer is a row."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from alueturva.db import Base, utcnow


class AlertStatus(enum.StrEnum):
    open = "open"
    closed = "closed"
    cancelled = "cancelled"


class Channel(enum.StrEnum):
    sms = "sms"
    email = "email"
    voice = "voice"  # a phone call to the mobile number that speaks the alert; a key press acknowledges


# The channels whose provider reports whether a message was delivered (an SMS provider's status callbacks, the demo
# outbox's receipts) or a call answered (Twilio's call status: "delivered" is a person answering, and nothing else;
# a console call has only what `alueturva call answer` or `call unanswered` reports). Email through SMTP gives no
# receipt: a message handed to the mail server is "sent", never "delivered", and figures say "no receipt" for it
# rather than 0 % or 100 %.
RECEIPT_CHANNELS = frozenset({Channel.sms.value, Channel.voice.value})


class DeliveryKind(enum.StrEnum):
    alert = "alert"
    reminder = "reminder"
    cancel = "cancel"


class DeliveryState(enum.StrEnum):
    """``queued < sending < sent < delivered``; ``undelivered``, ``failed`` and ``cancelled`` are final."""

    queued = "queued"
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    undelivered = "undelivered"
    failed = "failed"
    cancelled = "cancelled"


class AckMethod(enum.StrEnum):
    sms = "sms"
    link = "link"
    operator = "operator"
    voice = "voice"  # a key pressed during a call


class TimerKind(enum.StrEnum):
    resend = "resend"
    deputy = "deputy"
    notify_operator = "notify_operator"
    call = "call"  # call the silent (all of them, or the members of ``group_id``)
    close = "close"


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The Finnish text; the other languages' texts are in ``translations`` (alerting.messages.alert_content).
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(String(2000))
    # {"sv": {"title": …, "message": …, "response_options": […]}, "en": …}: the same fields in other languages.
    translations: Mapped[dict[str, dict[str, object]]] = mapped_column(JSON, default=dict)
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[AlertStatus] = mapped_column(
        Enum(AlertStatus, native_enum=False, length=20), default=AlertStatus.open
    )
    short_code: Mapped[str] = mapped_column(String(8))
    channels: Mapped[list[str]] = mapped_column(JSON)
    targets: Mapped[dict[str, list[object]]] = mapped_column(JSON)
    response_options: Mapped[list[str]] = mapped_column(JSON, default=list)
    escalation: Mapped[dict[str, object]] = mapped_column(JSON)
    notify_email: Mapped[str | None] = mapped_column(String(254))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    closes_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(120))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # A large alert commits its first batch of recipients with the alert; the rest of the people its targets named
    # are ``audience[audience_done:]``, made recipients a chunk per transaction (alerting.audience).
    # ``audience_progress_at`` is when the last chunk was committed: NULL once everyone is a recipient.
    audience: Mapped[list[int] | None] = mapped_column(JSON(none_as_null=True))
    audience_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    audience_progress_at: Mapped[datetime | None]

    recipients: Mapped[list[Recipient]] = relationship(back_populates="alert", passive_deletes=True)


class Recipient(Base):
    """One person targeted by one alert (each person once), with their acknowledgement."""

    __tablename__ = "alert_recipients"
    __table_args__ = (UniqueConstraint("alert_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # looked up by alert through the unique (alert_id, person_id) index
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    language: Mapped[str] = mapped_column(String(2))
    # random, carried by the recipient's acknowledgement link: the secret key alone cannot sign a valid link
    link_nonce: Mapped[str] = mapped_column(String(32))
    deputy_for_id: Mapped[int | None] = mapped_column(ForeignKey("alert_recipients.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    ack_method: Mapped[AckMethod | None] = mapped_column(Enum(AckMethod, native_enum=False, length=20))
    ack_by: Mapped[str | None] = mapped_column(String(120))
    ack_late: Mapped[bool] = mapped_column(Boolean, default=False)
    response: Mapped[int | None] = mapped_column(Integer)

    alert: Mapped[Alert] = relationship(back_populates="recipients")
    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="recipient", order_by="Delivery.id", passive_deletes=True
    )


class Delivery(Base):
    """One message to one recipient over one channel; ``round`` 0 is the alert, 1.. reminders, -1 the cancellation."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("recipient_id", "channel", "round"),
        Index("ix_deliveries_state_enqueued_at", "state", "enqueued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    # looked up by recipient through the unique (recipient_id, channel, round) index
    recipient_id: Mapped[int] = mapped_column(ForeignKey("alert_recipients.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(Enum(Channel, native_enum=False, length=10))
    kind: Mapped[DeliveryKind] = mapped_column(Enum(DeliveryKind, native_enum=False, length=20))
    round: Mapped[int] = mapped_column(Integer, default=0)
    address: Mapped[str] = mapped_column(String(254))
    state: Mapped[DeliveryState] = mapped_column(
        Enum(DeliveryState, native_enum=False, length=20), default=DeliveryState.queued
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    enqueued_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(100), index=True)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(String(500))
    # Calls only: who or what answered (the provider's answering-machine detection: human, machine_start, fax,
    # unknown ...) and how long the call lasted, as the provider reported them.
    answered_by: Mapped[str | None] = mapped_column(String(30))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)

    recipient: Mapped[Recipient] = relationship(back_populates="deliveries")


class EscalationTimer(Base):
    """A step of an alert's escalation policy, due at a time; the sweeper runs it once (``done_at``)."""

    __tablename__ = "escalation_timers"
    __table_args__ = (Index("ix_escalation_timers_due", "done_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TimerKind] = mapped_column(Enum(TimerKind, native_enum=False, length=20))
    round: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    # A call step of one targeted group's policy (``Group.call_after_minutes``): it calls that group's members only.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))


class AlertEvent(Base):
    """Something operators should see on the alert: escalation steps, silent recipients, late acknowledgements."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class InboundMessage(Base):
    """Every inbound SMS, whether it acknowledged something or not (unknown senders, unparseable replies)."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(100), unique=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("alert_recipients.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(String(1600))
    outcome: Mapped[str] = mapped_column(String(40))


class OutboxMessage(Base):
    """What the console backends of the embedded default "sent" (the demo outbox): the text, to whom and when.

    Holds phone numbers, addresses and texts, so only operators and admins read it; the logs keep ids only.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    channel: Mapped[Channel] = mapped_column(Enum(Channel, native_enum=False, length=10))
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(1000))
    body: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(String(120))
