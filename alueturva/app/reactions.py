"""Cross-domain reactions, wired by the application: a readiness decision alerts the groups its rule names.

The situation domain records each reaction and calls the registered handlers (``situation.reactions``); the alerting
domain sends alerts. Neither imports the other; this module connects them.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from alueturva.db import get_database
from alueturva.errors import Invalid
from contacts.models import Group
from situation.reactions import ReactionEvent

log = logging.getLogger(__name__)

REASON_LIMIT = 160
CHANGE_WORDS = {
    "raised": {"fi": "nostettu", "sv": "höjd", "en": "raised"},
    "lowered": {"fi": "laskettu", "sv": "sänkt", "en": "lowered"},
}


def _text(event: ReactionEvent, language: str) -> str:
    area = event.area_names.get(language) or event.area_names.get("fi") or event.area
    level = event.level_names.get(language) or event.level
    change = CHANGE_WORDS.get(event.change, {}).get(language, event.change)
    return {
        "fi": f"{area}: valmiustaso {change}: {level}.",
        "sv": f"{area}: beredskapsnivån {change}: {level}.",
        "en": f"{area}: readiness level {change}: {level}.",
    }[language]


def alert_message_for(event: ReactionEvent) -> tuple[str, str]:
    """Title and message in Finnish and Swedish (Kokkola is bilingual), with the decision's reason."""
    reason = event.reason if len(event.reason) <= REASON_LIMIT else event.reason[: REASON_LIMIT - 3] + "..."
    title = f"Valmiustaso / Beredskapsnivå: {event.area_names.get('fi', event.area)}"
    message = f"{_text(event, 'fi')} {_text(event, 'sv')} Perustelu / Motivering: {reason}"
    return title, message


def alert_groups_on_decision(event: ReactionEvent) -> dict[str, list[int]]:
    """Send the alert a readiness decision sets in motion. Idempotent: the reaction id is the idempotency key.

    An exercise decision's alert is an exercise alert to its drill's targets (never the rule's real groups).
    """
    if event.drill_id is not None:
        return {"alert_ids": [_alert_drill(event, event.drill_id)]}
    from alerting.flows import create_alert
    from alerting.schemas import AlertCreate, Targets

    with get_database().session() as session:
        group_ids = list(session.scalars(select(Group.id).where(Group.key.in_(event.groups)).order_by(Group.id)))
    if not group_ids:
        raise LookupError(f"none of the groups {', '.join(event.groups)} exists")
    title, message = alert_message_for(event)
    request = AlertCreate(
        title=title, message=message, targets=Targets(groups=group_ids), idempotency_key=event.idempotency_key
    )
    try:
        created = create_alert(request, actor=event.decided_by)
    except Invalid as too_long:
        if "segments" not in str(too_long.detail):
            raise
        # A long reason must not stop the alert: send it without the reason, which the picture shows anyway.
        short = f"{_text(event, 'fi')} {_text(event, 'sv')}"
        created = create_alert(request.model_copy(update={"message": short}), actor=event.decided_by)
    log.info(
        "readiness decision alerted groups",
        extra={"reaction_id": event.reaction_id, "alert_id": created.alert_id, "created": created.created},
    )
    return {"alert_ids": [created.alert_id]}


def _alert_drill(event: ReactionEvent, drill_id: int) -> int:
    from drills.outbox import send_reaction_alert

    title, message = alert_message_for(event)
    alert_id = send_reaction_alert(
        drill_id=drill_id, key=event.idempotency_key, title={"fi": title}, message={"fi": message}
    )
    log.info("exercise decision alerted the drill", extra={"reaction_id": event.reaction_id, "alert_id": alert_id})
    return alert_id
