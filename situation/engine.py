"""The recommendation engine: from indicator values to a recommended readiness level per area, with reasons.

Pure functions over plain data (no database), so that the rules can be tested exhaustively. The rules:

1. Threshold: an indicator's level is the highest level whose threshold its latest value reaches.
2. Hysteresis: a level reached recently holds until the values since have stayed below its threshold by the
   margin for ``hold_minutes``.
3. Staleness: a value older than the indicator's freshness window makes it unknown (never fine).
4. Combination: ``indicators_to_raise`` indicators at one raised level raise the area one level further.
5. Sub-areas: a parent is recommended at least the level ``sub_areas_to_raise_parent`` of its sub-areas are.
6. No data, no recommendation: an area none of whose indicators (its own, or its sub-areas') has a fresh value has
   no recommended level (``None``), never a reassuring basic level; its coverage says how much of it is known.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from situation.areas import AreaTree
from situation.config import BASE_LEVEL, LEVEL_ORDER, RAISED_LEVELS, IndicatorSpec, LevelKey, ReadinessConfig, rank

SeriesKey = tuple[str, str]
Point = tuple[datetime, float]
SinceLookup = Callable[[IndicatorSpec, str, float], datetime | None]


@dataclass(frozen=True)
class Projection:
    next_level: LevelKey
    threshold: float
    slope_per_hour: float
    crosses_at: datetime


@dataclass(frozen=True)
class SeriesStatus:
    """One indicator in one area, as the picture shows it."""

    indicator: IndicatorSpec
    area_key: str
    status: str  # "ok", "raised" or "unknown"
    level: LevelKey | None
    value: float | None = None
    observed_at: datetime | None = None
    threshold: float | None = None
    held: bool = False
    since: datetime | None = None
    trend_per_hour: float | None = None
    projection: Projection | None = None

    @property
    def key(self) -> SeriesKey:
        return (self.indicator.key, self.area_key)


@dataclass(frozen=True)
class Reason:
    rule: str  # "threshold", "hysteresis", "combination" or "sub_areas"
    level: LevelKey
    indicator: str | None = None
    area: str | None = None
    value: float | None = None
    threshold: float | None = None
    since: datetime | None = None
    sources: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "level": self.level,
            "indicator": self.indicator,
            "area": self.area,
            "value": self.value,
            "threshold": self.threshold,
            "since": self.since.isoformat() if self.since else None,
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class Recommendation:
    level: LevelKey | None  # None: no indicator of the area has a fresh value
    reasons: list[Reason] = field(default_factory=list)


@dataclass(frozen=True)
class Coverage:
    """How much of an area's picture is known: series with a fresh value, of the series that describe it."""

    current: int
    total: int


def level_of(indicator: IndicatorSpec, value: float, *, margin_percent: float = 0.0) -> LevelKey:
    """The highest level whose threshold ``value`` reaches (eased by the hysteresis margin when one is given)."""
    return LEVEL_ORDER[_rank_function(indicator, margin_percent)(value)]


def threshold_of(indicator: IndicatorSpec, level: LevelKey) -> float | None:
    return dict(indicator.thresholds.items()).get(level)


def evaluate_series(
    indicator: IndicatorSpec,
    area_key: str,
    latest: Point | None,
    recent: list[Point],
    *,
    config: ReadinessConfig,
    now: datetime,
) -> SeriesStatus:
    """The level of one series (``series_level``), with the trend of its recent values and where the trend leads."""
    status = series_level(indicator, area_key, latest, recent, config=config, now=now)
    if latest is None or status.status == "unknown":
        return status
    slope = trend_per_hour(recent, config=config, now=now)
    raw = level_of(indicator, latest[1])
    return replace(status, trend_per_hour=slope, projection=project(indicator, latest, raw, slope, config=config))


