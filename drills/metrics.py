"""The agreement's follow-up by its own metrics (the preparedness chapter's *arviointimittarit* and the measures of
2024 and 2025): one row per metric or measure, with a status (met, in progress, not met, not known), its evidence
and who confirmed it when.

Where the service knows the answer it measures it, at the moment the follow-up is made: named contacts (roster
compliance), the readiness parameters' coverage of the areas, indicators with current data per area, each
municipality's management group tested in the year (date and reach), the 2025 exercise and its report, alerts and
drills run here, each municipality's reviews of its action cards and of its management group's composition in the
year (the review records of ``actioncards``). The rest a person records (``record``, a use case)
with the date, the evidence (a link or a file name) and who recorded it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actioncards.models import Review, ReviewSubject
from alerting.models import Alert
from alueturva.audit import service as audit
from alueturva.db import get_database, utcnow
from alueturva.errors import Invalid, NotFound
from alueturva.i18n import HELSINKI, format_date
from contacts.catalogue import display_names, organisations
from contacts.compliance import check_compliance
from contacts.models import Organisation, OrganisationKind
from drills.models import Drill, DrillKind, DrillState, MetricRecord, ReportVersion
from drills.report.schemas import FollowupDrill, Metric, MetricDetail, MetricStatus
from drills.report.texts import text, words
from drills.schemas import MetricRecordIn
from drills.texts import drill_text
from situation.config import readiness_config
from situation.flows import current_picture

HELD = (DrillState.running, DrillState.ended)
TESTS_OF_MANAGEMENT_GROUPS = ("management_group_test", "external_system_test")  # the county tests them via Erica
EXERCISE_YEAR = 2025


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The Finnish calendar year as aware UTC bounds."""
    start = datetime(year, 1, 1, tzinfo=HELSINKI).astimezone(UTC)
    return start, datetime(year + 1, 1, 1, tzinfo=HELSINKI).astimezone(UTC)


@dataclass(frozen=True)
class MetricSpec:
    key: str
    group: str  # indicator, measure_2024, measure_2025
    measured: bool


METRICS = (
    MetricSpec("named_contacts", "indicator", True),
    MetricSpec("readiness_parameters", "measure_2024", True),
    MetricSpec("anticipatory_picture", "indicator", True),
    MetricSpec("management_group_tested", "indicator", True),
    MetricSpec("exercise_2025", "measure_2025", True),
    MetricSpec("alerting_system", "measure_2025", True),
    MetricSpec("management_group_review", "measure_2025", True),
    MetricSpec("preparedness_plan", "measure_2025", False),
    MetricSpec("autumn_seminar", "measure_2025", False),
    MetricSpec("civil_defence_formations", "measure_2025", False),
    MetricSpec("evacuation_planning", "measure_2025", False),
)
MANUAL = tuple(spec.key for spec in METRICS if not spec.measured)


@dataclass(frozen=True)
class Measured:
    status: MetricStatus
    evidence: str
    details: list[MetricDetail]


def _share_status(done: int, total: int) -> MetricStatus:
    if total and done == total:
        return "met"
    return "in_progress" if done else "not_met"


def _municipalities(language: str) -> list[tuple[str, str]]:
    """Each municipality: its Finnish short name (the roster's) and its name in ``language``."""
    return [
        (
            o.short_name,
            display_names(short_name=o.short_name, name_sv=o.name_sv, name_en=o.name_en, kind=o.kind)[language],
        )
        for o in organisations().organisations
        if o.kind == OrganisationKind.municipality
    ]


def _named_contacts(session: Session, language: str) -> Measured:
    results = check_compliance(session).results("required")
    details = []
    for short_name, name in _municipalities(language):
        own = [result for result in results if result.scope == short_name]
        met = sum(result.status == "ok" for result in own)
        details.append(
            MetricDetail(
                subject=name,
                status=("met" if met == len(own) else "not_met") if own else "unknown",
                evidence=text("metrics", "municipality_named", language, met=met, total=len(own)),
                at=None,
            )
        )
    met = sum(result.status == "ok" for result in results)
    status: MetricStatus = "met" if met == len(results) else "not_met"
    return Measured(status, text("metrics", "required_named", language, met=met, total=len(results)), details)


def _areas(picture: dict[str, Any]) -> list[dict[str, Any]]:
    return [area for area in picture["areas"] if area["kind"] == "area"]


def _readiness_parameters(picture: dict[str, Any], language: str, indicators: int) -> Measured:
    areas = _areas(picture)
    covered = sum(1 for area in areas if area["coverage"]["total"])
    evidence = text("metrics", "covered_areas", language, covered=covered, total=len(areas), indicators=indicators)
    return Measured(_share_status(covered, len(areas)) if indicators else "not_met", evidence, [])


