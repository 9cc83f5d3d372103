"""Tables of the situational picture: observations, decided levels, reactions, status reports and snapshots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from alueturva.db import Base, utcnow

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT for the large observation table.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Observation(Base):
    """One value of one indicator in one area at one moment. Append-only.

    An exercise's observation carries its ``drill_id``: it is part of that drill's exercise picture only, never of the
    real one.
    """

    __tablename__ = "observations"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index("ix_observations_series", "indicator_key", "area_key", "observed_at"),
        Index("ix_observations_observed_at", "observed_at"),
        Index("ix_observations_drill", "drill_id", "indicator_key", "area_key", "observed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    indicator_key: Mapped[str] = mapped_column(String(60))
    area_key: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)
    observed_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(120))
    source_id: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    reported_by: Mapped[str] = mapped_column(String(120))
    drill_id: Mapped[int | None] = mapped_column(Integer)


class LatestObservation(Base):
    """The newest observation of each (indicator, area) series, kept up to date on insert.

    The picture reads these few hundred rows instead of searching millions of observations.
    """

    __tablename__ = "latest_observations"

    indicator_key: Mapped[str] = mapped_column(String(60), primary_key=True)
    area_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    observed_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(120))


class ReadinessDecision(Base):
    """A person's decision of an area's readiness level, with the reason and what was recommended then.

    A decision made in a drill carries its ``drill_id``: an exercise decision, which never changes the real level.
    """

    __tablename__ = "readiness_decisions"
    __table_args__ = (
        Index("ix_readiness_decisions_area", "area_key", "decided_at"),
        Index("ix_readiness_decisions_drill", "drill_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_key: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(30))
    previous_level: Mapped[str] = mapped_column(String(30))
    recommended_level: Mapped[str | None] = mapped_column(String(30))  # None: no data to recommend from
    reason: Mapped[str] = mapped_column(String(2000))
    decided_by: Mapped[str] = mapped_column(String(120))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    drill_id: Mapped[int | None] = mapped_column(Integer)


class Reaction(Base):
    """What a decision set in motion (e.g. alert these groups). Handled by handlers the application registers.

    A reaction stays ``pending`` until every handler has succeeded; a failed attempt is retried by a periodic task.
    """

    __tablename__ = "readiness_reactions"
    __table_args__ = (Index("ix_readiness_reactions_status", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("readiness_decisions.id", ondelete="RESTRICT"), index=True)
    rule_key: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # what the handlers did, e.g. the alert they sent
    claimed_until: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]


class StatusReport(Base):
    """A municipality's own report: management group convened, staff availability, key services running."""

    __tablename__ = "municipality_status_reports"
    __table_args__ = (Index("ix_municipality_status_reports_area", "area_key", "reported_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_key: Mapped[str] = mapped_column(String(40))
    management_group_convened: Mapped[bool] = mapped_column(Boolean)
    staff_availability_percent: Mapped[int] = mapped_column(Integer)
    key_services_running: Mapped[bool] = mapped_column(Boolean)
    services_note: Mapped[str | None] = mapped_column(String(2000))
    reporter_name: Mapped[str | None] = mapped_column(String(200))
    reported_by: Mapped[str] = mapped_column(String(120))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecommendationChange(Base):
    """The recommended level of an area changed (history of the recommendation)."""

    __tablename__ = "recommendation_changes"
    __table_args__ = (Index("ix_recommendation_changes_area", "area_key", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_key: Mapped[str] = mapped_column(String(40))
    level: Mapped[str | None] = mapped_column(String(30))  # None: no indicator of the area has a fresh value
    previous_level: Mapped[str | None] = mapped_column(String(30))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class Snapshot(Base):
    """The whole picture frozen at a moment (exercise reports use it)."""

    __tablename__ = "situation_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    taken_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    taken_by: Mapped[str] = mapped_column(String(120))
    picture: Mapped[dict[str, Any]] = mapped_column(JSON)
    drill_id: Mapped[int | None] = mapped_column(Integer, index=True)  # a drill's exercise picture
