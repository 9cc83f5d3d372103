"""Reasons of a recommendation in words, in Finnish, Swedish and English (``situation/texts.yaml``)."""

from __future__ import annotations

from alueturva.i18n import LANGUAGES, format_number, format_time
from situation.config import LEVEL_ORDER, ReadinessConfig, rank
from situation.engine import Reason
from situation.texts import text


def _number(value: float | None, language: str) -> str:
    return "?" if value is None else format_number(value, language)


def reason_text(reason: Reason, config: ReadinessConfig, area_names: dict[str, dict[str, str]]) -> dict[str, str]:
    """One sentence per language saying which rule raised the level and on what evidence."""
    return {language: _sentence(reason, config, area_names, language) for language in LANGUAGES}


def _sentence(reason: Reason, config: ReadinessConfig, area_names: dict[str, dict[str, str]], language: str) -> str:
    levels = config.level_names()
    level = getattr(levels[reason.level], language)
    if reason.rule in ("threshold", "hysteresis"):
        indicator = config.indicator_map()[reason.indicator or ""]
        sentence = text(
            "reason_indicator",
            language,
            name=getattr(indicator.names, language),
            area=area_names.get(reason.area or "", {}).get(language, reason.area or ""),
            value=f"{_number(reason.value, language)} {indicator.unit_in(language)}",
            level=level,
            threshold=f"{_number(reason.threshold, language)} {indicator.unit_in(language)}",
        )
        if reason.since:
            sentence += text("reason_since", language, since=format_time(reason.since, language))
        if reason.rule == "hysteresis":
            sentence += text("reason_held", language, hold=config.hysteresis.hold_minutes)
        return sentence
    if reason.rule == "combination":
        lower = getattr(levels[LEVEL_ORDER[rank(reason.level) - 1]], language)
        names = ", ".join(getattr(config.indicator_map()[key].names, language) for key in reason.sources)
        return text("reason_combination", language, count=len(reason.sources), lower=lower, level=level, names=names)
    names = ", ".join(area_names.get(key, {}).get(language, key) for key in reason.sources)
    return text("reason_sub_areas", language, level=level, names=names)
