"""The after-action report of a drill as data (the JSON the HTML, PDF and CSV are made from): overview, objectives
with their evidence, figures, curve, people, roster fixes, findings, the improvement plan and the comparison with
the previous drill of the same kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql import FromClause

from actioncards.measures import CardFigures, card_figures
from alueturva.db import utcnow
from alueturva.errors import Conflict
from alueturva.i18n import HELSINKI
from contacts.catalogue import area_names
from contacts.service import organisation_names
from drills import findings, read, service, texts
from drills.feedback import feedback_of
from drills.measures import Measures, measures, poll_options
from drills.models import Drill, DrillState
from drills.report import figures, narrative
from drills.report.fixes import roster_fixes
from drills.report.people import people, report_rows
from drills.report.schemas import (
    NO_TIMES,
    AreaFigures,
    CardTaskFigures,
    ChannelFigures,
    Comparable,
    ComparisonRow,
    Counts,
    Curve,
    ImportedFrom,
    ObjectiveShown,
    OrganisationFigures,
    PhaseFigures,
    PollAnswer,
    PreviousDrill,
    Report,
    ReportDrill,
    ReportObservation,
    ReportPhase,
    Shares,
    Times,
)
from drills.report.texts import HIGHER_IS_BETTER, words
from drills.schemas import DrillRead
from situation.service import get_snapshot


def _year_of(moment: datetime) -> tuple[datetime, datetime]:
    """The Finnish calendar year of ``moment``, as aware UTC bounds."""
    local = moment.astimezone(HELSINKI)
    start = local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return start, start.replace(year=start.year + 1)


def organisation_labels(session: Session, language: str) -> Callable[[str | None], str]:
    """An organisation as the report's language names it (Kokkola, Karleby, Kokkola: ``contacts.catalogue``, the one
    source of names); one the roster does not know (named only in an imported log) as the log wrote it."""
    by_finnish = {names["fi"]: names for names in organisation_names(session).values()}

    def label(organisation: str | None) -> str:
        return by_finnish.get(organisation or "", {}).get(language) or organisation or ""

    return label


@dataclass(frozen=True)
class Figures:
    """A report's figures, added up in the database (``drills.report.figures``), each with the one meaning it has
    there: people counted once (their first alert), each phase's figures per phase."""

    counts: Counts
    shares: Shares
    ack_seconds: Times
    delivery_seconds: Times
    by_channel: list[ChannelFigures]
    by_organisation: list[OrganisationFigures]
    by_area: list[AreaFigures]
    by_phase: list[PhaseFigures]
    poll: dict[int, int]  # answers chosen: option number -> how many
    curve: Curve


def report_figures(session: Session, recipients: FromClause, measured: Measures, *, language: str) -> Figures:
    """The figures of a drill from its report's table of recipients (``figures.recipients_table``), organisations
    named in ``language``."""
    rows = figures.measured_only(recipients)
    places = figures.counts_by_place(session, rows)
    times = figures.times_by_part(
        session,
        figures.seconds_of("ack", rows, "ack_seconds"),
        figures.seconds_of("ack_by_organisation", rows, "ack_seconds", "organisation"),
        figures.seconds_of("ack_by_area", rows, "ack_seconds", "area"),
        figures.seconds_of("delivery", rows, "delivery_seconds"),
    )
    ack_by_org, ack_by_area = times.get("ack_by_organisation", {}), times.get("ack_by_area", {})
    names, label = area_names(), organisation_labels(session, language)
    return Figures(
        counts=places.overall,
        shares=Shares(
            delivered=figures.delivered_share(places.overall), acknowledged=figures.acknowledged_share(places.overall)
        ),
        ack_seconds=times.get("ack", {}).get(None, NO_TIMES),
        delivery_seconds=times.get("delivery", {}).get(None, NO_TIMES),
        by_channel=figures.by_channel(session, measured),
        by_organisation=sorted(
            (
                OrganisationFigures(
                    organisation=label(organisation),
                    **values.model_dump(),
                    ack_seconds=ack_by_org.get(organisation, NO_TIMES),
                )
                for organisation, values in places.by_organisation.items()
            ),
            key=lambda row: row.organisation,
        ),
        by_area=[
            AreaFigures(
                area=area,
                names=names.get(area, {}),
                **values.model_dump(),
                ack_seconds=ack_by_area.get(area, NO_TIMES),
            )
            for area, values in places.by_area.items()
            if area is not None
        ],
        by_phase=_by_phase(session, recipients),
        poll=figures.poll(session, rows),
        curve=_curve(figures.curve(session, rows), places.by_area, places.overall.targeted),
    )


