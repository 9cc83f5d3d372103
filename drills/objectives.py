"""Evaluating a drill's objectives from what its alerts' recipients did, added up in the database.

The measured people are the recipients the drill's alerts targeted (its alert and reach question; not the deputies
escalation added, nor the alerts of exercise decisions). Each one's time is counted from their own alert's creation.
An objective is ``final`` once its window has passed (or the drill has ended): until then a criterion that can still
be reached is ``met: null``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from alerting.models import Alert, Delivery, DeliveryState, Recipient
from alueturva.db import seconds_between
from alueturva.i18n import format_number
from contacts.models import Organisation
from drills.models import Drill, DrillObjective, DrillState

REACHED_STATES = (DeliveryState.sent, DeliveryState.delivered)
OPEN_STATES = (DeliveryState.queued, DeliveryState.sending)
MET_RATINGS = frozenset({"P", "S"})  # HSEEP: performed without or with some challenges

DESCRIPTIONS = {
    "ack_share_within": {
        "fi": "Vähintään {percent} % vastaanottajista kuittaa {minutes} minuutissa",
        "sv": "Minst {percent} % av mottagarna kvitterar inom {minutes} minuter",
        "en": "At least {percent} % of recipients acknowledge within {minutes} minutes",
    },
    "every_organisation_within": {
        "fi": "Jokaisesta kohdeorganisaatiosta vähintään yksi kuittaus {minutes} minuutissa",
        "sv": "Minst en kvittering från varje målorganisation inom {minutes} minuter",
        "en": "At least one acknowledgement from every targeted organisation within {minutes} minutes",
    },
    "every_area_within": {
        "fi": "Jokainen valmiusjohtoryhmän alue tavoitetaan {minutes} minuutissa",
        "sv": "Varje område i beredskapsledningsgruppen nås inom {minutes} minuter",
        "en": "Every valmiusjohtoryhmä area reached within {minutes} minutes",
    },
    "max_unreachable": {
        "fi": "Enintään {count} vastaanottajaa tavoittamatta",
        "sv": "Högst {count} mottagare onåbara",
        "en": "At most {count} recipients unreachable",
    },
}


@dataclass(frozen=True)
class Evaluation:
    met: bool | None
    value: Any
    final: bool


def describe(objective: DrillObjective) -> dict[str, str]:
    """The objective in words, per language (a manual objective is its own text)."""
    if objective.kind == "manual":
        text = str(objective.params["text"])
        return {"fi": text, "sv": text, "en": text}
    return {
        language: template.format(**{key: format_number(value, language) for key, value in objective.params.items()})
        for language, template in DESCRIPTIONS[objective.kind].items()
    }


def window_closes_at(drill: Drill, objective: DrillObjective) -> datetime | None:
    minutes = objective.params.get("minutes")
    if drill.started_at is None or minutes is None:
        return None
    return drill.started_at + timedelta(minutes=float(minutes))


def _is_final(drill: Drill, objective: DrillObjective, now: datetime) -> bool:
    if drill.state in (DrillState.ended, DrillState.cancelled, DrillState.missed):
        return True
    closes = window_closes_at(drill, objective)
    return closes is not None and now >= closes


def _measured(alert_ids: Sequence[int]) -> ColumnElement[bool]:
    return and_(Recipient.alert_id.in_(list(alert_ids)), Recipient.deputy_for_id.is_(None))


def _ack_seconds() -> ColumnElement[float]:
    return seconds_between(Recipient.acknowledged_at, Alert.created_at)


def _within(minutes: float) -> ColumnElement[bool]:
    return and_(Recipient.acknowledged_at.is_not(None), _ack_seconds() <= minutes * 60)


def _ack_share(session: Session, alert_ids: Sequence[int], params: dict[str, Any], final: bool) -> Evaluation:
    minutes, percent = float(params["minutes"]), float(params["percent"])
    targeted, within = session.execute(
        select(func.count(), func.count().filter(_within(minutes)))
        .select_from(Recipient)
        .join(Alert, Alert.id == Recipient.alert_id)
        .where(_measured(alert_ids))
    ).one()
    share = round(100.0 * within / targeted, 1) if targeted else 0.0
    reached = targeted > 0 and share >= percent
    value = {"targeted": targeted, "acknowledged_within": within, "percent": share}
    return Evaluation(True if reached else (False if final else None), value, final)


def _first_ack_by(session: Session, alert_ids: Sequence[int], minutes: float, key: Any) -> dict[Any, bool]:
    """For each targeted ``key`` (organisation id or area): whether anyone of it acknowledged within the window."""
    rows = session.execute(
        select(key, func.count().filter(_within(minutes)))
        .select_from(Recipient)
        .join(Alert, Alert.id == Recipient.alert_id)
        .join(Organisation, Organisation.id == Recipient.organisation_id)
        .where(Recipient.alert_id.in_(list(alert_ids)))
        .group_by(key)
    ).all()
    targeted: set[Any] = set(
        session.scalars(
            select(key)
            .select_from(Recipient)
            .join(Organisation, Organisation.id == Recipient.organisation_id)
            .where(_measured(alert_ids))
            .distinct()
        )
    )
    return {group: bool(acks) for group, acks in rows if group in targeted}


def _coverage(reached: dict[Any, bool], names: dict[Any, str], final: bool) -> Evaluation:
    missing = sorted(names.get(key, str(key)) for key, ok in reached.items() if not ok)
    value = {"targeted": len(reached), "reached": len(reached) - len(missing), "missing": missing}
    met = bool(reached) and not missing
    return Evaluation(True if met else (False if final else None), value, final)


def _every_organisation(session: Session, alert_ids: Sequence[int], params: dict[str, Any], final: bool) -> Evaluation:
    reached = _first_ack_by(session, alert_ids, float(params["minutes"]), Organisation.id)
    names = dict(session.execute(select(Organisation.id, Organisation.short_name)).all())
    return _coverage(reached, names, final)


def _every_area(session: Session, alert_ids: Sequence[int], params: dict[str, Any], final: bool) -> Evaluation:
    reached = _first_ack_by(session, alert_ids, float(params["minutes"]), Organisation.area)
    reached.pop(None, None)  # organisations outside the three areas (the county, the council) are not an area
    return _coverage(reached, {}, final)


def _max_unreachable(session: Session, alert_ids: Sequence[int], params: dict[str, Any], final: bool) -> Evaluation:
    """Unreachable: not acknowledged, and no message reached the provider nor is still on its way."""
    reached = func.count(Delivery.id).filter(Delivery.state.in_(REACHED_STATES))
    pending = func.count(Delivery.id).filter(Delivery.state.in_(OPEN_STATES))
    per_recipient = (
        select(
            Recipient.id,
            case((Recipient.acknowledged_at.is_not(None), 1), else_=0).label("acknowledged"),
            reached.label("reached"),
            pending.label("pending"),
        )
        .select_from(Recipient)
        .join(Delivery, Delivery.recipient_id == Recipient.id, isouter=True)
        .where(_measured(alert_ids))
        .group_by(Recipient.id, Recipient.acknowledged_at)
        .subquery()
    )
    unreachable = (
        session.scalar(
            select(func.count()).where(
                per_recipient.c.acknowledged == 0, per_recipient.c.reached == 0, per_recipient.c.pending == 0
            )
        )
        or 0
    )
    # A late acknowledgement (a link, an operator) can still lower the count: judged when the drill ends.
    met = unreachable <= int(params["count"]) if final else None
    return Evaluation(met, {"unreachable": unreachable}, final)


def _manual(objective: DrillObjective) -> Evaluation:
    if objective.rating is None:
        return Evaluation(None, None, False)
    return Evaluation(objective.rating in MET_RATINGS, objective.rating, True)


_EVALUATORS = {
    "ack_share_within": _ack_share,
    "every_organisation_within": _every_organisation,
    "every_area_within": _every_area,
    "max_unreachable": _max_unreachable,
}


def evaluate(
    session: Session, *, drill: Drill, objective: DrillObjective, alert_ids: Sequence[int], now: datetime
) -> Evaluation:
    """The objective's state now: met or not (None while it can still be reached, or before a person rated it)."""
    if objective.kind == "manual":
        return _manual(objective)
    if drill.started_at is None:
        return Evaluation(None, None, drill.state is not DrillState.planned)
    return _EVALUATORS[objective.kind](session, alert_ids, objective.params, _is_final(drill, objective, now))
