"""The readiness parameters (``config/readiness.yaml``): levels, indicators, combination and reaction rules.

Loaded and validated at start (``alueturva.app.wiring.validate_configuration``); a mistake names the file, line and key.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from alueturva.config import ConfigModel, Names, check_in_order, check_known, config_path, load_yaml
from situation.levels import BASE_LEVEL as BASE_LEVEL
from situation.levels import LEVEL_ORDER as LEVEL_ORDER
from situation.levels import RAISED_LEVELS as RAISED_LEVELS
from situation.levels import LevelKey as LevelKey

Change = Literal["raised", "lowered", "unchanged"]
Scope = Literal["region", "area", "municipality"]
Direction = Literal["higher_is_worse", "lower_is_worse"]
Domain = Literal[
    "healthcare_capacity",
    "staffing",
    "power",
    "water",
    "telecom",
    "weather",
    "cyber",
    "fuel_and_supplies",
    "infectious_disease",
    "population_protection",
    "rescue_services",
    "transport",
    "other",
]
CapSeverity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
KEY_PATTERN = r"^[a-z0-9_]+$"


def municipality_keys() -> list[str]:
    """The municipalities of ``config/organisations.yaml`` (the reference data the database is seeded from)."""
    from contacts.catalogue import organisations

    return [o.key for o in organisations().organisations if o.kind == "municipality"]


def area_keys() -> list[str]:
    from contacts.areas import AREAS

    return ["region", *AREAS, *municipality_keys()]


def group_keys() -> set[str]:
    """The built-in group keys of ``config/roles.yaml`` (templates such as ``johtoryhma_{organisation}`` as is)."""
    from contacts.catalogue import catalogue

    return {group.key for group in catalogue().groups}


def rank(level: str) -> int:
    """0 for perusvalmius, 1 for tehostettu valmius, 2 for täysvalmius."""
    return LEVEL_ORDER.index(level)


def change_between(previous: str, level: str) -> Change:
    if rank(level) > rank(previous):
        return "raised"
    return "lowered" if rank(level) < rank(previous) else "unchanged"


class LevelSpec(ConfigModel):
    key: LevelKey
    names: Names


class Thresholds(ConfigModel):
    """The value at which an indicator reaches each raised level (a level may be left out)."""

    model_config = ConfigDict(extra="forbid")
    tehostettu_valmius: float | None = Field(None, allow_inf_nan=False)
    taysvalmius: float | None = Field(None, allow_inf_nan=False)

    def items(self) -> list[tuple[LevelKey, float]]:
        """(level, threshold) pairs from the lowest raised level up, only those that are set."""
        pairs: list[tuple[LevelKey, float | None]] = [
            ("tehostettu_valmius", self.tehostettu_valmius),
            ("taysvalmius", self.taysvalmius),
        ]
        return [(level, value) for level, value in pairs if value is not None]


class IndicatorSpec(ConfigModel):
    key: str = Field(pattern=KEY_PATTERN, max_length=60)
    names: Names
    domain: Domain
    # a symbol that reads the same in every language ("%"), or a word per language
    unit: Annotated[str, Field(max_length=40)] | Names
    direction: Direction
    thresholds: Thresholds
    scope: Scope
    freshness_minutes: int = Field(gt=0)
    hysteresis_margin: float | None = Field(None, ge=0, allow_inf_nan=False)
    description: str = ""

    def unit_in(self, language: str) -> str:
        """The unit as a reader of ``language`` writes it."""
        return self.unit if isinstance(self.unit, str) else str(getattr(self.unit, language, self.unit.fi))

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> IndicatorSpec:
        values = [value for _, value in self.thresholds.items()]
        if not values:
            raise ValueError(f"indicator {self.key}: give a threshold for at least one raised level")
        ordered = sorted(values) if self.direction == "higher_is_worse" else sorted(values, reverse=True)
        if values != ordered or len(set(values)) != len(values):
            worse = "higher" if self.direction == "higher_is_worse" else "lower"
            raise ValueError(
                f"indicator {self.key}: with direction {self.direction} the taysvalmius threshold must be {worse} "
                "than the tehostettu_valmius threshold"
            )
        return self

    def is_worse_or_equal(self, value: float, threshold: float) -> bool:
        return value >= threshold if self.direction == "higher_is_worse" else value <= threshold


class Combination(ConfigModel):
    indicators_to_raise: int = Field(ge=2)
    sub_areas_to_raise_parent: int = Field(ge=1)


class Hysteresis(ConfigModel):
    margin_percent: float = Field(ge=0, le=50)
    hold_minutes: int = Field(ge=0)


class Anticipation(ConfigModel):
    trend_window_minutes: int = Field(gt=0)
    min_points: int = Field(ge=2)
    horizon_hours: float = Field(gt=0)


class ObservationRules(ConfigModel):
    future_tolerance_seconds: int = Field(ge=0, le=3600)


class ReactionSpec(ConfigModel):
    key: str = Field(pattern=KEY_PATTERN, max_length=60)
    areas: list[str] = []
    area_kinds: list[Scope] = []
    when: Literal["raised", "lowered", "changed"]
    level_at_least: LevelKey | None = None
    groups: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _has_areas(self) -> ReactionSpec:
        if not self.areas and not self.area_kinds:
            raise ValueError(f"reaction {self.key}: name areas or area_kinds")
        return self

    @field_validator("areas")
    @classmethod
    def _known_areas(cls, areas: list[str]) -> list[str]:
        check_known(areas, area_keys(), "area")
        return areas

    @field_validator("groups")
    @classmethod
    def _known_groups(cls, groups: list[str]) -> list[str]:
        # config/roles.yaml names a per-municipality group {organisation}; a reaction names it {municipality}
        as_in_roles = [group.replace("{municipality}", "{organisation}") for group in groups]
        hint = " (the groups of config/roles.yaml; {organisation} is written {municipality} here)"
        check_known(as_in_roles, group_keys(), "group", hint=hint)
        return groups


class CapImport(ConfigModel):
    indicator: str
    severity_values: dict[CapSeverity, float]
    region_aliases: list[str] = []
    area_aliases: dict[str, list[str]]

    @field_validator("area_aliases")
    @classmethod
    def _municipalities(cls, aliases: dict[str, list[str]]) -> dict[str, list[str]]:
        check_known(aliases, municipality_keys(), "municipality", hint=" (config/organisations.yaml)")
        return aliases


class ReadinessConfig(ConfigModel):
    levels: list[LevelSpec]
    combination: Combination
    hysteresis: Hysteresis
    anticipation: Anticipation
    observations: ObservationRules
    indicators: list[IndicatorSpec] = Field(min_length=1)
    reactions: list[ReactionSpec] = []
    cap: CapImport | None = None

    @field_validator("levels")
    @classmethod
    def _all_levels_in_order(cls, levels: list[LevelSpec]) -> list[LevelSpec]:
        check_in_order([level.key for level in levels], LEVEL_ORDER, "levels")
        return levels

    @field_validator("indicators")
    @classmethod
    def _unique_indicators(cls, indicators: list[IndicatorSpec]) -> list[IndicatorSpec]:
        keys = [indicator.key for indicator in indicators]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"indicator keys must be unique; repeated: {', '.join(duplicates)}")
        return indicators

    @field_validator("reactions")
    @classmethod
    def _unique_reactions(cls, reactions: list[ReactionSpec]) -> list[ReactionSpec]:
        keys = [reaction.key for reaction in reactions]
        if len(keys) != len(set(keys)):
            raise ValueError("reaction keys must be unique")
        return reactions

    @model_validator(mode="after")
    def _cap_indicator_exists(self) -> ReadinessConfig:
        if self.cap is not None and self.cap.indicator not in self.indicator_map():
            raise ValueError(f"cap.indicator '{self.cap.indicator}' is not one of the indicators")
        return self

    def indicator_map(self) -> dict[str, IndicatorSpec]:
        return {indicator.key: indicator for indicator in self.indicators}

    def level_names(self) -> dict[str, Names]:
        return {level.key: level.names for level in self.levels}


_override: ReadinessConfig | None = None


@lru_cache(maxsize=4)
def load_readiness_config(path: Path | None = None) -> ReadinessConfig:
    """Load and validate ``config/readiness.yaml`` (or ``path``); raises ``ConfigError`` naming line and key."""
    return load_yaml(path or config_path("readiness.yaml"), ReadinessConfig)


def readiness_config() -> ReadinessConfig:
    """The parameters in force: the shipped file, unless a benchmark or test has set others."""
    return _override if _override is not None else load_readiness_config()


def set_readiness_config(config: ReadinessConfig | None) -> None:
    """Use ``config`` instead of the shipped file (benchmarks and tests); ``None`` goes back to the file."""
    global _override
    _override = config
