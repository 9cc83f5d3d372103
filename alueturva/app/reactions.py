"""Cross-domain reactions, wired by the application: a readiness decision alerts the groups its rule names.

The situation domain records each reaction, says what its alert reads (``situation.announcement``) and calls the
registered handlers (``situation.reactions``); the alerting domain sends alerts (``alerting.public``). Neither
imports the other; this module connects them through their public functions.
"""

from __future__ import annotations

import logging

from alerting.public import AlertCreate, SmsTooLong, Targets, create_alert
from alueturva.db import get_database
from contacts.service import group_ids_by_key
from situation.announcement import announcement
from situation.reactions import ReactionEvent

log = logging.getLogger(__name__)


def alert_groups_on_decision(event: ReactionEvent) -> dict[str, list[int]]:
    """Send the alert a readiness decision sets in motion. Idempotent: the reaction id is the idempotency key.

    An exercise decision's alert is an exercise alert to its drill's targets (never the rule's real groups).
    """
    if event.drill_id is not None:
        return {"alert_ids": [_alert_drill(event, event.drill_id)]}
    with get_database().session() as session:
        group_ids = group_ids_by_key(session, keys=event.groups)
    if not group_ids:
        raise LookupError(f"none of the groups {', '.join(event.groups)} exists")
    title, message = announcement(event)
    request = AlertCreate(
        title=title, message=message, targets=Targets(groups=group_ids), idempotency_key=event.idempotency_key
    )
    try:
        created = create_alert(request, actor=event.decided_by)
    except SmsTooLong:
        # A long reason must not stop the alert: send it without the reason, which the picture shows anyway.
        _, short = announcement(event, with_reason=False)
        created = create_alert(request.model_copy(update={"message": short}), actor=event.decided_by)
    log.info(
        "readiness decision alerted groups",
        extra={"reaction_id": event.reaction_id, "alert_id": created.alert_id, "created": created.created},
    )
    return {"alert_ids": [created.alert_id]}


def _alert_drill(event: ReactionEvent, drill_id: int) -> int:
    from drills.outbox import send_reaction_alert

    title, message = announcement(event)
    alert_id = send_reaction_alert(
        drill_id=drill_id,
        key=event.idempotency_key,
        title=title.model_dump(exclude_none=True),
        message=message.model_dump(exclude_none=True),
    )
    log.info("exercise decision alerted the drill", extra={"reaction_id": event.reaction_id, "alert_id": alert_id})
    return alert_id
