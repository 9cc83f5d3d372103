"""Data access of the situation domain (keyword-only functions taking a session)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import ARRAY, ColumnElement, String, Table, any_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session

from contacts.models import Group, Membership, Person
from situation.config import IndicatorSpec
from situation.engine import Point, SeriesKey
from situation.models import (
    LatestObservation,
    Observation,
    Reaction,
    ReadinessDecision,
    RecommendationChange,
    Snapshot,
    StatusReport,
)

_observations = cast(Table, Observation.__table__)
_latest = cast(Table, LatestObservation.__table__)
Row = TypeVar("Row", ReadinessDecision, Reaction, StatusReport, Snapshot)


def in_scope(column: InstrumentedAttribute[int | None], drill_id: int | None) -> ColumnElement[bool]:
    """Rows of the real picture (``drill_id`` None), or of a drill's exercise picture: the real ones and the drill's."""
    if drill_id is None:
        return column.is_(None)
    return or_(column.is_(None), column == drill_id)


def _added(session: Session, row: Row) -> Row:
    """Add one row and flush, so that its id is known."""
    session.add(row)
    session.flush()
    return row


def _between(
    session: Session,
    model: type[ReadinessDecision] | type[RecommendationChange],
    at: InstrumentedAttribute[datetime],
    *,
    start: datetime,
    end: datetime,
    area_keys: Sequence[str] | None,
    scope: ColumnElement[bool] | None = None,
) -> Sequence[Any]:
    """The rows of ``model`` whose time ``at`` falls in [start, end), for these areas (all when None), in order."""
    query = select(model).where(at >= start, at < end)
    if scope is not None:
        query = query.where(scope)
    if area_keys is not None:
        query = query.where(model.area_key.in_(area_keys))
    return session.scalars(query.order_by(at, model.id)).all()


# Observations -------------------------------------------------------------------------------------------------


def known_source_ids(session: Session, *, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Those (source, source id) pairs that are stored already: per source, its ids in one list (an index range
    scan of the unique (source, source id) index; a list of pairs made PostgreSQL test each pair against each row)."""
    by_source: dict[str, set[str]] = defaultdict(set)
    for source, source_id in pairs:
        by_source[source].add(source_id)
    found: set[tuple[str, str]] = set()
    for source, source_ids in by_source.items():
        wanted = sorted(source_ids)
        for start in range(0, len(wanted), 1000):
            stored = session.connection().execute(
                select(Observation.source_id).where(
                    Observation.source == source, _one_of(session, Observation.source_id, wanted[start : start + 1000])
                )
            )
            found.update((source, source_id) for (source_id,) in stored if source_id is not None)
    return found