def _anticipatory_picture(picture: dict[str, Any], language: str) -> Measured:
    details = []
    for area in _areas(picture):
        names, current, total = area["names"], area["coverage"]["current"], area["coverage"]["total"]
        details.append(
            MetricDetail(
                subject=names.get(language, str(area["key"])),
                status=_share_status(current, total),
                evidence=text("metrics", "area_current", language, current=current, total=total),
                at=None,
            )
        )
    with_data = sum(1 for detail in details if detail.status != "not_met")
    evidence = text("metrics", "current_data", language, areas=", ".join(f"{d.subject} {d.evidence}" for d in details))
    return Measured(_share_status(with_data, len(details)), evidence, details)


def _management_group_tested(drills: Sequence[FollowupDrill], year: int, language: str) -> Measured:
    """Per municipality: the year's latest test of the management groups' alerting that reached someone there."""
    details = []
    tests = [row for row in drills if row.kind in TESTS_OF_MANAGEMENT_GROUPS]
    for _, name in _municipalities(language):
        reached = [row for row in tests if (counts := row.by_municipality.get(name)) and counts.targeted]
        if not reached:
            details.append(
                MetricDetail(
                    subject=name, status="not_met", evidence=text("metrics", "not_tested", language, year=year), at=None
                )
            )
            continue
        latest = reached[-1]
        counts = latest.by_municipality[name]
        day = latest.started_at.astimezone(HELSINKI).date()
        details.append(
            MetricDetail(
                subject=name,
                status="met",
                evidence=text(
                    "metrics",
                    "tested_line",
                    language,
                    date=format_date(day, language),
                    name=latest.name,
                    acknowledged=counts.acknowledged,
                    targeted=counts.targeted,
                ),
                at=day,
            )
        )
    tested = sum(1 for detail in details if detail.status == "met")
    evidence = text("metrics", "tested_in_year", language, year=year, tested=tested, total=len(details))
    return Measured(_share_status(tested, len(details)), evidence, details)


def _reviews_in_year(session: Session, year: int) -> dict[tuple[str, ReviewSubject], datetime]:
    """(municipality's short name, subject) -> the latest review of it recorded for a day in ``year``."""
    start, end = year_bounds(year)
    rows = session.execute(
        select(Organisation.short_name, Review.subject, func.max(Review.reviewed_at))
        .join(Organisation, Organisation.id == Review.organisation_id)
        .where(Review.reviewed_at >= start, Review.reviewed_at < end)
        .group_by(Organisation.short_name, Review.subject)
    ).all()
    return {(short_name, ReviewSubject(subject)): at for short_name, subject, at in rows}


def _management_group_review(session: Session, year: int, language: str) -> Measured:
    """Per municipality: the dates of its reviews of its action cards and of its management group's composition in
    the year; met with both, in progress with one, not met with neither."""
    reviews = _reviews_in_year(session, year)
    shown = words("metrics", language)
    details = []
    for short_name, name in _municipalities(language):
        days = {
            subject: at.astimezone(HELSINKI).date()
            for subject in ReviewSubject
            if (at := reviews.get((short_name, subject))) is not None
        }
        dates = {
            subject: format_date(days[subject], language) if subject in days else shown["not_reviewed"]
            for subject in ReviewSubject
        }
        evidence = text(
            "metrics", "reviewed_line", language,
            cards=dates[ReviewSubject.action_cards], group=dates[ReviewSubject.management_group],
        )  # fmt: skip
        status: MetricStatus = "met" if len(days) == len(ReviewSubject) else "in_progress" if days else "not_met"
        details.append(
            MetricDetail(subject=name, status=status, evidence=evidence, at=max(days.values(), default=None))
        )
    if not details:
        return Measured("unknown", shown["no_municipalities"], [])
    both = sum(1 for detail in details if detail.status == "met")
    some = sum(1 for detail in details if detail.status != "not_met")
    evidence = text("metrics", "reviewed_in_year", language, year=year, both=both, total=len(details))
    status = "met" if both == len(details) else "in_progress" if some else "not_met"
    return Measured(status, evidence, details)


