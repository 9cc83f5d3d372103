"""The action cards HTTP API (docs/action-cards.md): viewers read cards and reviews; admins write cards and card sets
and record the municipalities' reviews."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response, status

from actioncards import cardsets, flows, read
from actioncards.schemas import CardIn, CardList, CardRead, ImportResult, ReviewIn, ReviewRead, ReviewStatusList
from alueturva.api_types import SafeQueryText
from alueturva.auth.dependencies import Admin, DbSession, Viewer
from alueturva.errors import API_ERRORS

router = APIRouter(prefix="/api/v1/action-cards", tags=["action cards"], responses=API_ERRORS)
KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
SET_QUERY = Query(min_length=1, max_length=80, pattern=KEY_PATTERN, alias="set")
CardKeyPath = Annotated[str, Path(min_length=1, max_length=80, pattern=KEY_PATTERN)]
YAML_BODY = Body(media_type="application/yaml", description="A card set (docs/action-cards.md), UTF-8")


@router.get("", response_model=CardList)
def list_cards(
    session: DbSession,
    _: Viewer,
    card_set: Annotated[SafeQueryText | None, Query(max_length=80, alias="set")] = None,
    level: Annotated[SafeQueryText | None, Query(max_length=40)] = None,
    area: Annotated[SafeQueryText | None, Query(max_length=60)] = None,
    active: bool | None = None,
) -> CardList:
    return read.card_list(session, card_set=card_set, level=level, area=area, active=active)


@router.post("", response_model=CardRead, status_code=status.HTTP_201_CREATED)
def create_card(body: CardIn, principal: Admin) -> CardRead:
    """A new card: a risk at a raised level (or a drill kind), where it applies and its ordered tasks per role."""
    return flows.create_card(payload=body, actor=principal.actor)


@router.put("/{key}", response_model=CardRead)
def replace_card(key: CardKeyPath, body: CardIn, principal: Admin) -> CardRead:
    """A card's new contents, as a new version."""
    return flows.replace_card(key=key, payload=body, actor=principal.actor)


@router.post("/import", response_model=ImportResult)
def import_set(
    principal: Admin,
    body: Annotated[bytes, YAML_BODY] = b"",
    dry_run: Annotated[bool, Query(description="Check and list the changes, change nothing")] = False,
) -> ImportResult:
    """A card set file, all or nothing: new cards are added, changed ones get a new version."""
    return flows.import_set(data=body, source="card set", actor=principal.actor, dry_run=dry_run)


@router.get("/export", response_class=Response, responses={200: {"content": {"application/yaml": {}}}})
def export_set(session: DbSession, _: Admin, card_set: Annotated[str, SET_QUERY]) -> Response:
    return Response(
        cardsets.export_set(session, card_set=card_set).encode("utf-8"),
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{card_set}.yaml"'},
    )


@router.get("/reviews", response_model=ReviewStatusList)
def review_status(session: DbSession, _: Viewer) -> ReviewStatusList:
    """Each municipality's latest review of its action cards and of its management group's composition."""
    return read.review_status(session)


@router.post("/reviews", response_model=ReviewRead, status_code=status.HTTP_201_CREATED)
def record_review(body: ReviewIn, principal: Admin) -> ReviewRead:
    """A municipality checked its action cards or its management group's composition: who, when, a comment."""
    return flows.record_review(payload=body, actor=principal.actor)
