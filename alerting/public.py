"""The alerting domain's one door for the other domains and the application's cross-domain wiring.

Another domain imports from alerting only this module, and ``alerting.models`` to read alerting's tables in its own
queries (as ``drills.measures`` joins recipients and deliveries); it never writes those tables but through the
functions here (``tests/test_layers.py`` checks both). What is here: creating an alert (an exercise alert is an alert
with ``exercise=True``) and closing one; counting who an alert's targets name and how its recipients fared; the words
and poll answers other domains show; an alert of the past for the demo's history; loading the send path in a worker;
sending a notice that asks no acknowledgement (a drill's feedback request), and counting an SMS's segments.
"""

from __future__ import annotations

from alerting.acknowledgements import record_acknowledgement
from alerting.channels import SendError
from alerting.costs import calls_placed, charged_sms_segments
from alerting.counts import COUNT_KEYS, alert_counts
from alerting.dispatch import warm_up
from alerting.flows import CreatedAlert, SmsTooLong, create_alert
from alerting.messages import options_in
from alerting.models import AckMethod, Channel
from alerting.notices import send_notice
from alerting.reply_hooks import ReplyHandler, register_reply_handler, unregister_reply_handler
from alerting.schemas import (
    AlertCreate,
    AlertMessage,
    AlertTitle,
    ChannelName,
    EscalationOverride,
    ResponseOption,
    Targets,
    localized_options,
)
from alerting.segments import count_segments
from alerting.service import (
    PastDelivery,
    PastRecipient,
    close_alert,
    past_deliveries,
    past_recipients,
    record_past_outcome,
)
from alerting.targets import count_targeted
from alerting.texts import EXERCISE_WORD

__all__ = [
    "COUNT_KEYS",
    "EXERCISE_WORD",
    "AckMethod",
    "AlertCreate",
    "AlertMessage",
    "AlertTitle",
    "Channel",
    "ChannelName",
    "CreatedAlert",
    "EscalationOverride",
    "PastDelivery",
    "PastRecipient",
    "ReplyHandler",
    "ResponseOption",
    "SendError",
    "SmsTooLong",
    "Targets",
    "alert_counts",
    "calls_placed",
    "charged_sms_segments",
    "close_alert",
    "count_segments",
    "count_targeted",
    "create_alert",
    "localized_options",
    "options_in",
    "past_deliveries",
    "past_recipients",
    "record_acknowledgement",
    "record_past_outcome",
    "register_reply_handler",
    "send_notice",
    "unregister_reply_handler",
    "warm_up",
]
