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
from typing import Any

from sqlalchemy import Column, ColumnElement, MetaData, Table, and_, case, func, insert, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import FromClause, Subquery

from alerting.models import RECEIPT_CHANNELS
from alueturva.db import floor_divide
from drills.measures import REACHED, Measures
from drills.report.schemas import NO_TIMES, ChannelFigures, Counts, Times


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def times_by(session: Session, rows: FromClause, key: str | None = None) -> dict[Any, Times]:
    """Median, 90th percentile and slowest of ``rows.c.seconds`` (nearest rank), per ``rows.c[key]`` (or overall)."""
    group: ColumnElement[Any] = rows.c[key] if key else literal(0)
    ranked = (
        select(
            group.label("g"),
            rows.c.seconds.label("s"),
            func.row_number().over(partition_by=group, order_by=rows.c.seconds).label("rn"),
            func.count().over(partition_by=group).label("n"),
        )
        .where(rows.c.seconds.is_not(None))
        .subquery()
    )
    result: Sequence[Any] = session.execute(
        select(
            ranked.c.g,
            func.count(),
            func.max(case((ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.s))),
            func.max(case((ranked.c.rn == (ranked.c.n * 9 + 9) // 10, ranked.c.s))),
            func.max(ranked.c.s),
        ).group_by(ranked.c.g)
    ).all()
    return {
        g: Times(count=int(n), median=_round(median), p90=_round(p90), max=_round(slowest))
        for g, n, median, p90, slowest in result
    }


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


def as_seconds(rows: FromClause, column: str) -> Subquery:
    return select(rows.c.organisation, rows.c.area, rows.c[column].label("seconds")).subquery()


def by_channel(session: Session, measured: Measures) -> list[ChannelFigures]:
    """Per channel: messages of the alert round (not reminders), how many got through, failed, and their times."""
    messages = measured.messages.where(measured.messages.selected_columns.kind == "alert").subquery()
    totals = session.execute(
        select(
            messages.c.channel,
            func.count(),
            func.count().filter(messages.c.state.in_(REACHED)),
            func.count().filter(messages.c.state == "delivered"),
            func.count().filter(messages.c.state == "failed"),
        ).group_by(messages.c.channel)
    ).all()
    reached = select(messages.c.channel, messages.c.seconds).where(messages.c.state.in_(REACHED)).subquery()
    times = times_by(session, reached, "channel")
    return [
        ChannelFigures(
            channel=channel,
            messages=count,
            sent=sent,
            receipts=channel in RECEIPT_CHANNELS,
            delivered=delivered if channel in RECEIPT_CHANNELS else None,
            failed=failed,
            delivery_seconds=times.get(channel, NO_TIMES),
        )
        for channel, count, sent, delivered, failed in sorted(totals, key=lambda row: str(row[0]))
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
