"""Action cards in use: the list of activations (real ones, or a drill's) with their progress, and each one's task
board live like an alert's page (the page asks for its live part every few seconds): the tasks per organisation and
role, their state, who did what and when, what is overdue; an operator marks a task on someone's behalf with an
audited reason, or ends the card. Through the same ``actioncards`` use cases as the API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from actioncards import activation, marking, read, service
from actioncards.schemas import ActivationRead
from alueturva.api_types import PathId
from alueturva.app.web.layout import page_language, render
from alueturva.app.web.security import OperatorUser, PageMissing, ViewerUser
from alueturva.auth.roles import Role
from alueturva.auth.sessions import SignedIn
from alueturva.db import get_database, utcnow
from alueturva.errors import DomainError, NotFound
from contacts.catalogue import place_names, roles_by_key

router = APIRouter(include_in_schema=False)
POLL_SECONDS = 5


def progress(item: ActivationRead) -> tuple[int, int]:
    """(done, all but cancelled) of an activation's tasks."""
    counted = [task for task in item.tasks if task.state != "cancelled"]
    return sum(task.state == "done" for task in counted), len(counted)


@router.get("/activations", response_class=HTMLResponse)
def activation_list(
    request: Request, user: ViewerUser, drill_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
) -> HTMLResponse:
    with get_database().session() as session:
        items = read.activation_list(session, area=None, drill_id=drill_id, state=None, now=utcnow()).items
    language = page_language(request)
    rows = [{"item": item, "progress": progress(item), "area": _area(item.area, language)} for item in items]
    return render(request, "activations.html.j2", user=user, rows=rows, drill_id=drill_id)


def _area(key: str, language: str) -> str:
    names = place_names().get(key)
    return names.get(language, key) if names else key


def board_state(activation_id: int, user: SignedIn, language: str) -> dict[str, Any]:
    """The board: tasks grouped by organisation, then by role; progress; what an operator may do."""
    with get_database().session() as session:
        try:
            item = read.activation_read(
                session, service.get_activation(session, activation_id=activation_id), now=utcnow()
            )
        except NotFound as exc:
            raise PageMissing() from exc
    roles = roles_by_key()
    groups: dict[str, list[dict[str, Any]]] = {}
    for task in sorted(item.tasks, key=lambda t: (t.organisation or "", t.position, t.role)):
        role = roles.get(task.role)
        groups.setdefault(task.organisation or "", []).append(
            {
                "task": task,
                "text": task.text.get(language) or task.text["fi"],
                "role": role.names.model_dump().get(language, task.role) if role else task.role,
                "state": "overdue" if task.overdue else task.state,
            }
        )
    done, counted = progress(item)
    operator = user.principal.may(Role.operator)
    return {
        "item": item,
        "title": item.title.get(language) or item.title["fi"],
        "area": _area(item.area, language),
        "groups": sorted(groups.items()),
        "done": done,
        "counted": counted,
        "overdue": sum(task.overdue for task in item.tasks),
        "can_act": operator and item.state == "active",
        "poll_seconds": POLL_SECONDS,
    }


@router.get("/activations/{activation_id}", response_class=HTMLResponse)
def board(request: Request, activation_id: PathId, user: ViewerUser) -> HTMLResponse:
    return render(request, "activation.html.j2", user=user, **board_state(activation_id, user, page_language(request)))


@router.get("/activations/{activation_id}/live", response_class=HTMLResponse)
def board_live(request: Request, activation_id: PathId, user: ViewerUser) -> HTMLResponse:
    state = board_state(activation_id, user, page_language(request))
    return render(request, "activation_live.html.j2", user=user, **state)


def _refused(request: Request, activation_id: int, user: SignedIn, status_code: int, error: str) -> HTMLResponse:
    state = board_state(activation_id, user, page_language(request))
    return render(request, "activation.html.j2", user=user, status_code=status_code, error=error, **state)


def _task_of(activation_id: int, task_id: int) -> None:
    with get_database().session() as session:
        try:
            task = service.get_task(session, task_id=task_id)
        except NotFound as exc:
            raise PageMissing() from exc
        if task.activation_id != activation_id:
            raise PageMissing()


@router.post("/activations/{activation_id}/tasks/{task_id}/mark", response_class=HTMLResponse)
def mark(
    request: Request,
    activation_id: PathId,
    task_id: PathId,
    user: OperatorUser,
    mark: Annotated[Literal["done", "cannot"], Form()],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Mark a task on its holder's behalf; the reason is audited."""
    _task_of(activation_id, task_id)
    if not reason.strip():
        return _refused(request, activation_id, user, 422, "cards_reason_required")
    try:
        marking.mark_on_behalf(task_id=task_id, mark=mark, actor=user.principal.actor, reason=reason.strip())
    except DomainError as exc:
        return _refused(request, activation_id, user, exc.status_code, "cards_refused")
    return RedirectResponse(f"/activations/{activation_id}", status_code=303)


@router.post("/activations/{activation_id}/close", response_class=HTMLResponse)
def close(
    request: Request, activation_id: PathId, user: OperatorUser, reason: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    """End the card: its open tasks are cancelled and their holders told."""
    if not reason.strip():
        return _refused(request, activation_id, user, 422, "cards_reason_required")
    try:
        activation.close_by_hand(activation_id=activation_id, actor=user.principal.actor, reason=reason.strip())
    except DomainError as exc:
        return _refused(request, activation_id, user, exc.status_code, "cards_refused")
    return RedirectResponse(f"/activations/{activation_id}", status_code=303)
