"""The report's figures, added up in the database: counts, times (median, 90th percentile, slowest), per
organisation, per area, per channel, poll answers and the acknowledgement curve.

The measured people are the recipients the drill's alerts targeted (not the deputies escalation added), as for the
objectives, whatever ran the drill (``drills.measures``), each person once, from their first alert; a drill in
phases also has each phase's figures. Times count from each one's own alert. Percentiles are nearest-rank: the
90th percentile is the time by which 90 % of those with a time had it (the ceil(0.9 n)-th smallest), the median the
ceil(n / 2)-th.

One meaning for each figure, everywhere it appears (the API, the console, the report in every form, the
follow-up): ``targeted`` people alerted; ``sent`` a message reached the provider; ``delivered`` the provider
confirmed one; ``no_receipt`` reached only through channels without delivery receipts (email), so not known;
``failed`` nothing could be sent; ``acknowledged``; ``late`` acknowledged after the alert closed. The delivered
share is of those whose messages can be confirmed (``delivered_share``), never of everyone.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import FromClause, Subquery

from alerting.models import RECEIPT_CHANNELS
from alueturva.db import floor_divide
from drills.measures import REACHED, Measures
from drills.report.schemas import NO_COUNTS, NO_TIMES, ChannelFigures, Counts, Times


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def seconds_of(part: str, rows: FromClause, column: str, key: str | None = None) -> Select[Any]:
    """One part of ``times_by_part``: the seconds of ``rows.c[column]``, per ``rows.c[key]`` (or all together)."""
    group: ColumnElement[Any] = cast(rows.c[key], String) if key else null()
    return select(literal(part, String).label("part"), group.label("g"), rows.c[column].label("seconds"))


def times_by_part(session: Session, *parts: Select[Any]) -> dict[str, dict[str | None, Times]]:
    """``times_by`` of several parts (``seconds_of``) in one statement: by part, then by group (None: all together)."""
    seconds = union_all(*parts).subquery()
    found: dict[str, dict[str | None, Times]] = {}
    for (part, group), times in _times(session, seconds, seconds.c.part, seconds.c.g).items():
        found.setdefault(part, {})[group] = times
    return found


def times_by(session: Session, rows: FromClause, key: str | None = None) -> dict[Any, Times]:
    """Median, 90th percentile and slowest of ``rows.c.seconds`` (nearest rank), per ``rows.c[key]`` (or overall)."""
    group: ColumnElement[Any] = rows.c[key] if key else literal(0)
    return {groups[0]: times for groups, times in _times(session, rows, group).items()}


def _times(session: Session, rows: FromClause, *groups: ColumnElement[Any]) -> dict[tuple[Any, ...], Times]:
    """Median, 90th percentile and slowest of ``rows.c.seconds`` (nearest rank) per ``groups``."""
    ranked = (
        select(
            *(group.label(f"g{n}") for n, group in enumerate(groups)),
            rows.c.seconds.label("s"),
            func.row_number().over(partition_by=groups, order_by=rows.c.seconds).label("rn"),
            func.count().over(partition_by=groups).label("n"),
        )
        .where(rows.c.seconds.is_not(None))
        .subquery()
    )
    keys = [ranked.c[f"g{n}"] for n in range(len(groups))]
    result: Sequence[Any] = session.execute(
        select(
            *keys,
            func.count(),
            func.max(case((ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.s))),
            func.max(case((ranked.c.rn == (ranked.c.n * 9 + 9) // 10, ranked.c.s))),
            func.max(ranked.c.s),
        ).group_by(*keys)
    ).all()
    found: dict[tuple[Any, ...], Times] = {}
    for row in result:
        found[tuple(row[: len(keys)])] = _times_of(*row[len(keys) :])
    return found


def _times_of(count: int, median: float | None, p90: float | None, slowest: float | None) -> Times:
    return Times(count=int(count), median=_round(median), p90=_round(p90), max=_round(slowest))


@contextmanager
def recipients_table(session: Session, measured: Measures) -> Iterator[Table]:
    """The drill's recipients (``drills.measures``, deputies flagged), written once into a temporary table that
    every part of a report then reads: the per-recipient rows would otherwise be computed again for each aggregate
    (for 10,000 recipients about 50 ms on PostgreSQL each time). The table is private to the session's connection
    and dropped at the end."""
    query = measured.recipients
    table = Table(
        f"drill_report_rows_{secrets.token_hex(4)}",  # a report also reads the previous drill's, at the same time
        MetaData(),
        *(Column(column.key, column.type) for column in query.selected_columns),
        prefixes=["TEMPORARY"],
    )
    connection = session.connection()
    table.create(connection)
    try:
        connection.execute(insert(table).from_select(list(table.c), query))
        yield table
    finally:
        table.drop(connection)


def measured_only(recipients: FromClause) -> Subquery:
    """The measured people, each once (their first alert): the deputies escalation added are left out."""
    return select(recipients).where(recipients.c.deputy.is_(False), recipients.c.first_of_person == 1).subquery()


def measured_alerts(recipients: FromClause) -> Subquery:
    """Every alert of the measured people (a person once per phase): for each phase's figures."""
    return select(recipients).where(recipients.c.deputy.is_(False)).subquery()


def _count_columns(rows: FromClause) -> list[Any]:
    failed = and_(rows.c.reached == 0, rows.c.pending == 0)
    return [
        func.count().label("targeted"),
        func.count().filter(rows.c.reached > 0).label("sent"),
        func.count().filter(rows.c.delivered > 0).label("delivered"),
        func.count().filter(rows.c.reached > 0, rows.c.delivered == 0, rows.c.receipt_reached == 0).label("no_receipt"),
        func.count().filter(failed).label("failed"),
        func.count().filter(rows.c.acknowledged_at.is_not(None)).label("acknowledged"),
        func.count().filter(rows.c.ack_late.is_(True)).label("late"),
    ]


