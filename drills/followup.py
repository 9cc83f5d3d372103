"""The councils' yearly follow-up of the agreement: drills held by kind and month, objectives met, acknowledgement
figures per municipality (the report's figures, with the same meanings), the roster compliance at each drill,
improvement items opened and closed, and the year's costs of SMS and calls with a split between the wellbeing
services county and the municipalities: the agreement's example (3.2), shown as a calculation and not an agreement
(its general rule, 6.2, is that each party pays its own costs), unless ``config/costs.yaml`` says the parties agreed
one."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.public import calls_placed, charged_sms_segments
from alueturva.db import utcnow
from alueturva.i18n import HELSINKI
from contacts.catalogue import display_names, organisations
from drills import feedback, findings, read, texts
from drills.config import costs_config
from drills.measures import measures
from drills.metrics import metrics, year_bounds
from drills.models import Drill, DrillState, ImprovementItem
from drills.report import figures
from drills.report.assemble import organisation_labels
from drills.report.schemas import (
    NO_COUNTS,
    NO_TIMES,
    CallFigures,
    CostPart,
    Costs,
    CostShare,
    Followup,
    FollowupDrill,
    ObjectivesMet,
    Shares,
    YearsItems,
)
from drills.report.texts import words
from drills.schemas import Marking

HELD = (DrillState.running, DrillState.ended)
CENT = Decimal("0.01")


def split_cost(total: Decimal, language: str) -> list[CostShare]:
    """``total`` (euros) split to the cent: the county's share, the rest by municipal population (largest remainder),
    so that the shares add up to the total exactly; each party named in ``language``."""
    config = costs_config().split
    cents = int((total / CENT).to_integral_value(ROUND_HALF_UP))
    county_cents = int((cents * config.county_share_percent / 100).to_integral_value(ROUND_HALF_UP))
    municipalities = [o for o in organisations().organisations if o.kind == "municipality" and o.population]
    population = sum(o.population or 0 for o in municipalities)
    rest = cents - county_cents
    exact = {o.key: Decimal(rest) * (o.population or 0) / population for o in municipalities}
    shares = {key: int(value) for key, value in exact.items()}  # floor: the values are not negative
    for key in sorted(exact, key=lambda k: (exact[k] - shares[k], k), reverse=True)[: rest - sum(shares.values())]:
        shares[key] += 1
    names = {
        o.key: display_names(short_name=o.short_name, name_sv=o.name_sv, name_en=o.name_en, kind=o.kind)
        for o in organisations().organisations
    }
    parties: list[tuple[str, int, float | None]] = [(config.county, county_cents, None)]
    parties += [
        (o.key, shares[o.key], round(100.0 * (o.population or 0) / population, 2))
        for o in sorted(municipalities, key=lambda o: -(o.population or 0))
    ]
    return [
        CostShare(
            organisation=names[key][language],
            names=names[key],
            key=key,
            cents=party_cents,
            euros=party_cents * CENT,
            share=share,
        )
        for key, party_cents, share in parties
    ]


def _costs(session: Session, year: int, language: str) -> Costs:
    config = costs_config()
    price, minute = config.sms_price_per_segment, config.voice_price_per_minute
    start, end = year_bounds(year)
    segments = charged_sms_segments(session, start=start, end=end)
    segments["exercise"] += feedback.sms_segments(session, start=start, end=end)  # drills' feedback requests
    placed = calls_placed(session, start=start, end=end)
    parts: dict[str, CostPart] = {}
    for part in ("exercise", "real"):
        sms_euros = (price * segments[part]).quantize(CENT, ROUND_HALF_UP)
        call_euros = (minute * placed[part]["minutes"]).quantize(CENT, ROUND_HALF_UP)
        total = sms_euros + call_euros
        parts[part] = CostPart(
            segments=segments[part],
            sms_euros=sms_euros,
            calls=CallFigures(**placed[part]),
            call_euros=call_euros,
            euros=total,
            split=split_cost(total, language),
        )
    exercise, real = parts["exercise"], parts["real"]
    combined = [
        row.model_copy(update={"cents": row.cents + other.cents, "euros": row.euros + other.euros})
        for row, other in zip(exercise.split, real.split, strict=True)
    ]
    return Costs(
        price_per_segment=price,
        price_per_call_minute=minute,
        vat_percent=0,
        basis=config.split.basis,
        applies_to=getattr(config.split.applies_to, language),
        population_date=organisations().population_date,
        county_share_percent=config.split.county_share_percent,
        exercise=exercise,
        real=real,
        total=CostPart(
            segments=exercise.segments + real.segments,
            sms_euros=exercise.sms_euros + real.sms_euros,
            calls=CallFigures(**{key: placed["exercise"][key] + placed["real"][key] for key in placed["exercise"]}),
            call_euros=exercise.call_euros + real.call_euros,
            euros=exercise.euros + real.euros,
            split=combined,
        ),
    )


def _drill_row(session: Session, drill: Drill, language: str) -> FollowupDrill:
    """A drill held in the year, with the report's figures (each person once; the same meanings)."""
    label = organisation_labels(session, language)
    with figures.recipients_table(session, measures(session, drill)) as recipients:
        shown = read.drill_read(session, drill, now=utcnow(), recipients=recipients)
        rows = figures.measured_only(recipients)
        counts = figures.counts_by(session, rows).get(0, NO_COUNTS)
        by_municipality = figures.counts_by(session, rows, "organisation")
        ack_seconds = figures.times_by(session, figures.as_seconds(rows, "ack_seconds")).get(0, NO_TIMES)
    assert drill.started_at is not None
    return FollowupDrill(
        id=drill.id,
        name=texts.drill_text(drill, "name", language),
        kind=drill.kind.value,
        kind_name=texts.kind_name(drill.kind.value, language),
        state=drill.state.value,
        started_at=drill.started_at,
        month=drill.started_at.astimezone(HELSINKI).month,
        objectives_met=sum(1 for o in shown.objectives if o.met is True),
        objectives=len(shown.objectives),
        targeted=counts.targeted,
        acknowledged=counts.acknowledged,
        counts=counts,
        shares=Shares(delivered=figures.delivered_share(counts), acknowledged=figures.acknowledged_share(counts)),
        ack_seconds=ack_seconds,
        by_municipality={label(name): values for name, values in by_municipality.items()},
        compliance=drill.compliance,
    )


