"""Action card tables: a card (a risk or scenario at a raised readiness level, or a drill kind, for the region, an
area or one municipality) with its ordered tasks, and the municipalities' reviews of their cards and of their
management group's composition."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from alueturva.db import Base, utcnow


class TaskTarget(enum.StrEnum):
    affected = "affected"  # the role's holders in the organisations of the activated area
    county = "county"  # the role's holders in the wellbeing services county (and its rescue department)


class ReviewSubject(enum.StrEnum):
    action_cards = "action_cards"  # the municipality checked its action cards
    management_group = "management_group"  # the municipality checked its management group's composition


class ActionCard(Base):
    __tablename__ = "action_cards"
    __table_args__ = (Index("ix_action_cards_level_area", "level", "area"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    card_set: Mapped[str] = mapped_column(String(80), index=True)  # the YAML file it is imported from and exported to
    scenario: Mapped[str] = mapped_column(String(60))  # the risk of the regional risk assessment, as a key
    title: Mapped[dict[str, str]] = mapped_column(JSON)  # {"fi", "sv", "en"?}
    # When it applies: a raised readiness level (a level key of config/readiness.yaml) or a drill kind.
    level: Mapped[str | None] = mapped_column(String(40))
    drill_kind: Mapped[str | None] = mapped_column(String(30))
    # Where it applies: "region", a management area or a municipality's key (the picture's area keys).
    area: Mapped[str] = mapped_column(String(60))
    # The picture's indicators of its risk: a decision activates the card when one of them stands at the decided
    # level in the area; none: the card applies to every raise to its level.
    indicators: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120))

    tasks: Mapped[list[ActionCardTask]] = relationship(
        back_populates="card", cascade="all, delete-orphan", order_by="ActionCardTask.position"
    )


class ActionCardTask(Base):
    __tablename__ = "action_card_tasks"
    __table_args__ = (UniqueConstraint("card_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("action_cards.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, … ("T1", "T2" in a message)
    text: Mapped[dict[str, str]] = mapped_column(JSON)
    role: Mapped[str] = mapped_column(String(60))  # a role key of config/roles.yaml
    target: Mapped[TaskTarget] = mapped_column(Enum(TaskTarget, native_enum=False, length=20))
    due_minutes: Mapped[int] = mapped_column(Integer)  # after activation
    check: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # what the holder checks before marking it done

    card: Mapped[ActionCard] = relationship(back_populates="tasks")


class Review(Base):
    """A municipality's review of its action cards or of its management group's composition: who, when, a comment."""

    __tablename__ = "action_card_reviews"
    __table_args__ = (Index("ix_action_card_reviews_organisation", "organisation_id", "subject", "reviewed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    subject: Mapped[ReviewSubject] = mapped_column(Enum(ReviewSubject, native_enum=False, length=30))
    reviewed_by: Mapped[str] = mapped_column(String(200))  # the person who reviewed, as named
    reviewed_at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(String(2000), default="")
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActivationState(enum.StrEnum):
    active = "active"
    closed = "closed"


class TaskState(enum.StrEnum):
    open = "open"
    done = "done"
    cannot = "cannot"  # the holder cannot do it (a comment says why)
    cancelled = "cancelled"  # the activation closed while the task was open


class TaskStep(enum.StrEnum):
    """An open task's next timer step (a row with a due time, like an alert's escalation: a restart loses none)."""

    remind = "remind"  # at the due time: remind the holder once
    hand_over = "hand_over"  # then: hand the task to the holder's deputy
    overdue = "overdue"  # then: shown as overdue (nothing more is sent)


class Activation(Base):
    """A card in use for one area: by a readiness decision (real, or in a drill), or by an operator."""

    __tablename__ = "action_card_activations"
    __table_args__ = (Index("ix_action_card_activations_state_area", "state", "area"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Makes activating idempotent: "decision-{decision id}-card-{card id}", or the operator's request key.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("action_cards.id", ondelete="RESTRICT"), index=True)
    card_version: Mapped[int] = mapped_column(Integer)
    area: Mapped[str] = mapped_column(String(60))
    level: Mapped[str | None] = mapped_column(String(40))
    drill_id: Mapped[int | None] = mapped_column(ForeignKey("drills.id", ondelete="RESTRICT"), index=True)
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("readiness_decisions.id", ondelete="RESTRICT"))
    state: Mapped[ActivationState] = mapped_column(Enum(ActivationState, native_enum=False, length=20))
    activated_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_by: Mapped[str] = mapped_column(String(120))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(120))
    close_reason: Mapped[str | None] = mapped_column(String(500))

    card: Mapped[ActionCard] = relationship()
    tasks: Mapped[list[ActivatedTask]] = relationship(
        back_populates="activation", order_by="(ActivatedTask.position, ActivatedTask.id)"
    )


class ActivatedTask(Base):
    """One card task for one person (or, when nobody holds the role there, for the organisation: a gap to see)."""

    __tablename__ = "action_card_activated_tasks"
    __table_args__ = (Index("ix_action_card_activated_tasks_step", "next_step_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activation_id: Mapped[int] = mapped_column(ForeignKey("action_card_activations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # the card task's number: T1, T2, …
    text: Mapped[dict[str, str]] = mapped_column(JSON)
    check: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    role: Mapped[str] = mapped_column(String(60))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    handed_over_from_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    due_at: Mapped[datetime]
    state: Mapped[TaskState] = mapped_column(Enum(TaskState, native_enum=False, length=20))
    done_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(String(1000))
    marked_by: Mapped[str | None] = mapped_column(String(120))
    next_step: Mapped[TaskStep | None] = mapped_column(Enum(TaskStep, native_enum=False, length=20))
    next_step_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    handed_over_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]

    activation: Mapped[Activation] = relationship(back_populates="tasks")


class MessageKind(enum.StrEnum):
    tasks = "tasks"  # the activation's tasks for one person
    cancelled = "cancelled"  # the activation closed: their open tasks are cancelled
    reminder = "reminder"  # a task is due and still open
    handed_over = "handed_over"  # a task passed to the deputy


class ActivationMessage(Base):
    """A message to one person about an activation: written with the change (an outbox), then sent as a one-person
    alert through the alerting domain under ``key``; the link in it is signed with ``link_nonce``."""

    __tablename__ = "action_card_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    activation_id: Mapped[int] = mapped_column(ForeignKey("action_card_activations.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    kind: Mapped[MessageKind] = mapped_column(Enum(MessageKind, native_enum=False, length=20))
    task_ids: Mapped[list[int]] = mapped_column(JSON)
    link_nonce: Mapped[str] = mapped_column(String(64))
    alert_id: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
