"""config/readiness.yaml is validated at start; a mistake names the file, line and key and stops the service."""

from __future__ import annotations

from pathlib import Path

import pytest

import situation.config
from alueturva.app.wiring import validate_configuration
from alueturva.config import ConfigError, config_path
from situation.config import load_readiness_config

SHIPPED = config_path("readiness.yaml").read_text(encoding="utf-8")


def broken(tmp_path: Path, old: str, new: str) -> Path:
    assert SHIPPED.count(old) >= 1, old
    path = tmp_path / "readiness.yaml"
    path.write_text(SHIPPED.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_the_shipped_file_has_a_documented_default_set_of_indicators() -> None:
    config = load_readiness_config()
    assert len(config.indicators) >= 10
    assert len({indicator.domain for indicator in config.indicators}) >= 8
    assert all(indicator.description for indicator in config.indicators)
    documented = (Path(__file__).parents[1] / "docs" / "readiness.md").read_text(encoding="utf-8")
    assert all(f"`{indicator.key}`" in documented for indicator in config.indicators)


@pytest.mark.parametrize(
    ("old", "new", "key", "marker"),
    [
        ("freshness_minutes: 60\n", "freshness_minutes: soon\n", "indicators.4.freshness_minutes", "soon"),
        ("direction: lower_is_worse\n", "direction: sideways\n", "indicators.6.direction", "sideways"),
        (
            "{tehostettu_valmius: 10, taysvalmius: 30}",
            "{tehostettu_valmius: 30, taysvalmius: 10}",
            "indicators.4",
            "- key: power_outage_customers",
        ),
        (
            "{tehostettu_valmius: 95, taysvalmius: 105}",
            "{tehostettu: 95}",
            "indicators.0.thresholds.tehostettu",
            "tehostettu: 95",
        ),
        (
            "  indicators_to_raise: 3\n",
            "  indicators_to_raise: 1\n",
            "combination.indicators_to_raise",
            "indicators_to_raise: 1",
        ),
        (
            "    level_at_least: tehostettu_valmius\n",
            "    level_at_least: poikkeusolot\n",
            "reactions.0.level_at_least",
            "poikkeusolot",
        ),
        (
            'groups: ["johtoryhma_{municipality}", valmiusjohtoryhma]',
            "groups: [kriisiryhma]",
            "reactions.0.groups",
            "kriisiryhma",
        ),
        ("area_kinds: [region]\n", "areas: [Oulu]\n", "reactions.1.areas", "areas: [Oulu]"),
        ("    halsua: [Halsua", "    halsuaa: [Halsua", "cap.area_aliases", "halsuaa"),
    ],
)
def test_a_mistake_names_the_key_and_the_line(tmp_path: Path, old: str, new: str, key: str, marker: str) -> None:
    path = broken(tmp_path, old, new)
    with pytest.raises(ConfigError) as error:
        load_readiness_config(path)
    message = str(error.value)
    assert f"{path}:{line_of(path, marker)}: {key}" in message, message


def test_duplicate_indicators_and_an_unknown_cap_indicator_are_refused(tmp_path: Path) -> None:
    path = broken(tmp_path, "- key: icu_occupancy", "- key: hospital_bed_occupancy")
    with pytest.raises(ConfigError, match="repeated: hospital_bed_occupancy"):
        load_readiness_config(path)
    path = broken(tmp_path, "  indicator: weather_warning", "  indicator: hail")
    with pytest.raises(ConfigError, match=r"cap\.indicator 'hail' is not one of the indicators"):
        load_readiness_config(path)


def test_the_service_does_not_start_on_a_broken_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = broken(tmp_path, "freshness_minutes: 60\n", "freshness_minutes: -5\n")

    def patched(name: str) -> Path:
        return path if name == "readiness.yaml" else config_path(name)

    monkeypatch.setattr(situation.config, "config_path", patched)
    load_readiness_config.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"indicators\.4\.freshness_minutes"):
            validate_configuration()
    finally:
        load_readiness_config.cache_clear()