def _one_of(session: Session, column: InstrumentedAttribute[str | None], values: list[str]) -> ColumnElement[bool]:
    """``column IN (values)``; on PostgreSQL ``column = ANY(:array)``, one parameter however many values (a thousand
    parameters cost more to render and send than the lookup itself)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(String)))
    return column.in_(values)


# Each observation's own values; who reported them, when, and for which drill are one value for the whole request.
OBSERVATION_VALUES = ("indicator_key", "area_key", "value", "observed_at", "source", "source_id")
REQUEST_VALUES = ("received_at", "reported_by", "drill_id")


def insert_observations(
    session: Session,
    *,
    rows: list[dict[str, Any]],
    received_at: datetime,
    reported_by: str,
    drill_id: int | None = None,
) -> None:
    """Bulk insert in one statement of ``rows`` (``OBSERVATION_VALUES``); a row whose (source, source id) another
    transaction stored meanwhile is skipped. An exercise's observations (``drill_id``) are not the real picture's
    latest values."""
    if not rows:
        return
    request = {"received_at": received_at, "reported_by": reported_by, "drill_id": drill_id}
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        columns = {name: [row[name] for row in rows] for name in OBSERVATION_VALUES}
        connection.execute(_insert_from_arrays(), {**columns, **request})
    else:  # SQLite runs one prepared statement over every row
        statement = sqlite.insert(_observations).on_conflict_do_nothing(index_elements=["source", "source_id"])
        connection.execute(statement, [{**row, **request} for row in rows])
    if drill_id is None:
        _refresh_latest(session, rows=rows)


@cache
def _insert_from_arrays() -> Any:
    """PostgreSQL's INSERT … SELECT FROM unnest(an array per observation value) ON CONFLICT DO NOTHING: one
    statement with one parameter per column, however many rows (an executemany sent a statement per row)."""
    same = [bindparam(name, type_=_observations.c[name].type) for name in REQUEST_VALUES]
    return (
        postgresql.insert(_observations)
        .from_select(
            [*OBSERVATION_VALUES, *REQUEST_VALUES], select(*_arrays(_observations, OBSERVATION_VALUES).c, *same)
        )
        .on_conflict_do_nothing(index_elements=["source", "source_id"])
    )


def _arrays(table: Table, names: Sequence[str]) -> Any:
    """Rows from one array parameter per column (each named as its column): ``unnest(:a, :b, …) AS (a, b, …)``."""
    arrays = [bindparam(name, type_=ARRAY(table.c[name].type)) for name in names]
    return func.unnest(*arrays).table_valued(*names).render_derived()


LATEST_VALUES = ("indicator_key", "area_key", "value", "observed_at", "source")


def _refresh_latest(session: Session, *, rows: list[dict[str, Any]]) -> None:
    """The newest of these rows replaces its series' latest value unless that is newer."""
    newest: dict[SeriesKey, dict[str, Any]] = {}
    for row in rows:
        key = (row["indicator_key"], row["area_key"])
        if key not in newest or row["observed_at"] >= newest[key]["observed_at"]:
            newest[key] = row
    connection = session.connection()
    if connection.dialect.name == "postgresql":  # one statement, one array per column
        columns = {name: [row[name] for row in newest.values()] for name in LATEST_VALUES}
        connection.execute(_latest_upsert("postgresql"), columns)
    else:
        values = [{name: row[name] for name in LATEST_VALUES} for row in newest.values()]
        connection.execute(_latest_upsert("sqlite"), values)