def followup(session: Session, *, year: int, language: str = "fi", marking: Marking = "public") -> Followup:
    """The year's follow-up in ``language``, with the publicity marking chosen for it (the councils' copy holds no
    names: public by default)."""
    start, end = year_bounds(year)
    held = session.scalars(
        select(Drill)
        .where(Drill.started_at >= start, Drill.started_at < end, Drill.state.in_(HELD), Drill.cron.is_(None))
        .order_by(Drill.started_at, Drill.id)
    ).all()
    missed = session.scalars(
        select(Drill.id).where(Drill.state == DrillState.missed, Drill.created_at < end, Drill.created_at >= start)
    ).all()
    rows = [_drill_row(session, drill, language) for drill in held]
    by_kind: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        by_kind[row.kind][row.month] += 1
    opened = session.scalars(
        select(ImprovementItem.id).where(ImprovementItem.created_at >= start, ImprovementItem.created_at < end)
    ).all()
    closed = session.scalars(
        select(ImprovementItem.id).where(ImprovementItem.closed_at >= start, ImprovementItem.closed_at < end)
    ).all()
    items = {item.id: item for item in findings.items(session)}
    return Followup(
        year=year,
        language=language,
        generated_at=utcnow(),
        drills=rows,
        missed=len(missed),
        by_kind_and_month={kind: dict(sorted(months.items())) for kind, months in by_kind.items()},
        objectives=ObjectivesMet(met=sum(r.objectives_met for r in rows), total=sum(r.objectives for r in rows)),
        improvement_items=YearsItems(
            opened=[items[i] for i in opened],
            closed=[items[i] for i in closed],
            open_now=sum(1 for item in items.values() if item.status in ("open", "in_progress")),
        ),
        costs=_costs(session, year, language),
        metrics=metrics(session, year=year, drills=rows, language=language),
        marking=marking,
        marking_text=words("marking", language)[marking],
    )
