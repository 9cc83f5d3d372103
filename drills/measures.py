"""What a drill measured, in one shape whatever ran it: the objectives and the report read only these queries.

A drill run here measures the recipients and deliveries of its alerts (the alerting domain's tables); a drill run
elsewhere and imported from its log measures the recipients and messages derived from the log
(``drills.models.ImportedRecipient``, ``ImportedMessage``). Both give:

- ``recipients``: one row per recipient (a person in one alert, or in one phase of a log), deputies flagged
  (``deputy``): organisation and area, the phase, when their alert came (``alert_at``), the acknowledgement and
  its seconds, the first message through and its seconds, how many of their messages were delivered, reached the
  provider (or were made, for calls), reached it on a channel that gives delivery receipts, and are still on their
  way; ``person_key`` names the person (a roster person, or who the log names), and ``first_of_person`` is 1 on
  their first alert of the drill: a drill's figures count each person once, from their first alert, and give
  each phase's figures per phase;
- ``messages``: one row per message: channel, ``alert`` or ``reminder``, state (``sent``, ``delivered``, ``failed``,
  or still ``queued``), its times and error code, its seconds from the recipient's alert, and a call's duration;
- ``contacts``: each recipient's person (when on the roster), name, mobile number and email address.

The deliveries are joined to the recipients row by row and grouped per recipient, never joined as an aggregate:
however the planner estimates a drill that has just happened (its rows not yet in the statistics), a nested loop
then looks each recipient's deliveries up by index instead of aggregating all of them once per recipient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, String, and_, case, cast, false, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from alerting.models import RECEIPT_CHANNELS, Alert, Delivery, DeliveryKind, DeliveryState, Recipient
from alerting.public import options_in
from alueturva.db import seconds_between
from contacts.models import Organisation, Person
from drills import service
from drills.models import Drill, DrillAlert, ImportedMessage, ImportedRecipient

REACHED = ("sent", "delivered")
OPEN = ("queued", "sending")


@dataclass(frozen=True)
class Measures:
    drill_id: int
    imported: bool
    recipients: Select[*tuple[Any, ...]]
    messages: Select[*tuple[Any, ...]]
    contacts: Select[*tuple[Any, ...]]
    alert_ids: tuple[int, ...]  # the measured alerts of a drill run here (none for an imported one)


def measures(session: Session, drill: Drill) -> Measures:
    if drill.origin == "import":
        return _imported(drill)
    return _alerted(drill.id, tuple(service.measured_alert_ids(session, drill_id=drill.id)))


def poll_options(session: Session, drill: Drill, measured: Measures, language: str) -> list[str]:
    """The poll's answers in ``language`` (when the alert was written in it; otherwise in Finnish): the measured
    alerts' own, or for an imported drill the answers its log holds, as written."""
    if measured.imported:
        return [option.get(language) or option["fi"] for option in drill.response_options]
    first = session.execute(
        select(Alert.response_options, Alert.translations)
        .where(Alert.id.in_(measured.alert_ids))
        .order_by(Alert.id)
        .limit(1)
    ).first()
    return options_in(first[0], first[1], language) if first else []


# A drill run here ------------------------------------------------------------------------------------------------


def _state(column: Any) -> Any:
    return cast(column, String(20))


def _first_of_person(person_key: Any, *order: Any) -> Any:
    """1 on a person's first alert of the drill (a deputy's alert comes after any of their own)."""
    return func.row_number(type_=Integer).over(partition_by=person_key, order_by=order).label("first_of_person")


def _alerted(drill_id: int, alert_ids: tuple[int, ...]) -> Measures:
    first_through = seconds_between(func.coalesce(Delivery.delivered_at, Delivery.sent_at), Alert.created_at)
    state = _state(Delivery.state)
    person_key = "p" + cast(Recipient.person_id, String)
    recipients = (
        select(
            Recipient.id.label("recipient_id"),
            Recipient.person_id,
            Recipient.organisation_id,
            Organisation.short_name.label("organisation"),
            Organisation.area.label("area"),
            Recipient.deputy_for_id.is_not(None).label("deputy"),
            Recipient.deputy_for_id,
            Recipient.added_at,
            Alert.created_at.label("alert_at"),
            Recipient.acknowledged_at,
            _state(Recipient.ack_method).label("ack_method"),
            Recipient.ack_late,
            Recipient.response,
            DrillAlert.phase,
            seconds_between(Recipient.acknowledged_at, Alert.created_at).label("ack_seconds"),
            func.min(case((state.in_(REACHED), first_through))).label("delivery_seconds"),
            func.count(Delivery.id).filter(state == DeliveryState.delivered.value).label("delivered"),
            func.count(Delivery.id).filter(state.in_(REACHED)).label("reached"),
            func.count(Delivery.id)
            .filter(state.in_(REACHED), _state(Delivery.channel).in_(RECEIPT_CHANNELS))
            .label("receipt_reached"),
            func.count(Delivery.id).filter(state.in_(OPEN)).label("pending"),
            person_key.label("person_key"),
            _first_of_person(person_key, Recipient.deputy_for_id.is_not(None), Alert.created_at, Recipient.id),
        )
        .join(Alert, Alert.id == Recipient.alert_id)
        .join(Organisation, Organisation.id == Recipient.organisation_id)
        .join(DrillAlert, DrillAlert.alert_id == Recipient.alert_id)
        .outerjoin(Delivery, and_(Delivery.recipient_id == Recipient.id, Delivery.kind != DeliveryKind.cancel))
        .where(Recipient.alert_id.in_(alert_ids))
        .group_by(
            Recipient.id,
            Recipient.person_id,
            Recipient.organisation_id,
            Organisation.short_name,
            Organisation.area,
            Recipient.deputy_for_id,
            Recipient.added_at,
            Alert.created_at,
            Recipient.acknowledged_at,
            Recipient.ack_method,
            Recipient.ack_late,
            Recipient.response,
            DrillAlert.phase,
        )
    )
    messages = (
        select(
            Delivery.recipient_id,
            _state(Delivery.channel).label("channel"),
            _state(Delivery.kind).label("kind"),
            case((state == DeliveryState.undelivered.value, "failed"), else_=state).label("state"),
            Delivery.sent_at,
            Delivery.delivered_at,
            Delivery.failed_at,
            Delivery.error_code,
            first_through.label("seconds"),
            Delivery.duration_seconds,
        )
        .join(Alert, Alert.id == Delivery.alert_id)
        .where(Delivery.alert_id.in_(alert_ids), Delivery.kind != DeliveryKind.cancel)
        .order_by(Delivery.id)
    )
    contacts = (
        select(
            Recipient.id.label("recipient_id"), Person.id.label("person_id"), Person.name, Person.mobile, Person.email
        )
        .join(Person, Person.id == Recipient.person_id)
        .where(Recipient.alert_id.in_(alert_ids))
    )
    return Measures(drill_id, False, recipients, messages, contacts, alert_ids)


