"""Reasons of a recommendation in words, in Finnish, Swedish and English."""

from __future__ import annotations

from alueturva.i18n import LANGUAGES
from situation.config import LEVEL_ORDER, ReadinessConfig, rank
from situation.engine import Reason


def _number(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:g}"


def reason_text(reason: Reason, config: ReadinessConfig, area_names: dict[str, dict[str, str]]) -> dict[str, str]:
    """One sentence per language saying which rule raised the level and on what evidence."""
    levels = config.level_names()
    texts: dict[str, str] = {}
    for language in LANGUAGES:
        level = getattr(levels[reason.level], language)
        since = reason.since.strftime("%Y-%m-%d %H:%M UTC") if reason.since else None
        area = area_names.get(reason.area or "", {}).get(language, reason.area or "")
        if reason.rule in ("threshold", "hysteresis"):
            indicator = config.indicator_map()[reason.indicator or ""]
            name = getattr(indicator.names, language)
            texts[language] = _indicator_sentence(
                language, reason.rule, name, area, reason, indicator.unit, level, since, config
            )
        elif reason.rule == "combination":
            lower = getattr(levels[LEVEL_ORDER[rank(reason.level) - 1]], language)
            names = ", ".join(getattr(config.indicator_map()[key].names, language) for key in reason.sources)
            count = len(reason.sources)
            texts[language] = {
                "fi": f"{count} indikaattoria tasolla {lower} nostaa suosituksen tasolle {level}: {names}",
                "sv": f"{count} indikatorer på nivån {lower} höjer rekommendationen till {level}: {names}",
                "en": f"{count} indicators at {lower} raise the recommendation to {level}: {names}",
            }[language]
        else:
            subs = ", ".join(area_names.get(key, {}).get(language, key) for key in reason.sources)
            texts[language] = {
                "fi": f"Osa-alueiden suositus on {level}: {subs}",
                "sv": f"Delområdenas rekommendation är {level}: {subs}",
                "en": f"Sub-areas recommended {level}: {subs}",
            }[language]
    return texts


def _indicator_sentence(
    language: str,
    rule: str,
    name: str,
    area: str,
    reason: Reason,
    unit: str,
    level: str,
    since: str | None,
    config: ReadinessConfig,
) -> str:
    value = f"{_number(reason.value)} {unit}"
    threshold = f"{_number(reason.threshold)} {unit}"
    hold = config.hysteresis.hold_minutes
    if language == "fi":
        text = f"{name} ({area}) {value}, tason {level} raja-arvo {threshold}"
        text += f", alkaen {since}" if since else ""
        if rule == "hysteresis":
            text += f"; taso pysyy, kunnes arvot ovat olleet marginaalin verran raja-arvon alla {hold} min"
        return text
    if language == "sv":
        text = f"{name} ({area}) {value}, gränsvärde för {level} {threshold}"
        text += f", sedan {since}" if since else ""
        if rule == "hysteresis":
            text += f"; nivån kvarstår tills värdena har legat en marginal under gränsvärdet i {hold} min"
        return text
    text = f"{name} ({area}) {value}, {level} threshold {threshold}"
    text += f", since {since}" if since else ""
    if rule == "hysteresis":
        text += f"; held until values have stayed below the threshold by the margin for {hold} min"
    return text