COUNT_KEYS = ("targeted", "sent", "delivered", "no_receipt", "failed", "acknowledged", "late")


def delivered_share(counts: Counts) -> float | None:
    """The share delivered of those whose messages can be confirmed (reached on a channel with receipts); None
    when no one's can (email only): "no receipt", never 0 % or 100 %."""
    confirmable = counts.sent - counts.no_receipt
    return round(100.0 * counts.delivered / confirmable, 1) if confirmable > 0 else None


def acknowledged_share(counts: Counts) -> float | None:
    return round(100.0 * counts.acknowledged / counts.targeted, 1) if counts.targeted else None


def counts_by(session: Session, rows: FromClause, key: str | None = None) -> dict[Any, Counts]:
    group: ColumnElement[Any] = rows.c[key] if key else literal(0)
    result = session.execute(select(group.label("g"), *_count_columns(rows)).group_by(group)).all()
    return {row.g: Counts(**{name: int(getattr(row, name)) for name in COUNT_KEYS}) for row in result}


@dataclass(frozen=True)
class PlaceCounts:
    """Counts overall, per organisation and per area (in the order of the areas' keys)."""

    overall: Counts
    by_organisation: dict[Any, Counts]
    by_area: dict[Any, Counts]


def _added(parts: list[Counts]) -> Counts:
    return Counts(**{name: sum(getattr(part, name) for part in parts) for name in COUNT_KEYS})


def counts_by_place(session: Session, rows: FromClause) -> PlaceCounts:
    """The counts of ``rows`` overall, per organisation and per area in one statement: the database counts each
    organisation's (in its area), and those are added up here."""
    by_place = session.execute(
        select(rows.c.organisation, rows.c.area, *_count_columns(rows)).group_by(rows.c.organisation, rows.c.area)
    ).all()
    by_organisation: dict[Any, list[Counts]] = {}
    by_area: dict[Any, list[Counts]] = {}
    for row in by_place:
        counts = Counts(**{name: int(getattr(row, name)) for name in COUNT_KEYS})
        by_organisation.setdefault(row.organisation, []).append(counts)
        by_area.setdefault(row.area, []).append(counts)
    return PlaceCounts(
        overall=_added([counts for parts in by_organisation.values() for counts in parts]) if by_place else NO_COUNTS,
        by_organisation={organisation: _added(parts) for organisation, parts in by_organisation.items()},
        by_area={area: _added(by_area[area]) for area in sorted(by_area, key=str)},
    )


def as_seconds(rows: FromClause, column: str) -> Subquery:
    return select(rows.c.organisation, rows.c.area, rows.c[column].label("seconds")).subquery()


def by_channel(session: Session, measured: Measures) -> list[ChannelFigures]:
    """Per channel, in one statement: messages of the alert round (not reminders), how many got through, failed,
    and their times (of those that got through)."""
    messages = measured.messages.where(measured.messages.selected_columns.kind == "alert").subquery()
    through = messages.c.state.in_(REACHED)
    seconds = case((through, messages.c.seconds)).label("seconds")
    figures = select(messages.c.channel, messages.c.state, seconds).subquery()
    ranked = (
        select(
            figures,
            func.row_number()
            .over(partition_by=(figures.c.channel, figures.c.seconds.is_(None)), order_by=figures.c.seconds)
            .label("rn"),
            func.count(figures.c.seconds).over(partition_by=figures.c.channel).label("n"),
        )
    ).subquery()
    has_time = ranked.c.seconds.is_not(None)
    rows: Sequence[Any] = session.execute(
        select(
            ranked.c.channel,
            func.count(),
            func.count().filter(ranked.c.state.in_(REACHED)),
            func.count().filter(ranked.c.state == "delivered"),
            func.count().filter(ranked.c.state == "failed"),
            func.count(ranked.c.seconds),
            func.max(case((and_(has_time, ranked.c.rn == (ranked.c.n + 1) // 2), ranked.c.seconds))),
            func.max(case((and_(has_time, ranked.c.rn == (ranked.c.n * 9 + 9) // 10), ranked.c.seconds))),
            func.max(ranked.c.seconds),
        ).group_by(ranked.c.channel)
    ).all()
    return [
        ChannelFigures(
            channel=channel,
            messages=count,
            sent=sent,
            receipts=channel in RECEIPT_CHANNELS,
            delivered=delivered if channel in RECEIPT_CHANNELS else None,
            failed=failed,
            delivery_seconds=_times_of(timed, median, p90, slowest) if timed else NO_TIMES,
        )
        for channel, count, sent, delivered, failed, timed, median, p90, slowest in sorted(
            rows, key=lambda row: str(row[0])
        )
    ]


def poll(session: Session, rows: FromClause) -> dict[int, int]:
    result: Sequence[Any] = session.execute(
        select(rows.c.response, func.count()).where(rows.c.response.is_not(None)).group_by(rows.c.response)
    ).all()
    return {int(response): int(count) for response, count in result}


def curve(session: Session, rows: FromClause) -> dict[str | None, dict[int, int]]:
    """Acknowledgements per whole minute since their alert, per area (``None``: outside the three areas)."""
    minute = floor_divide(rows.c.ack_seconds, 60).label("minute")
    result: Sequence[Any] = session.execute(
        select(rows.c.area, minute, func.count()).where(rows.c.ack_seconds.is_not(None)).group_by(rows.c.area, minute)
    ).all()
    buckets: dict[str | None, dict[int, int]] = {}
    for area, at_minute, count in result:
        buckets.setdefault(area, {})[max(0, int(at_minute))] = int(count)
    return buckets