def _by_phase(session: Session, recipients: FromClause) -> list[PhaseFigures]:
    """Each phase's figures: everyone alerted in that phase (a drill without phases has none)."""
    rows = figures.measured_alerts(recipients)
    counts = figures.counts_by(session, rows, "phase")
    times = figures.times_by(session, select(rows.c.phase, rows.c.ack_seconds.label("seconds")).subquery(), "phase")
    return [
        PhaseFigures(phase=phase, **values.model_dump(), ack_seconds=times.get(phase, NO_TIMES))
        for phase, values in sorted(counts.items(), key=lambda item: item[0])
        if phase is not None
    ]


def _curve(buckets: dict[str | None, dict[int, int]], by_area: dict[Any, Counts], targeted: int) -> Curve:
    """Cumulative share acknowledged per whole minute since the alert, overall and per area."""
    last = max((minute for per_area in buckets.values() for minute in per_area), default=0)
    minutes = list(range(last + 1))

    def cumulative(per_minute: dict[int, int], total: int) -> list[float]:
        running, shares = 0, []
        for minute in minutes:
            running += per_minute.get(minute, 0)
            shares.append(round(100.0 * running / total, 1) if total else 0.0)
        return shares

    overall: dict[int, int] = {}
    for per_area in buckets.values():
        for minute, count in per_area.items():
            overall[minute] = overall.get(minute, 0) + count
    areas = {
        str(area): cumulative(buckets.get(area, {}), values.targeted)
        for area, values in by_area.items()
        if area is not None
    }
    return Curve(minutes=minutes, overall=cumulative(overall, targeted), by_area=areas)


def _objectives(drill: DrillRead, language: str) -> list[ObjectiveShown]:
    return [read.objective_shown(objective, language) for objective in drill.objectives]


def _comparable(measured: Figures, objectives: list[ObjectiveShown]) -> Comparable:
    """The figures compared with the previous drill: the report's own, with the same meanings."""
    return Comparable(
        targeted=measured.counts.targeted,
        acknowledged_share=measured.shares.acknowledged,
        delivered_share=measured.shares.delivered,
        ack_median=measured.ack_seconds.median,
        ack_p90=measured.ack_seconds.p90,
        objectives_met=sum(1 for objective in objectives if objective.met is True),
    )


def _previous(session: Session, drill: Drill) -> Drill | None:
    """The latest drill of the same kind held before this one."""
    if drill.started_at is None:
        return None
    return session.scalar(
        select(Drill)
        .where(Drill.kind == drill.kind, Drill.id != drill.id, Drill.started_at < drill.started_at)
        .where(Drill.state.in_((DrillState.ended, DrillState.running)))
        .order_by(Drill.started_at.desc(), Drill.id.desc())
        .limit(1)
    )


def _comparison(
    session: Session, drill: Drill, this: Comparable, language: str
) -> tuple[PreviousDrill | None, list[ComparisonRow]]:
    previous = _previous(session, drill)
    if previous is None:
        return None, []
    measured = measures(session, previous)
    with figures.recipients_table(session, measured) as recipients:
        shown = read.drill_read(session, previous, now=utcnow(), recipients=recipients)
        counted = report_figures(session, recipients, measured, language=language)
        earlier = _comparable(counted, _objectives(shown, language))
    rows = []
    for key, label in words("figures", language).items():
        now_value, then_value, higher = getattr(this, key), getattr(earlier, key), HIGHER_IS_BETTER[key]
        better = None
        if higher is not None and now_value is not None and then_value is not None and now_value != then_value:
            better = (now_value > then_value) == higher
        rows.append(ComparisonRow(figure=key, label=label, this=now_value, previous=then_value, better=better))
    name = texts.drill_text(previous, "name", language)
    summary = PreviousDrill(id=previous.id, name=name, started_at=previous.started_at, figures=earlier)
    return summary, rows


def _phases(session: Session, drill: DrillRead) -> list[ReportPhase]:
    result = []
    for phase in drill.phases:
        levels = None
        if phase.snapshot_id is not None and (snapshot := get_snapshot(session, snapshot_id=phase.snapshot_id)):
            levels = {area["key"]: area["decided"]["level"] for area in snapshot.picture["areas"]}
        result.append(ReportPhase(**phase.model_dump(), levels=levels))
    return result


