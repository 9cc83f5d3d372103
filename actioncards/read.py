"""Action cards as the API and the console read them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from actioncards import service
from actioncards.models import ReviewSubject
from actioncards.schemas import CardList, CardRead, ReviewRead, ReviewStatus, ReviewStatusList
from contacts.models import Organisation, OrganisationKind


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