# A drill run elsewhere, imported from its log --------------------------------------------------------------------


def _imported(drill: Drill) -> Measures:
    first_through = seconds_between(
        func.coalesce(ImportedMessage.delivered_at, ImportedMessage.sent_at), ImportedRecipient.alert_at
    )
    reached = ImportedMessage.state.in_(REACHED)
    organisation = func.coalesce(Organisation.short_name, ImportedRecipient.organisation_name)
    # Someone the roster knows by their id; anyone else by what the log says of them.
    person_key = func.coalesce(
        "p" + cast(ImportedRecipient.person_id, String),
        "n"
        + ImportedRecipient.name
        + "|"
        + func.coalesce(ImportedRecipient.mobile, "")
        + "|"
        + func.coalesce(ImportedRecipient.email, ""),
    )
    recipients = (
        select(
            ImportedRecipient.id.label("recipient_id"),
            ImportedRecipient.person_id,
            ImportedRecipient.organisation_id,
            organisation.label("organisation"),
            Organisation.area.label("area"),
            false().label("deputy"),
            cast(literal(None), Integer).label("deputy_for_id"),
            ImportedRecipient.alert_at.label("added_at"),
            ImportedRecipient.alert_at,
            ImportedRecipient.acknowledged_at,
            ImportedRecipient.ack_channel.label("ack_method"),
            false().label("ack_late"),
            ImportedRecipient.response,
            ImportedRecipient.phase,
            seconds_between(ImportedRecipient.acknowledged_at, ImportedRecipient.alert_at).label("ack_seconds"),
            func.min(case((reached, first_through))).label("delivery_seconds"),
            func.count(ImportedMessage.id).filter(ImportedMessage.state == "delivered").label("delivered"),
            func.count(ImportedMessage.id).filter(reached).label("reached"),
            func.count(ImportedMessage.id)
            .filter(reached, ImportedMessage.channel.in_(RECEIPT_CHANNELS))
            .label("receipt_reached"),
            func.count(ImportedMessage.id).filter(false()).label("pending"),  # a log holds nothing on its way
            person_key.label("person_key"),
            _first_of_person(person_key, ImportedRecipient.alert_at, ImportedRecipient.id),
        )
        .outerjoin(Organisation, Organisation.id == ImportedRecipient.organisation_id)
        .outerjoin(ImportedMessage, ImportedMessage.recipient_id == ImportedRecipient.id)
        .where(ImportedRecipient.drill_id == drill.id)
        .group_by(
            ImportedRecipient.id,
            ImportedRecipient.person_id,
            ImportedRecipient.organisation_id,
            Organisation.short_name,
            ImportedRecipient.organisation_name,
            Organisation.area,
            ImportedRecipient.alert_at,
            ImportedRecipient.name,
            ImportedRecipient.mobile,
            ImportedRecipient.email,
            ImportedRecipient.acknowledged_at,
            ImportedRecipient.ack_channel,
            ImportedRecipient.response,
            ImportedRecipient.phase,
        )
    )
    messages = (
        select(
            ImportedMessage.recipient_id,
            ImportedMessage.channel,
            literal("alert").label("kind"),
            ImportedMessage.state,
            ImportedMessage.sent_at,
            ImportedMessage.delivered_at,
            ImportedMessage.failed_at,
            ImportedMessage.error.label("error_code"),
            first_through.label("seconds"),
            cast(literal(None), Integer).label("duration_seconds"),  # a log holds no call durations
        )
        .join(ImportedRecipient, ImportedRecipient.id == ImportedMessage.recipient_id)
        .where(ImportedRecipient.drill_id == drill.id)
        .order_by(ImportedMessage.id)
    )
    contacts = (
        select(
            ImportedRecipient.id.label("recipient_id"),
            ImportedRecipient.person_id,
            func.coalesce(Person.name, ImportedRecipient.name).label("name"),
            func.coalesce(Person.mobile, ImportedRecipient.mobile).label("mobile"),
            func.coalesce(Person.email, ImportedRecipient.email).label("email"),
        )
        .outerjoin(Person, Person.id == ImportedRecipient.person_id)
        .where(ImportedRecipient.drill_id == drill.id)
    )
    return Measures(drill.id, True, recipients, messages, contacts, ())