def _exercise_2025(session: Session, language: str) -> Measured:
    start, end = year_bounds(EXERCISE_YEAR)
    exercises = session.scalars(
        select(Drill)
        .where(Drill.kind == DrillKind.exercise, Drill.state.in_(HELD))
        .where(Drill.started_at >= start, Drill.started_at < end)
        .order_by(Drill.started_at, Drill.id)
    ).all()
    if not exercises:
        return Measured("not_met", words("metrics", language)["no_exercise"], [])
    best, version = exercises[-1], None
    for drill in exercises:
        latest = session.scalar(select(func.max(ReportVersion.version)).where(ReportVersion.drill_id == drill.id))
        if latest:
            best, version = drill, latest
    assert best.started_at is not None
    report = (
        text("metrics", "report_approved", language, version=version)
        if version
        else words("metrics", language)["report_draft"]
    )
    evidence = text(
        "metrics", "exercise_held", language, name=drill_text(best, "name", language),
        date=format_date(best.started_at.astimezone(HELSINKI).date(), language), report=report,
    )  # fmt: skip
    return Measured("met" if version else "in_progress", evidence, [])


def _alerting_system(session: Session, drills: Sequence[FollowupDrill], year: int, language: str) -> Measured:
    start, end = year_bounds(year)
    alerts = session.scalar(select(func.count(Alert.id)).where(Alert.created_at >= start, Alert.created_at < end))
    run_here = session.scalar(
        select(func.count(Drill.id)).where(Drill.id.in_([row.id for row in drills]), Drill.origin == "service")
    )
    evidence = text("metrics", "run_here", language, year=year, alerts=alerts or 0, drills=run_here or 0)
    return Measured("met" if run_here else ("in_progress" if alerts else "not_met"), evidence, [])


def latest_records(session: Session, *, year: int) -> dict[str, MetricRecord]:
    """The latest record of each metric for ``year``."""
    rows = session.scalars(
        select(MetricRecord).where(MetricRecord.year == year).order_by(MetricRecord.recorded_at, MetricRecord.id)
    ).all()
    return {row.key: row for row in rows}


def _recorded(record: MetricRecord, language: str) -> Measured:
    """A person's record as a row: its status (checked when recorded), the evidence and the date it refers to."""
    evidence = record.evidence
    if record.on is not None:
        evidence = text("metrics", "recorded", language, evidence=evidence, date=format_date(record.on, language))
    return Measured(cast(MetricStatus, record.status), evidence, [])


def metrics(session: Session, *, year: int, drills: Sequence[FollowupDrill], language: str) -> list[Metric]:
    """Every metric of the agreement for ``year``, measured now or as recorded."""
    now = utcnow()
    picture = current_picture(session, now=now)
    measured = {
        "named_contacts": _named_contacts(session, language),
        "readiness_parameters": _readiness_parameters(picture, language, len(readiness_config().indicators)),
        "anticipatory_picture": _anticipatory_picture(picture, language),
        "management_group_tested": _management_group_tested(drills, year, language),
        "exercise_2025": _exercise_2025(session, language),
        "alerting_system": _alerting_system(session, drills, year, language),
        "management_group_review": _management_group_review(session, year, language),
    }
    records = latest_records(session, year=year)
    shown = words("metrics", language)
    rows = []
    for spec in METRICS:
        by: str | None
        at: datetime | None
        if spec.measured:
            result, by, at = measured[spec.key], shown["service"], now
        elif (record := records.get(spec.key)) is not None:
            result, by, at = _recorded(record, language), record.recorded_by, record.recorded_at
        else:
            result, by, at = Measured("unknown", shown["not_recorded"], []), None, None
        status, evidence, details = result.status, result.evidence, result.details
        rows.append(
            Metric(
                key=spec.key, group=spec.group, text=shown[spec.key], status=status,
                status_text=shown[f"status_{status}"], measured=spec.measured, evidence=evidence,
                confirmed_by=by, confirmed_at=at, details=details,
            )
        )  # fmt: skip
    return rows


def record(*, key: str, payload: MetricRecordIn, actor: str, name: str) -> MetricRecord:
    """A person records a metric the service cannot measure: status, evidence, the date it refers to."""
    spec = next((spec for spec in METRICS if spec.key == key), None)
    if spec is None:
        raise NotFound(f"no metric {key!r}; the metrics are: {', '.join(s.key for s in METRICS)}")
    if spec.measured:
        raise Invalid(f"metric {key!r} is measured by the service; recorded by hand are: {', '.join(MANUAL)}")
    with get_database().session() as session:
        row = MetricRecord(
            key=key, year=payload.year, status=payload.status, evidence=payload.evidence, on=payload.on,
            recorded_by=name, recorded_at=utcnow(),
        )  # fmt: skip
        session.add(row)
        session.flush()
        audit.record(
            session, actor=actor, action="followup.metric.record", entity_type="followup_metric", entity_id=row.id,
            details={"key": key, "year": payload.year, "status": payload.status},
        )  # fmt: skip
        session.expunge(row)
        return row
