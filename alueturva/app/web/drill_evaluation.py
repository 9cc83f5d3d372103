"""Evaluating a drill on its page: evaluators' observations (with an optional phase), HSEEP ratings of manual
objectives, strengths and areas for improvement, and the improvement plan with its items' status, through the same
``drills.flows`` and ``drills.findings`` as the API. Each form comes back to its section of the drill's page; a
refused one shows the page again with what was wrong and what was written."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from alueturva.api_types import PathId
from alueturva.app.web.drills import drill_page, missing_is_404
from alueturva.app.web.security import OperatorUser
from alueturva.auth.sessions import SignedIn
from alueturva.digits import ascii_int
from alueturva.errors import Conflict, DomainError
from drills import findings, flows
from drills.schemas import DrillObservationIn, FindingIn, ImprovementItemIn, ImprovementItemUpdate, RatingIn

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=8000)]
Short = Annotated[str, Form(max_length=20)]


def _number(text: str) -> int | None:
    return ascii_int(text)


def _back(drill_id: int, section: str) -> Response:
    return RedirectResponse(f"/drills/{drill_id}#{section}", status_code=303)


def _refused(
    request: Request,
    drill_id: int,
    user: SignedIn,
    form: str,
    exc: ValidationError | DomainError,
    typed: dict[str, str],
) -> Response:
    """The page again: a state that does not allow it says so; anything else is a value to check."""
    if isinstance(exc, Conflict):
        key, status_code = "action_refused", exc.status_code
    else:
        key, status_code = "check_values", 422
    return drill_page(request, drill_id, user, status_code=status_code, problems={form: key}, typed=typed)


@router.post("/drills/{drill_id}/observations")
def observe(request: Request, drill_id: PathId, user: OperatorUser, text: Text = "", phase: Short = "") -> Response:
    typed = {"observation_text": text, "observation_phase": phase}
    if not text.strip():
        return drill_page(
            request, drill_id, user, status_code=422, problems={"observation": "observation_required"}, typed=typed
        )
    try:
        payload = DrillObservationIn(text=text, phase=_number(phase))
        with missing_is_404():
            flows.observe(drill_id=drill_id, payload=payload, actor=user.principal.actor, name=user.principal.name)
    except (ValidationError, DomainError) as exc:
        return _refused(request, drill_id, user, "observation", exc, typed)
    return _back(drill_id, "observations")


@router.post("/drills/{drill_id}/objectives/{position}/rating")
def rate(
    request: Request, drill_id: PathId, position: PathId, user: OperatorUser, rating: Short = "", note: Text = ""
) -> Response:
    try:
        payload = RatingIn.model_validate({"rating": rating, "note": note.strip() or None})
        with missing_is_404():
            flows.rate(drill_id=drill_id, position=position, payload=payload, actor=user.principal.actor)
    except (ValidationError, DomainError) as exc:
        return _refused(request, drill_id, user, f"rating_{position}", exc, {f"rating_note_{position}": note})
    return _back(drill_id, "ratings")


@router.post("/drills/{drill_id}/findings")
def add_finding(
    request: Request, drill_id: PathId, user: OperatorUser, kind: Short = "", text: Text = "", objective: Short = ""
) -> Response:
    typed = {"finding_kind": kind, "finding_text": text, "finding_objective": objective}
    if not text.strip():
        return drill_page(
            request, drill_id, user, status_code=422, problems={"finding": "finding_required"}, typed=typed
        )
    try:
        payload = FindingIn.model_validate({"kind": kind, "text": text, "objective": _number(objective)})
        with missing_is_404():
            findings.add_finding(drill_id=drill_id, payload=payload, actor=user.principal.actor)
    except (ValidationError, DomainError) as exc:
        return _refused(request, drill_id, user, "finding", exc, typed)
    return _back(drill_id, "findings")


@router.post("/drills/{drill_id}/improvement-items")
def add_item(
    request: Request,
    drill_id: PathId,
    user: OperatorUser,
    text: Text = "",
    action: Text = "",
    organisation_id: Short = "",
    due: Short = "",
) -> Response:
    typed = {"item_text": text, "item_action": action, "item_organisation": organisation_id, "item_due": due}
    if not (text.strip() and action.strip()):
        return drill_page(request, drill_id, user, status_code=422, problems={"item": "item_required"}, typed=typed)
    try:
        payload = ImprovementItemIn.model_validate(
            {"text": text, "action": action, "organisation_id": _number(organisation_id), "due": due or None}
        )
        with missing_is_404():
            findings.add_item(drill_id=drill_id, payload=payload, actor=user.principal.actor)
    except (ValidationError, DomainError) as exc:
        return _refused(request, drill_id, user, "item", exc, typed)
    return _back(drill_id, "improvement-plan")


@router.post("/drills/{drill_id}/improvement-items/{item_id}")
def update_item(
    request: Request, drill_id: PathId, item_id: PathId, user: OperatorUser, status: Short = "", note: Text = ""
) -> Response:
    """Move an item of this drill's improvement plan on (in progress, done, dropped), with a note."""
    try:
        payload = ImprovementItemUpdate.model_validate({"status": status, "note": note.strip() or None})
        with missing_is_404():
            findings.update_item(item_id=item_id, payload=payload, actor=user.principal.actor, drill_id=drill_id)
    except (ValidationError, DomainError) as exc:
        return _refused(request, drill_id, user, f"item_{item_id}", exc, {f"item_note_{item_id}": note})
    return _back(drill_id, "improvement-plan")
