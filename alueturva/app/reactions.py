"""Cross-domain reactions, wired by the application: a readiness decision alerts the groups its rule names.

The situation domain records each reaction and calls the registered handlers (``situation.reactions``); the alerting
domain sends alerts. Neither imports the other; this module connects them.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from alueturva.db import get_database
from alueturva.errors import Invalid
from alueturva.localized import LocalizedText
from contacts.models import Group
from situation.reactions import ReactionEvent

log = logging.getLogger(__name__)

REASON_LIMIT = 160
# The decided change in each language. The alert is written in Finnish and Swedish (Kokkola and the county are
# bilingual); English readers get both (alueturva.localized.versions_for).
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


def _decision_sentence(event: ReactionEvent, language: str) -> str:
    words = WORDS[language]
    sentence = words.get(event.change, words["changed"])
    return sentence.format(area=_area(event, language), level=event.level_names.get(language) or event.level)


def _area(event: ReactionEvent, language: str) -> str:
    return event.area_names.get(language) or event.area_names.get("fi") or event.area


def alert_texts_for(event: ReactionEvent, *, with_reason: bool = True) -> tuple[LocalizedText, LocalizedText]:
    """Title and message in Finnish and Swedish, each wholly in its own language; the decision's reason is quoted
    as the decider wrote it."""
    reason = event.reason if len(event.reason) <= REASON_LIMIT else event.reason[: REASON_LIMIT - 3] + "..."
    title, message = {}, {}
    for language, words in WORDS.items():
        title[language] = words["title"].format(area=_area(event, language))
        sentence = _decision_sentence(event, language)
        message[language] = f"{sentence} {words['reason'].format(reason=reason)}" if with_reason else sentence
    return LocalizedText(**title), LocalizedText(**message)


def alert_groups_on_decision(event: ReactionEvent) -> None:
    """Send the alert a readiness decision sets in motion. Idempotent: the reaction id is the idempotency key."""
    from alerting.flows import create_alert
    from alerting.schemas import AlertCreate, Targets

    with get_database().session() as session:
        group_ids = list(session.scalars(select(Group.id).where(Group.key.in_(event.groups)).order_by(Group.id)))
    if not group_ids:
        raise LookupError(f"none of the groups {', '.join(event.groups)} exists")
    title, message = alert_texts_for(event)
    request = AlertCreate(
        title=title, message=message, targets=Targets(groups=group_ids), idempotency_key=event.idempotency_key
    )
    try:
        created = create_alert(request, actor=event.decided_by)
    except Invalid as too_long:
        if "segments" not in str(too_long.detail):
            raise
        # A long reason must not stop the alert: send it without the reason, which the picture shows anyway.
        _, short = alert_texts_for(event, with_reason=False)
        created = create_alert(request.model_copy(update={"message": short}), actor=event.decided_by)
    log.info(
        "readiness decision alerted groups",
        extra={"reaction_id": event.reaction_id, "alert_id": created.alert_id, "created": created.created},
    )