def series_level(
    indicator: IndicatorSpec,
    area_key: str,
    latest: Point | None,
    recent: list[Point],
    *,
    config: ReadinessConfig,
    now: datetime,
) -> SeriesStatus:
    """The level of one series: unknown when missing or stale, otherwise threshold plus hysteresis."""
    if latest is None or is_stale(indicator, latest, now=now):
        return SeriesStatus(
            indicator,
            area_key,
            "unknown",
            None,
            value=None if latest is None else latest[1],
            observed_at=None if latest is None else latest[0],
        )
    observed_at, value = latest
    raw = level_of(indicator, value)
    level = held_level(indicator, raw, recent, config=config, now=now)
    return SeriesStatus(
        indicator,
        area_key,
        "raised" if level != BASE_LEVEL else "ok",
        level,
        value=value,
        observed_at=observed_at,
        threshold=threshold_of(indicator, level),
        held=rank(level) > rank(raw),
    )


def is_stale(indicator: IndicatorSpec, latest: Point, *, now: datetime) -> bool:
    return latest[0] < now - timedelta(minutes=indicator.freshness_minutes)


def may_be_held(
    indicator: IndicatorSpec, latest: Point | None, extremes: tuple[float, float], *, now: datetime
) -> bool:
    """Whether hysteresis could hold a series above its latest value's level, given the lowest and the highest of
    its recent values: only if it is fresh and its worst recent value reached a higher level than its latest (the
    thresholds are ordered, so the worst value has the highest level). Otherwise ``held_level`` needs none of its
    recent values."""
    if latest is None or is_stale(indicator, latest, now=now):
        return False
    worst = extremes[1] if indicator.direction == "higher_is_worse" else extremes[0]
    return rank(level_of(indicator, worst)) > rank(level_of(indicator, latest[1]))


def _rank_function(indicator: IndicatorSpec, margin_percent: float) -> Callable[[float], int]:
    """``rank(level_of(indicator, value, margin_percent=…))`` with the thresholds worked out once."""
    eased = []
    for level, threshold in indicator.thresholds.items():
        margin = 0.0
        if margin_percent:
            margin = (
                indicator.hysteresis_margin
                if indicator.hysteresis_margin is not None
                else abs(threshold) * margin_percent / 100
            )
        eased.append(
            (rank(level), threshold - margin if indicator.direction == "higher_is_worse" else threshold + margin)
        )
    higher = indicator.direction == "higher_is_worse"

    def rank_of(value: float) -> int:
        reached = 0
        for level_rank, threshold in eased:
            if (value >= threshold) if higher else (value <= threshold):
                reached = level_rank
        return reached

    return rank_of


def held_level(
    indicator: IndicatorSpec, raw: LevelKey, recent: list[Point], *, config: ReadinessConfig, now: datetime
) -> LevelKey:
    """The level hysteresis keeps: a level reached within the recent values holds until every value since has
    stayed below its threshold by the margin for ``hold_minutes``."""
    raw_rank = _rank_function(indicator, 0.0)
    raw_ranks = [raw_rank(v) for _, v in recent]
    if max(raw_ranks, default=0) <= rank(raw):
        return raw
    hold = timedelta(minutes=config.hysteresis.hold_minutes)
    eased_rank = _rank_function(indicator, config.hysteresis.margin_percent)
    for level in reversed(RAISED_LEVELS):
        if rank(level) <= rank(raw):
            break
        reached = [i for i, r in enumerate(raw_ranks) if r >= rank(level)]
        if not reached:
            continue
        clear_since: datetime | None = None
        for at, v in recent[reached[-1] + 1 :]:
            if eased_rank(v) >= rank(level):
                clear_since = None
            elif clear_since is None:
                clear_since = at
        if clear_since is None or now - clear_since < hold:
            return level
    return raw


def trend_per_hour(recent: list[Point], *, config: ReadinessConfig, now: datetime) -> float | None:
    """The least-squares slope of the values in the trend window (None with too few values)."""
    window_start = now - timedelta(minutes=config.anticipation.trend_window_minutes)
    points = [(at, v) for at, v in recent if at >= window_start]
    if len(points) < config.anticipation.min_points:
        return None
    slope = _slope_per_hour(points)
    return slope if math.isfinite(slope) else None


