"""Drill tables: the drill (one run), its objectives, phases, evaluator observations and the alerts it sends; and
for an exercise run elsewhere, the log it was imported from.

A recurring drill (a cron schedule) is a plan: each occurrence becomes a drill of its own (``series_id``,
``occurrence_at``), made exactly once thanks to their unique pair, so that every run has its own figures and report.

An imported drill's truth is its log's events (``ImportedEvent``, one per distinct row of the files imported into
it). Its recipients and messages (``ImportedRecipient``, ``ImportedMessage``) are derived from the events, in the
shapes the alerting domain's recipients and deliveries have, so that objectives and the report measure both kinds of
drill alike (``drills.measures``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Enum, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from alueturva.db import Base, utcnow


class DrillKind(enum.StrEnum):
    communication_test = "communication_test"  # yhteyskoe
    management_group_test = "management_group_test"  # johtoryhmien hälytysharjoitus
    external_system_test = "external_system_test"  # e.g. the emergency centres' Erica
    exercise = "exercise"  # valmiusharjoitus, in phases


class DrillState(enum.StrEnum):
    planned = "planned"
    running = "running"
    ended = "ended"
    cancelled = "cancelled"
    missed = "missed"  # its scheduled start passed while no scheduler ran, beyond the grace time


class DrillAlertPurpose(enum.StrEnum):
    alert = "alert"  # the drill's (or a phase's) alert
    reach_question = "reach_question"  # "did you get the external system's test message?"
    reaction = "reaction"  # sent by an exercise readiness decision's reaction rule


class Drill(Base):
    __tablename__ = "drills"
    __table_args__ = (
        UniqueConstraint("series_id", "occurrence_at"),
        Index("ix_drills_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[DrillKind] = mapped_column(Enum(DrillKind, native_enum=False, length=30))
    description: Mapped[str] = mapped_column(String(4000), default="")
    contact: Mapped[str | None] = mapped_column(String(200))  # the drill's point of contact, as people read it
    # name, description (the scenario) and contact above are Finnish; their Swedish and English versions, by field:
    # {"name": {"sv": …, "en": …}, …} (drills.service.drill_text picks a reader's version)
    translations: Mapped[dict[str, dict[str, str]] | None] = mapped_column(JSON)
    state: Mapped[DrillState] = mapped_column(Enum(DrillState, native_enum=False, length=20))
    # What its alerts say and to whom (the alert request's shapes): targets, channels, texts per language, poll.
    targets: Mapped[dict[str, list[Any]]] = mapped_column(JSON)
    channels: Mapped[list[str] | None] = mapped_column(JSON)
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    message: Mapped[dict[str, str]] = mapped_column(JSON)
    response_options: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)  # per language
    escalation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    external_system: Mapped[str | None] = mapped_column(String(60))
    external_sent_at: Mapped[datetime | None]
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    # Schedule: once at ``start_at``, or a plan recurring on ``cron`` (Europe/Helsinki).
    start_at: Mapped[datetime | None]
    cron: Mapped[str | None] = mapped_column(String(120))
    series_id: Mapped[int | None] = mapped_column(ForeignKey("drills.id", ondelete="RESTRICT"))
    occurrence_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    started_by: Mapped[str | None] = mapped_column(String(120))
    ends_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(120))
    # The roster compliance when the drill started (the councils' follow-up shows it per drill).
    compliance: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Run here ("service"), or run elsewhere and imported from its log ("import"): nothing is ever sent for it.
    origin: Mapped[str] = mapped_column(String(10), default="service", server_default="service")
    # The action cards its plan names (their keys): activated as the drill's exercise activations when it starts.
    action_cards: Mapped[list[str] | None] = mapped_column(JSON)
    # The 3–5 questions its participants are asked afterwards (drills.feedback); None: the standard three.
    feedback_questions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    objectives: Mapped[list[DrillObjective]] = relationship(
        order_by="DrillObjective.position", cascade="all, delete-orphan", passive_deletes=True
    )
    phases: Mapped[list[DrillPhase]] = relationship(
        order_by="DrillPhase.number", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def recurring(self) -> bool:
        return self.cron is not None


class DrillObjective(Base):
    """A criterion the service evaluates itself (``kind`` with ``params``), or a text a person rates afterwards."""

    __tablename__ = "drill_objectives"
    __table_args__ = (UniqueConstraint("drill_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    rating: Mapped[str | None] = mapped_column(String(1))  # HSEEP: P, S, M or U
    rating_note: Mapped[str | None] = mapped_column(String(2000))
    rated_by: Mapped[str | None] = mapped_column(String(120))
    rated_at: Mapped[datetime | None]


class DrillPhase(Base):
    """A phase (inject) of an exercise: it may send an alert and freeze a snapshot of the picture when it starts."""

    __tablename__ = "drill_phases"
    __table_args__ = (UniqueConstraint("drill_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(4000), default="")
    title: Mapped[dict[str, str] | None] = mapped_column(JSON)
    message: Mapped[dict[str, str] | None] = mapped_column(JSON)
    targets: Mapped[dict[str, list[Any]] | None] = mapped_column(JSON)
    snapshot: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime | None]
    started_by: Mapped[str | None] = mapped_column(String(120))
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("situation_snapshots.id", ondelete="SET NULL"))


class DrillAlert(Base):
    """An alert a drill sends: written with the drill's change (an outbox row), then created through the alerting
    domain with ``idempotency_key``, so a crash in between neither loses it nor sends it twice."""

    __tablename__ = "drill_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[DrillAlertPurpose] = mapped_column(Enum(DrillAlertPurpose, native_enum=False, length=20))
    phase: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)  # the alert request (alerting.schemas.AlertCreate)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="RESTRICT"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))


class DrillObservation(Base):
    """What an evaluator saw during the drill (time, author, text, optional phase)."""

    __tablename__ = "drill_observations"

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    phase: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(String(4000))
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class FindingKind(enum.StrEnum):
    strength = "strength"
    area_for_improvement = "area_for_improvement"


class ItemStatus(enum.StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    dropped = "dropped"


class DrillFinding(Base):
    """A strength or an area for improvement the evaluators wrote after the drill (HSEEP after-action report)."""

    __tablename__ = "drill_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"), index=True)
    kind: Mapped[FindingKind] = mapped_column(Enum(FindingKind, native_enum=False, length=30))
    text: Mapped[str] = mapped_column(String(4000))
    objective: Mapped[int | None] = mapped_column(Integer)  # the objective it concerns, by position
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImprovementItem(Base):
    """A corrective action of the improvement plan: open until closed, shown again by later drills' reports."""

    __tablename__ = "improvement_items"
    __table_args__ = (Index("ix_improvement_items_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="RESTRICT"), index=True)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("drill_findings.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(String(2000))  # the area for improvement
    action: Mapped[str] = mapped_column(String(2000))  # the corrective action
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    due: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ItemStatus] = mapped_column(Enum(ItemStatus, native_enum=False, length=20))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(String(2000))


class DrillImport(Base):
    """One log file imported into a drill: which file (its name and SHA-256: the same file is imported once) and
    how it was read."""

    __tablename__ = "drill_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(255))  # the file's name
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON)  # the mapping used, as read (built-in or the file's)
    rows: Mapped[int] = mapped_column(Integer)  # data rows read
    events: Mapped[int] = mapped_column(Integer)  # events added (rows already in the drill are not added again)
    imported_by: Mapped[str] = mapped_column(String(120))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportedRecipient(Base):
    """Someone the log shows being alerted, per phase: matched to the roster when possible, kept by name when not.
    ``alert_at`` (their first message or call) is when their times count from."""

    __tablename__ = "imported_recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"), index=True)
    phase: Mapped[int | None] = mapped_column(Integer)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    mobile: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    organisation_name: Mapped[str | None] = mapped_column(String(200))  # as the log says, when not one of ours
    alert_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    ack_channel: Mapped[str | None] = mapped_column(String(10))
    response: Mapped[int | None] = mapped_column(Integer)  # 1-based, into the drill's response options

    messages: Mapped[list[ImportedMessage]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class ImportedMessage(Base):
    """A message or call of the log: sent (or called), then delivered or failed when the log says so."""

    __tablename__ = "imported_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("imported_recipients.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # sms, email, phone, erica, virve
    state: Mapped[str] = mapped_column(String(10))  # sent, delivered, failed
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(200))


