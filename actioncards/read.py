"""Action cards as the API and the console read them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from actioncards import service
from actioncards.models import Activation, ActivationState, ReviewSubject, TaskState
from actioncards.schemas import (
    ActivatedTaskRead,
    ActivationList,
    ActivationRead,
    CardList,
    CardRead,
    ReviewRead,
    ReviewStatus,
    ReviewStatusList,
)
from contacts.models import Organisation, OrganisationKind, Person


def card_list(
    session: Session,
    *,
    card_set: str | None = None,
    level: str | None = None,
    area: str | None = None,
    active: bool | None = None,
) -> CardList:
    cards = service.list_cards(session, card_set=card_set, level=level, area=area, active=active)
    return CardList(items=[CardRead.model_validate(card) for card in cards], total=len(cards))


def review_status(session: Session) -> ReviewStatusList:
    """Each municipality's latest review of its action cards and of its management group's composition."""
    latest = service.latest_reviews(session)
    municipalities = session.scalars(
        select(Organisation).where(Organisation.kind == OrganisationKind.municipality).order_by(Organisation.name)
    ).all()

    def shown(organisation_id: int, subject: ReviewSubject) -> ReviewRead | None:
        review = latest.get((organisation_id, subject))
        return ReviewRead.model_validate(review) if review else None

    items = [
        ReviewStatus(
            organisation_id=organisation.id,
            organisation=organisation.short_name,
            action_cards=shown(organisation.id, ReviewSubject.action_cards),
            management_group=shown(organisation.id, ReviewSubject.management_group),
        )
        for organisation in municipalities
    ]
    return ReviewStatusList(items=items, total=len(items))


def _names(session: Session, ids: set[int], model: type[Person] | type[Organisation]) -> dict[int, str]:
    if not ids:
        return {}
    column = Person.name if model is Person else Organisation.short_name
    return {row[0]: row[1] for row in session.execute(select(model.id, column).where(model.id.in_(ids)))}


def activation_reads(session: Session, activations: Sequence[Activation], *, now: datetime) -> list[ActivationRead]:
    """Activations as the API shows them: per task the organisation and the person by name (never a number)."""
    tasks = [task for activation in activations for task in activation.tasks]
    people = _names(
        session,
        {t.person_id for t in tasks if t.person_id} | {t.handed_over_from_id for t in tasks if t.handed_over_from_id},
        Person,
    )
    organisations = _names(session, {t.organisation_id for t in tasks if t.organisation_id}, Organisation)
    return [
        ActivationRead(
            id=activation.id,
            card=activation.card.key,
            title=activation.card.title,
            area=activation.area,
            level=activation.level,
            drill_id=activation.drill_id,
            exercise=activation.exercise,
            state=activation.state.value,
            decision_id=activation.decision_id,
            activated_at=activation.activated_at,
            activated_by=activation.activated_by,
            closed_at=activation.closed_at,
            close_reason=activation.close_reason,
            tasks=[
                ActivatedTaskRead(
                    id=task.id,
                    position=task.position,
                    text=task.text,
                    check=task.check,
                    role=task.role,
                    organisation=organisations.get(task.organisation_id) if task.organisation_id else None,
                    assignee=people.get(task.person_id) if task.person_id else None,
                    handed_over_from=people.get(task.handed_over_from_id) if task.handed_over_from_id else None,
                    due_at=task.due_at,
                    state=task.state.value,
                    overdue=task.state is TaskState.open and task.due_at <= now,
                    done_at=task.done_at,
                    comment=task.comment,
                    marked_by=task.marked_by,
                )
                for task in activation.tasks
            ],
        )
        for activation in activations
    ]


def activation_read(session: Session, activation: Activation, *, now: datetime) -> ActivationRead:
    return activation_reads(session, [activation], now=now)[0]


def activation_list(
    session: Session, *, area: str | None, drill_id: int | None, state: ActivationState | None, now: datetime
) -> ActivationList:
    activations = service.list_activations(session, area=area, drill_id=drill_id, state=state)
    return ActivationList(items=activation_reads(session, activations, now=now), total=len(activations))
