"""Reasons of a recommendation in words, in Finnish, Swedish and English."""

from __future__ import annotations

from alueturva.i18n import LANGUAGES, format_number, format_time
from situation.config import LEVEL_ORDER, ReadinessConfig, rank
from situation.engine import Reason

SENTENCES = {
    "fi": {
        "indicator": "{name} ({area}) {value}, tason {level} raja-arvo {threshold}",
        "since": ", alkaen {since}",
        "held": "; taso pysyy, kunnes arvot ovat olleet marginaalin verran raja-arvon alla {hold} min",
        "combination": "{count} indikaattoria tasolla {lower} nostaa suosituksen tasolle {level}: {names}",
        "sub_areas": "Osa-alueiden suositus on {level}: {names}",
    },
    "sv": {
        "indicator": "{name} ({area}) {value}, gränsvärde för {level} {threshold}",
        "since": ", sedan {since}",
        "held": "; nivån kvarstår tills värdena har legat en marginal under gränsvärdet i {hold} min",
        "combination": "{count} indikatorer på nivån {lower} höjer rekommendationen till {level}: {names}",
        "sub_areas": "Delområdenas rekommendation är {level}: {names}",
    },
    "en": {
        "indicator": "{name} ({area}) {value}, {level} threshold {threshold}",
        "since": ", since {since}",
        "held": "; held until values have stayed below the threshold by the margin for {hold} min",
        "combination": "{count} indicators at {lower} raise the recommendation to {level}: {names}",
        "sub_areas": "Sub-areas recommended {level}: {names}",
    },
}


def _number(value: float | None, language: str) -> str:
    return "?" if value is None else format_number(value, language)


def reason_text(reason: Reason, config: ReadinessConfig, area_names: dict[str, dict[str, str]]) -> dict[str, str]:
    """One sentence per language saying which rule raised the level and on what evidence."""
    return {language: _sentence(reason, config, area_names, language) for language in LANGUAGES}


def _sentence(reason: Reason, config: ReadinessConfig, area_names: dict[str, dict[str, str]], language: str) -> str:
    words = SENTENCES[language]
    levels = config.level_names()
    level = getattr(levels[reason.level], language)
    if reason.rule in ("threshold", "hysteresis"):
        indicator = config.indicator_map()[reason.indicator or ""]
        text = words["indicator"].format(
            name=getattr(indicator.names, language),
            area=area_names.get(reason.area or "", {}).get(language, reason.area or ""),
            value=f"{_number(reason.value, language)} {indicator.unit_in(language)}",
            level=level,
            threshold=f"{_number(reason.threshold, language)} {indicator.unit_in(language)}",
        )
        if reason.since:
            text += words["since"].format(since=format_time(reason.since, language))
        if reason.rule == "hysteresis":
            text += words["held"].format(hold=config.hysteresis.hold_minutes)
        return text
    if reason.rule == "combination":
        lower = getattr(levels[LEVEL_ORDER[rank(reason.level) - 1]], language)
        names = ", ".join(getattr(config.indicator_map()[key].names, language) for key in reason.sources)
        return words["combination"].format(count=len(reason.sources), lower=lower, level=level, names=names)
    names = ", ".join(area_names.get(key, {}).get(language, key) for key in reason.sources)
    return words["sub_areas"].format(level=level, names=names)
