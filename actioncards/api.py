"""The action cards HTTP API (docs/action-cards.md): viewers read cards and reviews; admins write cards and card sets
and record the municipalities' reviews."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response, status

from actioncards import activation, cardsets, flows, marking, read, service
from actioncards.marking import Mark
from actioncards.models import ActivationState
from actioncards.schemas import (
    ActivationIn,
    ActivationList,
    ActivationRead,
    CardIn,
    CardList,
    CardRead,
    CloseIn,
    ImportResult,
    MarkIn,
    ReviewIn,
    ReviewRead,
    ReviewStatusList,
)
from alueturva.api_types import MAX_ID, PathId, SafeQueryText
from alueturva.auth.dependencies import Admin, DbSession, Operator, Viewer
from alueturva.auth.service import Principal
from alueturva.db import get_database, utcnow
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


activations_router = APIRouter(prefix="/api/v1", tags=["action cards"], responses=API_ERRORS)


@activations_router.get("/activations", response_model=ActivationList)
def list_activations(
    session: DbSession,
    _: Viewer,
    area: Annotated[SafeQueryText | None, Query(max_length=60)] = None,
    drill_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="A drill's activations (else the real)")] = None,
    state: ActivationState | None = None,
) -> ActivationList:
    """Activations, newest first, each with its tasks per organisation and person (names, never numbers)."""
    return read.activation_list(session, area=area, drill_id=drill_id, state=state, now=utcnow())


@activations_router.get("/activations/{activation_id}", response_model=ActivationRead)
def get_activation(activation_id: PathId, session: DbSession, _: Viewer) -> ActivationRead:
    return read.activation_read(session, service.get_activation(session, activation_id=activation_id), now=utcnow())


@activations_router.post("/activations", response_model=ActivationRead, status_code=status.HTTP_201_CREATED)
def activate(body: ActivationIn, principal: Operator) -> ActivationRead:
    """Activate a card by hand for an area (with ``drill_id``: as an exercise of that running drill)."""
    return activation.activate_by_hand(payload=body, actor=principal.actor)


@activations_router.post("/activations/{activation_id}/close", response_model=ActivationRead)
def close_activation(activation_id: PathId, body: CloseIn, principal: Operator) -> ActivationRead:
    """End an activation: its open tasks are cancelled."""
    return activation.close_by_hand(activation_id=activation_id, actor=principal.actor, reason=body.reason)


def _marked(task_id: int, mark: Mark, body: MarkIn, principal: Principal) -> ActivationRead:
    activation_id = marking.mark_on_behalf(
        task_id=task_id, mark=mark, actor=principal.actor, reason=body.reason, comment=body.comment
    )
    with get_database().session() as session:
        shown = service.get_activation(session, activation_id=activation_id)
        return read.activation_read(session, shown, now=utcnow())


@activations_router.post("/tasks/{task_id}/done", response_model=ActivationRead)
def task_done(task_id: PathId, body: MarkIn, principal: Operator) -> ActivationRead:
    """Mark a task done on its holder's behalf; the reason is audited. Answers with the task's activation."""
    return _marked(task_id, "done", body, principal)


@activations_router.post("/tasks/{task_id}/cannot", response_model=ActivationRead)
def task_cannot(task_id: PathId, body: MarkIn, principal: Operator) -> ActivationRead:
    """Mark that a task's holder cannot do it; the reason is audited."""
    return _marked(task_id, "cannot", body, principal)
