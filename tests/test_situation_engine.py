"""The recommendation engine on its own: thresholds, staleness, hysteresis, combination, sub-areas, monotonicity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from situation.areas import AreaTree, build_area_tree
from situation.config import IndicatorSpec, ReadinessConfig, load_readiness_config, rank
from situation.engine import (
    Point,
    SeriesKey,
    compute_picture,
    compute_recommendations,
    evaluate_series,
    level_of,
    may_be_held,
    with_since,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
MUNICIPALITIES = [
    ("halsua", "Halsua", None, "Perhonjokilaakso"),
    ("kannus", "Kannus", None, "Lestijokilaakso"),
    ("kaustinen", "Kaustinen", "Kaustby", "Perhonjokilaakso"),
    ("kokkola", "Kokkola", "Karleby", "Kokkola"),
    ("lestijarvi", "Lestijärvi", None, "Lestijokilaakso"),
    ("perho", "Perho", None, "Perhonjokilaakso"),
    ("toholampi", "Toholampi", None, "Lestijokilaakso"),
    ("veteli", "Veteli", "Vetil", "Perhonjokilaakso"),
]


def config() -> ReadinessConfig:
    return load_readiness_config()


def tree() -> AreaTree:
    return build_area_tree([(key, {"fi": fi, "sv": sv or fi, "en": fi}, area) for key, fi, sv, area in MUNICIPALITIES])


def indicator(key: str) -> IndicatorSpec:
    return config().indicator_map()[key]


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def evaluate(key: str, points: list[Point]) -> str | None:
    return evaluate_series(indicator(key), "x", points[-1] if points else None, points, config=config(), now=NOW).level


def test_level_of_respects_the_direction_of_an_indicator() -> None:
    power = indicator("power_outage_customers")  # higher is worse: 10 / 30
    assert [level_of(power, v) for v in (0, 9.99, 10, 29.9, 30, 100)] == [
        "perusvalmius",
        "perusvalmius",
        "tehostettu_valmius",
        "tehostettu_valmius",
        "taysvalmius",
        "taysvalmius",
    ]
    network = indicator("mobile_network_availability")  # lower is worse: 90 / 70
    assert [level_of(network, v) for v in (100, 90.1, 90, 70.1, 70, 0)] == [
        "perusvalmius",
        "perusvalmius",
        "tehostettu_valmius",
        "tehostettu_valmius",
        "taysvalmius",
        "taysvalmius",
    ]


def test_missing_or_stale_is_unknown() -> None:
    assert evaluate("power_outage_customers", []) is None
    assert evaluate("power_outage_customers", [(ago(61), 50.0)]) is None
    assert evaluate("power_outage_customers", [(ago(59), 50.0)]) == "taysvalmius"


def test_hysteresis_releases_only_after_the_hold_time_below_the_margin() -> None:
    # thresholds 10 % (power) and 5 % (water), margin 10 % -> 9 and 4.5; hold 360 minutes
    assert evaluate("power_outage_customers", [(ago(50), 12.0), (ago(30), 8.0)]) == "tehostettu_valmius"
    assert (
        evaluate("water_supply_disruption", [(ago(400), 6.0), (ago(350), 3.0), (ago(9), 3.0)]) == "tehostettu_valmius"
    )
    assert evaluate("water_supply_disruption", [(ago(400), 6.0), (ago(361), 3.0), (ago(9), 3.0)]) == "perusvalmius"
    # a value within the margin restarts the hold clock
    within_margin = [(ago(700), 6.0), (ago(650), 3.0), (ago(300), 4.6), (ago(200), 3.0)]
    assert evaluate("water_supply_disruption", within_margin) == "tehostettu_valmius"
    # a value in the margin band that never reached the threshold does not raise
    assert evaluate("water_supply_disruption", [(ago(10), 4.8)]) == "perusvalmius"


def picture_for(values: dict[SeriesKey, float]) -> dict[str, str]:
    latest = {key: (ago(1), value) for key, value in values.items()}
    recent = {key: [point] for key, point in latest.items()}
    pictures = compute_picture(tree(), config(), latest=latest, recent=recent, now=NOW, since_lookup=lambda *_: None)
    return {key: picture.recommendation.level for key, picture in pictures.items()}


def test_three_indicators_at_a_level_raise_one_level_and_sub_areas_raise_parents() -> None:
    two = picture_for({("power_outage_customers", "perho"): 12, ("water_supply_disruption", "perho"): 6})
    assert two["perho"] == "tehostettu_valmius"
    assert two["Perhonjokilaakso"] == "tehostettu_valmius"
    assert two["region"] == "tehostettu_valmius"
    assert two["kokkola"] is None  # nothing known of Kokkola
    three = picture_for(
        {
            ("power_outage_customers", "perho"): 12,
            ("water_supply_disruption", "perho"): 6,
            ("evacuated_residents", "perho"): 60,
        }
    )
    assert three["perho"] == "taysvalmius"
    assert three["region"] == "taysvalmius"
    # a region-wide indicator applies to every municipality
    region_wide = picture_for({("icu_occupancy", "region"): 90})
    assert set(region_wide.values()) == {"tehostettu_valmius"}


def test_the_projection_names_the_next_threshold_and_the_level_that_would_follow() -> None:
    key = ("fuel_supply_days", "region")  # lower is worse: 7 / 3; falling one day a day
    points = [(ago(60 * h), 8.0 + h / 24) for h in (10, 5, 0)]
    pictures = compute_picture(
        tree(),
        config(),
        latest={key: points[-1]},
        recent={key: points},
        now=NOW,
        since_lookup=lambda *_: None,
    )
    (anticipated,) = pictures["region"].anticipation
    status, level_then = anticipated
    assert status.projection is not None
    assert status.projection.next_level == "tehostettu_valmius"
    assert abs(status.projection.crosses_at - (NOW + timedelta(hours=24))) < timedelta(minutes=1)
    assert level_then == "tehostettu_valmius"


SERIES: list[SeriesKey] = [
    ("power_outage_customers", "kokkola"),
    ("water_supply_disruption", "kokkola"),
    ("mobile_network_availability", "halsua"),
    ("evacuated_residents", "kannus"),
    ("icu_occupancy", "region"),
    ("fuel_supply_days", "region"),
]
# a "badness" in 0..100 per series, turned into a value in the indicator's direction
badness = st.lists(st.floats(0, 100), min_size=len(SERIES), max_size=len(SERIES))


def value_for(key: str, bad: float) -> float:
    spec = indicator(key)
    return bad if spec.direction == "higher_is_worse" else 100 - bad


def history_for(bads: list[list[float]]) -> tuple[dict[SeriesKey, Point], dict[SeriesKey, list[Point]]]:
    recent: dict[SeriesKey, list[Point]] = {}
    for index, key in enumerate(SERIES):
        recent[key] = [
            (ago(50 * (len(bads) - step)), value_for(key[0], bads[step][index])) for step in range(len(bads))
        ]
    return {key: points[-1] for key, points in recent.items()}, recent


def levels_of(bads: list[list[float]]) -> dict[str, int]:
    latest, recent = history_for(bads)
    pictures = compute_picture(tree(), config(), latest=latest, recent=recent, now=NOW, since_lookup=lambda *_: None)
    return {key: rank(picture.recommendation.level) for key, picture in pictures.items()}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(badness, min_size=1, max_size=6), st.lists(st.floats(0, 40), min_size=len(SERIES), max_size=len(SERIES))
)
def test_worse_values_never_lower_a_recommendation(history: list[list[float]], worsening: list[float]) -> None:
    worse = [[min(100.0, bad + extra) for bad, extra in zip(step, worsening, strict=True)] for step in history]
    before = levels_of(history)
    after = levels_of(worse)
    assert all(after[area] >= before[area] for area in before), (before, after)


@settings(max_examples=100, deadline=None)
@given(badness)
def test_a_parent_is_never_recommended_lower_than_its_sub_areas(bads: list[float]) -> None:
    levels = levels_of([bads])
    area_tree = tree()
    for area in area_tree.areas.values():
        for child in area_tree.children(area.key):
            assert levels[area.key] >= levels[child.key]


@settings(max_examples=200, deadline=None)
@given(st.lists(badness, min_size=1, max_size=12), st.integers(0, 900))
def test_the_recommendations_alone_are_the_pictures_from_the_series_hysteresis_may_hold(
    history: list[list[float]], minutes_since_last: int
) -> None:
    """What the recommendation history records (``compute_recommendations`` with the recent values of only the
    series ``may_be_held`` names, the run starts added by ``with_since``) is what the whole picture recommends."""
    latest, recent = history_for(history)
    shift = timedelta(minutes=minutes_since_last)  # some series go stale, some holds end
    latest = {key: (at - shift, value) for key, (at, value) in latest.items()}
    recent = {key: [(at - shift, value) for at, value in points] for key, points in recent.items()}

    def since_lookup(spec: IndicatorSpec, area: str, threshold: float) -> datetime:
        return NOW - timedelta(minutes=len(spec.key) + len(area) + threshold)

    shipped, area_tree = config(), tree()
    pictures = compute_picture(area_tree, shipped, latest=latest, recent=recent, now=NOW, since_lookup=since_lookup)
    extremes = {key: (min(v for _, v in points), max(v for _, v in points)) for key, points in recent.items()}
    held = {key for key in SERIES if may_be_held(indicator(key[0]), latest[key], extremes[key], now=NOW)}
    alone = compute_recommendations(
        area_tree, shipped, latest=latest, recent={key: recent[key] for key in held}, now=NOW
    )
    indicators = shipped.indicator_map()
    assert {
        key: (rec.level, [with_since(reason, indicators, since_lookup).as_dict() for reason in rec.reasons])
        for key, rec in alone.items()
    } == {
        key: (p.recommendation.level, [reason.as_dict() for reason in p.recommendation.reasons])
        for key, p in pictures.items()
    }


def test_an_area_scoped_indicator_applies_to_the_area_and_its_municipalities_only() -> None:
    shipped = config()
    river = IndicatorSpec(
        key="river_level",
        names={"fi": "Joen vedenkorkeus", "sv": "Vattenstånd", "en": "River level"},
        domain="water",
        unit="cm",
        direction="higher_is_worse",
        thresholds={"tehostettu_valmius": 150, "taysvalmius": 250},
        scope="area",
        freshness_minutes=60,
    )
    with_river = shipped.model_copy(update={"indicators": [*shipped.indicators, river]})
    area_tree = tree()
    assert area_tree.series_area("perho", "area") == "Perhonjokilaakso"
    assert area_tree.series_area("region", "area") is None
    key = ("river_level", "Perhonjokilaakso")
    pictures = compute_picture(
        area_tree,
        with_river,
        latest={key: (ago(5), 180.0)},
        recent={key: [(ago(5), 180.0)]},
        now=NOW,
        since_lookup=lambda *_: None,
    )
    levels = {area: picture.recommendation.level for area, picture in pictures.items()}
    assert {levels[m] for m in ("halsua", "kaustinen", "perho", "veteli", "Perhonjokilaakso", "region")} == {
        "tehostettu_valmius"
    }
    assert {levels[m] for m in ("kokkola", "kannus", "Kokkola", "Lestijokilaakso")} == {None}  # no data
    assert [r.rule for r in pictures["region"].recommendation.reasons] == ["sub_areas"]