def project(
    indicator: IndicatorSpec,
    latest: Point,
    raw: LevelKey,
    slope: float | None,
    *,
    config: ReadinessConfig,
) -> Projection | None:
    """When the trend, continued from the latest value, reaches the next threshold, if within the horizon."""
    next_levels = [(lvl, t) for lvl, t in indicator.thresholds.items() if rank(lvl) > rank(raw)]
    if slope is None or not next_levels:
        return None
    next_level, threshold = next_levels[0]
    towards_worse = slope > 0 if indicator.direction == "higher_is_worse" else slope < 0
    if not towards_worse:
        return None
    observed_at, value = latest
    hours = (threshold - value) / slope
    if not math.isfinite(hours) or hours <= 0 or hours > config.anticipation.horizon_hours:
        return None
    return Projection(next_level, threshold, slope, observed_at + timedelta(hours=hours))


def _slope_per_hour(points: list[Point]) -> float:
    """Least-squares slope of value against time in hours."""
    origin = points[0][0]
    xs = [(at - origin).total_seconds() / 3600 for at, _ in points]
    ys = [v for _, v in points]
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def expected_series(tree: AreaTree, config: ReadinessConfig, area_key: str) -> list[tuple[IndicatorSpec, str]]:
    """The (indicator, series area) pairs that describe ``area_key`` itself (its own and enclosing scopes)."""
    pairs = []
    for indicator in config.indicators:
        series_area = tree.series_area(area_key, indicator.scope)
        if series_area is not None:
            pairs.append((indicator, series_area))
    return pairs


def recommend_area(
    statuses: list[SeriesStatus],
    sub_area_levels: dict[str, Recommendation],
    *,
    config: ReadinessConfig,
) -> Recommendation:
    """Combine the area's own indicator levels and its sub-areas' recommendations into one level with reasons."""
    known = [s for s in statuses if s.level is not None and s.level != BASE_LEVEL]
    base: LevelKey = BASE_LEVEL
    reasons: list[Reason] = []
    for status in sorted(known, key=lambda s: -rank(s.level or BASE_LEVEL)):
        assert status.level is not None
        if rank(status.level) > rank(base):
            base = status.level
        reasons.append(
            Reason(
                "hysteresis" if status.held else "threshold",
                status.level,
                indicator=status.indicator.key,
                area=status.area_key,
                value=status.value,
                threshold=status.threshold,
                since=status.since,
            )
        )
    base = _apply_combination(known, base, reasons, config=config)
    base = _apply_sub_areas(sub_area_levels, base, reasons, config=config)
    return Recommendation(base, reasons)


def _apply_combination(
    known: list[SeriesStatus], base: LevelKey, reasons: list[Reason], *, config: ReadinessConfig
) -> LevelKey:
    if base == BASE_LEVEL or base == LEVEL_ORDER[-1]:
        return base
    at_base = sorted(s.indicator.key for s in known if s.level is not None and rank(s.level) >= rank(base))
    if len(at_base) < config.combination.indicators_to_raise:
        return base
    raised = LEVEL_ORDER[rank(base) + 1]
    reasons.insert(0, Reason("combination", raised, sources=tuple(at_base)))
    return raised


def _apply_sub_areas(
    sub_area_levels: dict[str, Recommendation], base: LevelKey, reasons: list[Reason], *, config: ReadinessConfig
) -> LevelKey:
    for level in reversed(RAISED_LEVELS):
        if rank(level) <= rank(base):
            break
        reached = sorted(
            key for key, rec in sub_area_levels.items() if rec.level is not None and rank(rec.level) >= rank(level)
        )
        if len(reached) >= config.combination.sub_areas_to_raise_parent:
            reasons.insert(0, Reason("sub_areas", level, sources=tuple(reached)))
            return level
    return base


@dataclass(frozen=True)
class AreaPicture:
    area_key: str
    statuses: list[SeriesStatus]
    recommendation: Recommendation
    anticipation: list[tuple[SeriesStatus, LevelKey | None]]
    coverage: Coverage


