"""What a readiness decision's alert says: title and message in Finnish and Swedish (Kokkola and the county are
bilingual; English readers get both, ``alueturva.localized.versions_for``), each wholly in its own language, with
the decision's reason quoted as the decider wrote it."""

from __future__ import annotations

from alueturva.localized import LocalizedText
from situation.reactions import ReactionEvent

REASON_LIMIT = 160
WORDS = {
    "fi": {
        "title": "Valmiustaso: {area}",
        "raised": "{area}: valmiustasoa on nostettu. Uusi taso: {level}.",
        "lowered": "{area}: valmiustasoa on laskettu. Uusi taso: {level}.",
        "changed": "{area}: valmiustasosta on päätetty. Taso: {level}.",
        "reason": "Perustelu: {reason}",
    },
    "sv": {
        "title": "Beredskapsnivå: {area}",
        "raised": "{area}: beredskapsnivån har höjts. Ny nivå: {level}.",
        "lowered": "{area}: beredskapsnivån har sänkts. Ny nivå: {level}.",
        "changed": "{area}: beslut om beredskapsnivån. Nivå: {level}.",
        "reason": "Motivering: {reason}",
    },
}


def _area(event: ReactionEvent, language: str) -> str:
    return event.area_names.get(language) or event.area_names.get("fi") or event.area


def _decision_sentence(event: ReactionEvent, language: str) -> str:
    words = WORDS[language]
    sentence = words.get(event.change, words["changed"])
    return sentence.format(area=_area(event, language), level=event.level_names.get(language) or event.level)


def announcement(event: ReactionEvent, *, with_reason: bool = True) -> tuple[LocalizedText, LocalizedText]:
    """Title and message of the alert the decision sets in motion; without the reason when it would make the SMS
    too long (the picture shows the reason anyway)."""
    reason = event.reason if len(event.reason) <= REASON_LIMIT else event.reason[: REASON_LIMIT - 3] + "..."
    title, message = {}, {}
    for language, words in WORDS.items():
        title[language] = words["title"].format(area=_area(event, language))
        sentence = _decision_sentence(event, language)
        message[language] = f"{sentence} {words['reason'].format(reason=reason)}" if with_reason else sentence
    return LocalizedText(**title), LocalizedText(**message)
