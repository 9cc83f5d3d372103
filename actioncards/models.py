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