@cache
def _latest_upsert(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO UPDATE of the latest values, an older value never replacing a newer one; on
    PostgreSQL from one array per column."""
    statement: Any
    if dialect == "postgresql":
        statement = postgresql.insert(_latest).from_select(
            list(LATEST_VALUES), select(*_arrays(_latest, LATEST_VALUES).c)
        )
    else:
        statement = sqlite.insert(_latest)
    return statement.on_conflict_do_update(
        index_elements=["indicator_key", "area_key"],
        set_={
            "value": statement.excluded.value,
            "observed_at": statement.excluded.observed_at,
            "source": statement.excluded.source,
        },
        where=_latest.c.observed_at <= statement.excluded.observed_at,
    )


def latest_points(session: Session, *, drill_id: int | None = None) -> dict[SeriesKey, Point]:
    """The newest value of each series; in a drill's picture, the drill's own newer values replace the real ones."""
    latest = _latest_real_points(session)
    if drill_id is not None:
        for key, point in _latest_exercise_points(session, drill_id=drill_id).items():
            if key not in latest or point[0] >= latest[key][0]:
                latest[key] = point
    return latest


def _latest_exercise_points(session: Session, *, drill_id: int) -> dict[SeriesKey, Point]:
    rows = session.execute(
        select(Observation.indicator_key, Observation.area_key, Observation.observed_at, Observation.value)
        .where(Observation.drill_id == drill_id)
        .order_by(Observation.observed_at, Observation.id)
    ).all()
    return {(indicator, area): (at, value) for indicator, area, at, value in rows}


def _latest_real_points(session: Session) -> dict[SeriesKey, Point]:
    rows = (
        session.connection()
        .execute(
            select(
                LatestObservation.indicator_key,
                LatestObservation.area_key,
                LatestObservation.observed_at,
                LatestObservation.value,
            )
        )
        .all()
    )
    return {(indicator, area): (at, value) for indicator, area, at, value in rows}


def recent_points(
    session: Session, *, since: datetime, drill_id: int | None = None, only: Collection[SeriesKey] | None = None
) -> dict[SeriesKey, list[Point]]:
    """Every observation since ``since``, per series, oldest first (uses the observed_at index; Core rows, no ORM);
    with ``only``, of those series alone."""
    query = select(Observation.indicator_key, Observation.area_key, Observation.observed_at, Observation.value).where(
        Observation.observed_at >= since, in_scope(Observation.drill_id, drill_id)
    )
    if only is not None:
        query = query.where(
            Observation.indicator_key.in_(sorted({indicator for indicator, _ in only})),
            Observation.area_key.in_(sorted({area for _, area in only})),
        )
    rows = session.connection().execute(query.order_by(Observation.observed_at, Observation.id)).all()
    series: dict[SeriesKey, list[Point]] = defaultdict(list)
    for indicator, area, at, value in rows:
        if only is None or (indicator, area) in only:
            series[(indicator, area)].append((at, value))
    return series


def recent_extremes(session: Session, *, since: datetime) -> dict[SeriesKey, tuple[float, float]]:
    """The lowest and the highest real value of each series since ``since``, added up in the database."""
    rows = session.connection().execute(
        select(
            Observation.indicator_key, Observation.area_key, func.min(Observation.value), func.max(Observation.value)
        )
        .where(Observation.observed_at >= since, Observation.drill_id.is_(None))
        .group_by(Observation.indicator_key, Observation.area_key)
    )
    return {(indicator, area): (lowest, highest) for indicator, area, lowest, highest in rows}


def run_start(
    session: Session, *, indicator: IndicatorSpec, area_key: str, threshold: float, drill_id: int | None = None
) -> datetime | None:
    """When the latest unbroken run of values at or beyond ``threshold`` began (None: no value reached it)."""
    worse = (
        Observation.value >= threshold if indicator.direction == "higher_is_worse" else (Observation.value <= threshold)
    )
    series = select(Observation.observed_at).where(
        Observation.indicator_key == indicator.key,
        Observation.area_key == area_key,
        in_scope(Observation.drill_id, drill_id),
    )
    last_worse = session.scalar(series.where(worse).order_by(Observation.observed_at.desc()).limit(1))
    if last_worse is None:
        return None
    last_better = session.scalar(
        series.where(~worse, Observation.observed_at < last_worse).order_by(Observation.observed_at.desc()).limit(1)
    )
    first = series.where(worse)
    if last_better is not None:
        first = first.where(Observation.observed_at > last_better)
    return session.scalar(first.order_by(Observation.observed_at).limit(1))


def observations_between(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    area_keys: Sequence[str] | None,
    indicator_key: str | None,
    limit: int,
) -> tuple[Sequence[Observation], int]:
    query = select(Observation).where(
        Observation.observed_at >= start, Observation.observed_at < end, Observation.drill_id.is_(None)
    )
    if area_keys is not None:
        query = query.where(Observation.area_key.in_(area_keys))
    if indicator_key is not None:
        query = query.where(Observation.indicator_key == indicator_key)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Observation.observed_at, Observation.id).limit(limit)).all()
    return rows, total


# Decisions and reactions --------------------------------------------------------------------------------------


def current_decisions(session: Session, *, drill_id: int | None = None) -> dict[str, ReadinessDecision]:
    """The latest real decision of each area; in a drill's picture, the drill's own latest decision where it made
    one."""
    decided = _latest_decisions(session, ReadinessDecision.drill_id.is_(None))
    if drill_id is not None:
        decided |= _latest_decisions(session, ReadinessDecision.drill_id == drill_id)
    return decided


def _latest_decisions(session: Session, scope: ColumnElement[bool]) -> dict[str, ReadinessDecision]:
    newest = (
        select(ReadinessDecision.area_key, func.max(ReadinessDecision.id).label("id"))
        .where(scope)
        .group_by(ReadinessDecision.area_key)
        .subquery()
    )
    rows = session.scalars(select(ReadinessDecision).join(newest, ReadinessDecision.id == newest.c.id)).all()
    return {row.area_key: row for row in rows}


def add_decision(session: Session, **fields: Any) -> ReadinessDecision:
    return _added(session, ReadinessDecision(**fields))


def decisions_between(
    session: Session, *, start: datetime, end: datetime, area_keys: Sequence[str] | None
) -> Sequence[ReadinessDecision]:
    """Real decisions only (a drill's are in its report)."""
    at, real = ReadinessDecision.decided_at, ReadinessDecision.drill_id.is_(None)
    return _between(session, ReadinessDecision, at, start=start, end=end, area_keys=area_keys, scope=real)


def decisions_of_drill(session: Session, *, drill_id: int) -> Sequence[ReadinessDecision]:
    return session.scalars(
        select(ReadinessDecision).where(ReadinessDecision.drill_id == drill_id).order_by(ReadinessDecision.id)
    ).all()


def add_reaction(session: Session, **fields: Any) -> Reaction:
    return _added(session, Reaction(**fields))


def people_in_groups(session: Session, *, group_keys: Sequence[str]) -> int:
    """How many active people belong to any of these groups (each once): whom a reaction rule would alert."""
    if not group_keys:
        return 0
    members = (
        select(Membership.person_id)
        .join(Group, Group.id == Membership.group_id)
        .join(Person, Person.id == Membership.person_id)
        .where(Group.key.in_(group_keys), Person.active.is_(True))
        .distinct()
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(members)) or 0


def reactions_of(session: Session, *, decision_id: int) -> Sequence[Reaction]:
    return session.scalars(select(Reaction).where(Reaction.decision_id == decision_id).order_by(Reaction.id)).all()


def due_reaction_ids(session: Session, *, now: datetime, decision_id: int | None = None) -> list[int]:
    query = select(Reaction.id).where(
        Reaction.status == "pending",
        Reaction.next_attempt_at <= now,
        or_(Reaction.claimed_until.is_(None), Reaction.claimed_until < now),
    )
    if decision_id is not None:
        query = query.where(Reaction.decision_id == decision_id)
    return list(session.scalars(query.order_by(Reaction.id)))


def claim_reaction(session: Session, *, reaction_id: int, now: datetime, lease: timedelta) -> bool:
    """Atomically take a due reaction for ``lease``; False if another process holds it or it is done."""
    result = session.execute(
        update(Reaction)
        .where(
            Reaction.id == reaction_id,
            Reaction.status == "pending",
            Reaction.next_attempt_at <= now,
            or_(Reaction.claimed_until.is_(None), Reaction.claimed_until < now),
        )
        .values(claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def get_reaction(session: Session, *, reaction_id: int) -> Reaction | None:
    return session.get(Reaction, reaction_id)


def get_decision(session: Session, *, decision_id: int) -> ReadinessDecision | None:
    return session.get(ReadinessDecision, decision_id)


# Status reports, recommendations, snapshots -------------------------------------------------------------------


def add_status_report(session: Session, **fields: Any) -> StatusReport:
    return _added(session, StatusReport(**fields))


def latest_status_reports(session: Session) -> dict[str, StatusReport]:
    newest = (
        select(StatusReport.area_key, func.max(StatusReport.id).label("id")).group_by(StatusReport.area_key).subquery()
    )
    rows = session.scalars(select(StatusReport).join(newest, StatusReport.id == newest.c.id)).all()
    return {row.area_key: row for row in rows}


def latest_recommendations(session: Session) -> dict[str, str | None]:
    newest = (
        select(RecommendationChange.area_key, func.max(RecommendationChange.id).label("id"))
        .group_by(RecommendationChange.area_key)
        .subquery()
    )
    rows = session.execute(
        select(RecommendationChange.area_key, RecommendationChange.level).join(
            newest, RecommendationChange.id == newest.c.id
        )
    ).all()
    return {area: level for area, level in rows}


def add_recommendation_changes(session: Session, *, rows: list[dict[str, Any]]) -> None:
    session.add_all(RecommendationChange(**row) for row in rows)


def recommendation_changes_between(
    session: Session, *, start: datetime, end: datetime, area_keys: Sequence[str] | None
) -> Sequence[RecommendationChange]:
    at = RecommendationChange.changed_at
    return _between(session, RecommendationChange, at, start=start, end=end, area_keys=area_keys)


def add_snapshot(session: Session, **fields: Any) -> Snapshot:
    return _added(session, Snapshot(**fields))


def get_snapshot(session: Session, *, snapshot_id: int) -> Snapshot | None:
    return session.get(Snapshot, snapshot_id)


def list_snapshots(
    session: Session, *, limit: int, offset: int, drill_id: int | None = None
) -> tuple[Sequence[Snapshot], int]:
    """The real picture's snapshots, or one drill's."""
    scope = Snapshot.drill_id.is_(None) if drill_id is None else Snapshot.drill_id == drill_id
    total = session.scalar(select(func.count(Snapshot.id)).where(scope)) or 0
    rows = session.scalars(select(Snapshot).where(scope).order_by(Snapshot.id.desc()).limit(limit).offset(offset)).all()
    return rows, total