def compute_picture(
    tree: AreaTree,
    config: ReadinessConfig,
    *,
    latest: dict[SeriesKey, Point],
    recent: dict[SeriesKey, list[Point]],
    now: datetime,
    since_lookup: SinceLookup,
) -> dict[str, AreaPicture]:
    """Every area's statuses, recommendation and anticipated changes, computed bottom-up."""
    statuses: dict[SeriesKey, SeriesStatus] = {}
    indicators = config.indicator_map()
    for indicator, series_area in all_series(tree, config):
        key = (indicator.key, series_area)
        statuses[key] = evaluate_series(
            indicator, series_area, latest.get(key), recent.get(key, []), config=config, now=now
        )
    for key, status in statuses.items():
        if status.level not in (None, BASE_LEVEL) and status.threshold is not None:
            statuses[key] = replace(status, since=since_lookup(indicators[key[0]], key[1], status.threshold))
    pictures = _recommend_bottom_up(tree, config, statuses)
    for area in tree.bottom_up():
        picture = pictures[area.key]
        subs = {child.key: pictures[child.key].recommendation for child in tree.children(area.key)}
        for status in picture.statuses:
            if status.projection is None:
                continue
            crossed = replace(status, level=status.projection.next_level, held=False)
            what_if = [crossed if s.key == status.key else s for s in picture.statuses]
            picture.anticipation.append((status, recommend_area(what_if, subs, config=config).level))
    return pictures


def compute_recommendations(
    tree: AreaTree,
    config: ReadinessConfig,
    *,
    latest: dict[SeriesKey, Point],
    recent: dict[SeriesKey, list[Point]],
    now: datetime,
) -> dict[str, Recommendation]:
    """Each area's recommendation as ``compute_picture`` makes it, bottom-up, without what the recommendation does
    not depend on: the trends, the anticipation and the reasons' ``since`` (None here; ``with_since`` adds it).
    ``recent`` need only hold the series ``may_be_held`` names."""
    statuses: dict[SeriesKey, SeriesStatus] = {}
    for indicator, series_area in all_series(tree, config):
        key = (indicator.key, series_area)
        statuses[key] = series_level(
            indicator, series_area, latest.get(key), recent.get(key, []), config=config, now=now
        )
    return {key: picture.recommendation for key, picture in _recommend_bottom_up(tree, config, statuses).items()}


def with_since(reason: Reason, indicators: dict[str, IndicatorSpec], since_lookup: SinceLookup) -> Reason:
    """A reason as ``compute_picture`` gives it: an indicator's level with the start of its run of values."""
    if reason.indicator is None or reason.area is None or reason.threshold is None:
        return reason
    return replace(reason, since=since_lookup(indicators[reason.indicator], reason.area, reason.threshold))


def all_series(tree: AreaTree, config: ReadinessConfig) -> list[tuple[IndicatorSpec, str]]:
    """Every (indicator, series area) pair that describes some area, each once."""
    pairs: dict[SeriesKey, tuple[IndicatorSpec, str]] = {}
    for area in tree.areas.values():
        for indicator, series_area in expected_series(tree, config, area.key):
            pairs.setdefault((indicator.key, series_area), (indicator, series_area))
    return list(pairs.values())


def _recommend_bottom_up(
    tree: AreaTree, config: ReadinessConfig, statuses: dict[SeriesKey, SeriesStatus]
) -> dict[str, AreaPicture]:
    """Each area's own statuses, coverage and recommendation (children before parents); no anticipation yet."""
    pictures: dict[str, AreaPicture] = {}
    covering: dict[str, set[SeriesKey]] = {}
    for area in tree.bottom_up():
        own = [statuses[(ind.key, sa)] for ind, sa in expected_series(tree, config, area.key)]
        children = tree.children(area.key)
        covering[area.key] = {s.key for s in own}.union(*(covering[child.key] for child in children))
        coverage = Coverage(
            current=sum(statuses[key].status != "unknown" for key in covering[area.key]),
            total=len(covering[area.key]),
        )
        subs = {child.key: pictures[child.key].recommendation for child in children}
        recommendation = recommend_area(own, subs, config=config) if coverage.current else Recommendation(None, [])
        pictures[area.key] = AreaPicture(area.key, own, recommendation, [], coverage)
    return pictures