def build_report(
    session: Session, *, drill_id: int, language: str = "fi", redact: bool = False, contact_details: bool = True
) -> Report:
    """The report of a drill that has been held (running or ended). Redacted: organisations and roles only; without
    ``contact_details`` (for viewers): names, but no mobile numbers or email addresses."""
    drill = service.get_drill(session, drill_id=drill_id)
    if drill.started_at is None:
        raise Conflict(f"drill {drill_id} is {drill.state.value}; a report is made of a drill that has been held")
    now = utcnow()
    measured = measures(session, drill)
    with figures.recipients_table(session, measured) as recipients:
        return _report(
            session,
            drill,
            measured,
            recipients,
            now=now,
            language=language,
            redact=redact,
            contact_details=contact_details,
        )


def _report(
    session: Session,
    drill: Drill,
    measured: Measures,
    recipients: FromClause,
    *,
    now: datetime,
    language: str,
    redact: bool,
    contact_details: bool,
) -> Report:
    assert drill.started_at is not None
    shown = read.drill_read(session, drill, now=now, recipients=recipients)
    counted = report_figures(session, recipients, measured, language=language)
    objectives = _objectives(shown, language)
    previous, comparison = _comparison(session, drill, _comparable(counted, objectives), language)
    options = poll_options(session, drill, measured, language)
    drill_findings = findings.findings_of(session, drill_id=drill.id)
    imported = service.imported_from(session, drill_id=drill.id)
    draft = narrative.draft_of(session, drill_id=drill.id)
    rows, label = report_rows(session, measured, recipients), organisation_labels(session, language)
    report = Report(
        language=language,
        redacted=redact,
        generated_at=now,
        drill=ReportDrill(
            id=drill.id,
            name=texts.drill_text(drill, "name", language),
            kind=drill.kind.value,
            kind_name=texts.kind_name(drill.kind.value, language),
            state=drill.state.value,
            description=texts.drill_text(drill, "description", language),
            contact=None if redact else texts.drill_text(drill, "contact", language) or None,
            started_at=drill.started_at,
            ended_at=drill.ended_at,
            external_system=drill.external_system,
            external_sent_at=drill.external_sent_at,
            participants=[row.organisation for row in counted.by_organisation],
            alerts=shown.alerts,
        ),
        objectives=objectives,
        counts=counted.counts,
        shares=counted.shares,
        ack_seconds=counted.ack_seconds,
        delivery_seconds=counted.delivery_seconds,
        by_channel=counted.by_channel,
        by_organisation=counted.by_organisation,
        by_area=counted.by_area,
        by_phase=counted.by_phase,
        poll=[
            PollAnswer(
                option=number, answer=options[number - 1] if number <= len(options) else str(number), count=count
            )
            for number, count in sorted(counted.poll.items())
        ],
        curve=counted.curve,
        people=people(
            session,
            rows,
            options=options,
            language=language,
            redact=redact,
            contact_details=contact_details,
            label=label,
        ),
        roster_fixes=roster_fixes(
            session, rows, year=_year_of(drill.started_at), language=language, redact=redact, label=label
        ),
        observations=[
            ReportObservation(at=o.at, author=None if redact else o.author, text=o.text, phase=o.phase)
            for o in shown.observations
        ],
        strengths=[f.text for f in drill_findings if f.kind.value == "strength"],
        areas_for_improvement=[f.text for f in drill_findings if f.kind.value == "area_for_improvement"],
        improvement_items=findings.items(session, drill_id=drill.id),
        open_items_from_earlier=findings.still_open_from_earlier(session, drill_id=drill.id),
        previous=previous,
        comparison=comparison,
        phases=_phases(session, shown),
        exercise_levels=shown.exercise_levels,
        imported=ImportedFrom.model_validate(imported) if imported else None,
        action_cards=[_card_figures(f, language) for f in card_figures(session, drill_id=drill.id)],
        sections=narrative.sections(session, drill, recipients, shown, draft),
        feedback=feedback_of(session, drill=drill, language=language),
        approval=narrative.draft_approval(session, drill_id=drill.id, draft=draft, language=language),
    )
    return _redacted(session, report) if redact else report


def _redacted(session: Session, report: Report) -> Report:
    """The councils' version: no name, number or email in anything people wrote either (the people and the roster
    fixes are redacted where they are made)."""
    scrub = narrative.redactor(session, drill_id=report.drill.id, language=report.language)
    free = report.model_dump(exclude={"people", "imported"})
    return Report.model_validate(scrub.walk(free) | {"people": report.people, "imported": report.imported})


def _card_figures(figures: CardFigures, language: str) -> CardTaskFigures:
    """A card's tasks in one organisation, the card's title in the report's language."""
    title = figures.card_title.get(language) or figures.card_title["fi"]
    return CardTaskFigures(
        card=title, organisation=figures.organisation, tasks=figures.tasks, done=figures.done, late=figures.late,
        not_done=figures.not_done, median_seconds=figures.median_seconds,
    )  # fmt: skip