class ImportedEvent(Base):
    """A distinct row of an imported log, normalised: its identity (``row_key``) keeps it from being added twice."""

    __tablename__ = "imported_events"
    __table_args__ = (UniqueConstraint("drill_id", "row_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"))
    import_id: Mapped[int] = mapped_column(ForeignKey("drill_imports.id", ondelete="CASCADE"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)  # in its file, the header being row 1
    row_key: Mapped[str] = mapped_column(String(64))  # SHA-256 of the row's identity
    at: Mapped[datetime]
    name: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(40))  # E.164
    email: Mapped[str | None] = mapped_column(String(254))
    organisation: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(10))
    event: Mapped[str] = mapped_column(String(20))  # sent, delivered, failed, acknowledged, answered, called
    answer: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(String(200))
    phase: Mapped[str | None] = mapped_column(String(200))  # as the log names it


class ReportDraft(Base):
    """The words people write into a drill's after-action report (``drills.report.narrative``): the narrative
    sections per language, the course of events once edited (None: made from what the system knows), the publicity
    marking and the distribution list. One per drill; approving it freezes a ``ReportVersion``."""

    __tablename__ = "drill_report_drafts"

    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"), primary_key=True)
    sections: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)  # section -> {fi, sv, en}
    course_of_events: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    marking: Mapped[str | None] = mapped_column(String(40))
    distribution: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportVersion(Base):
    """An approved report: its figures and words frozen as they were, in every language and every variant (full,
    without contact details, redacted), as the JSON the other formats are made from."""

    __tablename__ = "drill_report_versions"
    __table_args__ = (UniqueConstraint("drill_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    approved_by: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[datetime]
    marking: Mapped[str] = mapped_column(String(40))
    distribution: Mapped[list[str]] = mapped_column(JSON)
    documents: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSON)  # language -> variant -> the report's JSON


class MetricRecord(Base):
    """A person's record of one of the agreement's metrics for a year (those the service cannot measure): the
    status, its evidence (a link or a file name), the date it refers to, who recorded it and when. Append-only: the
    latest record of a (key, year) is the metric's status, the earlier ones its history."""

    __tablename__ = "followup_metric_records"
    __table_args__ = (Index("ix_followup_metric_records_key_year", "key", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60))
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    evidence: Mapped[str] = mapped_column(String(1000))
    on: Mapped[date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedbackRequest(Base):
    """A participant asked for feedback after a drill (``drills.feedback``): who, by which channel, in which
    language; sent through an outbox (claimed, sent, recorded, a claim that expired is sent again) and answered once.
    The answer itself is a ``FeedbackAnswer``, kept apart: nothing links it to this row."""

    __tablename__ = "feedback_requests"
    __table_args__ = (UniqueConstraint("drill_id", "person_id"), Index("ix_feedback_requests_state", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(2))
    nonce: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending, sending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    segments: Mapped[int] = mapped_column(Integer, default=0)  # an SMS's segments, for the year's costs
    expires_at: Mapped[datetime]
    answered: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedbackAnswer(Base):
    """One participant's answers to a drill's feedback questions, without who gave them or when."""

    __tablename__ = "feedback_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(2))
    answers: Mapped[list[Any]] = mapped_column(JSON)  # one per question, in order: 1–5, yes/no/partly, text or None


class ReportFile(Base):
    """A drill report's PDF, built by a worker and kept until the report changes: one per drill and variant (its
    language, and whether it is redacted or without contact details). ``fingerprint`` is the SHA-256 of the report
    it was (or is being) built from; a report that no longer matches it is built again."""

    __tablename__ = "drill_report_files"
    __table_args__ = (UniqueConstraint("drill_id", "variant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"))
    variant: Mapped[str] = mapped_column(String(40))  # "fi:full", "sv:names", "en:redacted"
    fingerprint: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)  # None while it is being built
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    built_at: Mapped[datetime | None]
