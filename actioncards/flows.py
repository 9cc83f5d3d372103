"""Action card use cases: each opens its transaction, audits the change in it, commits and returns what is shown."""

from __future__ import annotations

from actioncards import cardsets, service
from actioncards.models import ReviewSubject
from actioncards.schemas import CardIn, CardRead, ImportResult, ReviewIn, ReviewRead
from alueturva.audit import service as audit
from alueturva.db import get_database, utcnow
from alueturva.errors import Conflict, Invalid
from contacts.models import Organisation, OrganisationKind


def create_card(*, payload: CardIn, actor: str) -> CardRead:
    """A new card; its key must be free."""
    cardsets.check_card(payload)
    with get_database().session() as session:
        if service.find_card(session, key=payload.key) is not None:
            raise Conflict(f"an action card '{payload.key}' exists already; change it with PUT")
        card = service.add_card(session, payload=payload, actor=actor)
        audit.record(
            session, actor=actor, action="action_card.create", entity_type="action_card", entity_id=card.key,
            details={"card_set": card.card_set, "tasks": len(card.tasks)},
        )  # fmt: skip
        return CardRead.model_validate(card)


def replace_card(*, key: str, payload: CardIn, actor: str) -> CardRead:
    """A card's new contents, as a new version (its key stays)."""
    if payload.key != key:
        raise Invalid(f"key: the card is '{key}'; a card's key does not change")
    cardsets.check_card(payload)
    with get_database().session() as session:
        card = service.get_card(session, key=key)
        before = cardsets.card_in(card)
        service.replace_card(session, card=card, payload=payload, actor=actor)
        audit.record(
            session, actor=actor, action="action_card.update", entity_type="action_card", entity_id=key,
            details={"version": card.version, "changed": _changed_fields(before, payload)},
        )  # fmt: skip
        return CardRead.model_validate(card)


def _changed_fields(before: CardIn, after: CardIn) -> list[str]:
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    return [name for name in new if old.get(name) != new[name]]


def import_set(*, data: bytes, source: str, actor: str, dry_run: bool = False) -> ImportResult:
    """A card set file, all or nothing: new cards are added, changed ones get a new version, the same ones stay."""
    card_set = cardsets.parse_set(data, source=source)
    result = ImportResult(card_set=card_set.set, created=[], updated=[], unchanged=[], dry_run=dry_run)
    with get_database().session() as session:
        savepoint = session.begin_nested()  # a dry run applies the set and rolls back: its result is the real one's
        for given in card_set.cards:
            payload = given.model_copy(update={"card_set": card_set.set})
            card = service.find_card(session, key=payload.key)
            if card is None:
                service.add_card(session, payload=payload, actor=actor)
                result.created.append(payload.key)
            elif cardsets.card_in(card) != payload:
                service.replace_card(session, card=card, payload=payload, actor=actor)
                result.updated.append(payload.key)
            else:
                result.unchanged.append(payload.key)
        if dry_run:
            savepoint.rollback()
            return result
        savepoint.commit()
        audit.record(
            session, actor=actor, action="action_card.import", entity_type="action_card_set", entity_id=card_set.set,
            details={"created": result.created, "updated": result.updated, "unchanged": len(result.unchanged)},
        )  # fmt: skip
    return result


def record_review(*, payload: ReviewIn, actor: str) -> ReviewRead:
    """A municipality's review of its action cards or of its management group's composition."""
    with get_database().session() as session:
        organisation = session.get(Organisation, payload.organisation_id)
        if organisation is None or organisation.kind != OrganisationKind.municipality:
            raise Invalid(f"organisation_id: {payload.organisation_id} is not a municipality")
        review = service.add_review(
            session,
            organisation_id=organisation.id,
            subject=ReviewSubject(payload.subject),
            reviewed_by=payload.reviewed_by,
            reviewed_at=payload.reviewed_at or utcnow(),
            comment=payload.comment,
            recorded_by=actor,
        )
        audit.record(
            session, actor=actor, action="action_card.review", entity_type="organisation", entity_id=organisation.id,
            details={"review_id": review.id, "subject": payload.subject},
        )  # fmt: skip
        return ReviewRead.model_validate(review)
