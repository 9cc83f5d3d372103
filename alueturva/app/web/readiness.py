"""Readiness decisions from the console: on an area, an operator picks a level and writes the reason (required); the
confirmation step shows what the decision sets in motion (which alerts go to whom: each reaction rule's groups and
how many people they reach, or, for an exercise decision, the drill's own recipients), and only the confirmation
decides. The scope works as in the API (``POST /api/v1/readiness/decisions``): a real decision, or an exercise
decision in a running drill that never changes the real level. Decisions go through ``situation.decisions`` and their
reactions are dispatched as the API dispatches them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from alerting.schemas import Targets
from alerting.targets import preview_recipients
from alueturva.app.web.layout import page_language, render
from alueturva.app.web.security import OperatorUser, PageMissing
from alueturva.auth.sessions import SignedIn
from alueturva.db import get_database
from alueturva.digits import ascii_int
from alueturva.errors import Conflict, DomainError, Invalid, NotFound
from contacts.models import Group
from drills import service as drills
from drills.models import DrillState
from drills.texts import drill_text
from situation import decisions
from situation import service as situation_service
from situation.areas import load_area_tree
from situation.config import readiness_config
from situation.flows import current_picture
from situation.schemas import DecisionIn, DecisionPreview

router = APIRouter(include_in_schema=False)

MAX_DRILLS = 20  # running drills offered as the scope of an exercise decision
Text = Annotated[str, Form(max_length=2000)]


def _area_view(session: Session, area_key: str, drill_id: int | None) -> dict[str, Any]:
    try:
        area = load_area_tree(session).get(area_key)
    except (Invalid, NotFound) as exc:
        raise PageMissing() from exc
    picture = current_picture(session, drill_id=drill_id)
    return next(view for view in picture["areas"] if view["key"] == area.key)


def _running_drills(session: Session, language: str) -> list[dict[str, Any]]:
    running, _ = drills.list_drills(session, limit=MAX_DRILLS, offset=0, state=DrillState.running)
    return [{"id": drill.id, "name": drill_text(drill, "name", language)} for drill in running]


def _form_page(
    request: Request,
    user: SignedIn,
    area_key: str,
    values: dict[str, str],
    *,
    errors: list[str],
    status_code: int = 200,
) -> HTMLResponse:
    language = page_language(request)
    with get_database().session() as session:
        view = _area_view(session, area_key, None)
        running = _running_drills(session, language)
    return render(
        request,
        "decide.html.j2",
        user=user,
        status_code=status_code,
        area=view,
        area_name=view["names"][language],
        levels=[(level.key, getattr(level.names, language)) for level in readiness_config().levels],
        drills=running,
        values=values,
        errors=errors,
    )


def _payload(area_key: str, values: dict[str, str]) -> DecisionIn:
    """The API's request body made from the form: the same validation; a missing level or reason is named."""
    problems = [
        key
        for key, missing in (
            ("decide_level_required", not values["level"]),
            ("decide_reason_required", not values["reason"]),
        )
        if missing
    ]
    if problems:
        raise DomainError(problems)
    drill = values["drill_id"]
    return DecisionIn.model_validate(
        {
            "area": area_key,
            "level": values["level"],
            "reason": values["reason"],
            "drill_id": ascii_int(drill),
        }
    )


def _problems(exc: ValidationError | DomainError) -> list[str]:
    """Text keys of the page's language for what was wrong (the console never shows the API's English words)."""
    if isinstance(exc, ValidationError):
        fields = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        return [f"decide_{field}_invalid" for field in ("level", "reason", "drill_id") if field in fields] or [
            "check_values"
        ]
    if isinstance(exc.detail, list):
        return [str(item) for item in exc.detail]
    if isinstance(exc, Conflict | Invalid) and "drill" in str(exc.detail):
        return ["decide_drill_not_running"]
    return ["check_values"]


def _values(level: str, reason: str, drill_id: str) -> dict[str, str]:
    return {"level": level.strip(), "reason": reason.strip(), "drill_id": drill_id.strip()}


def _group_names(session: Session, keys: list[str], language: str) -> dict[str, str]:
    rows = session.execute(select(Group.key, Group.name, Group.name_sv, Group.name_en).where(Group.key.in_(keys)))
    return {key: {"sv": sv, "en": en}.get(language) or fi for key, fi, sv, en in rows}


def _consequences(session: Session, preview: DecisionPreview, language: str) -> list[dict[str, Any]]:
    """Which alerts the decision sends and to whom: one per matching reaction rule."""
    if not preview.reaction_rules:
        return []
    if preview.drill_id is not None:
        drill = drills.get_drill(session, drill_id=preview.drill_id)
        people = preview_recipients(session, targets=Targets.model_validate(drill.targets))
        name = drill_text(drill, "name", language)
        return [{"kind": "drill", "name": name, "count": len(people)} for _ in preview.reaction_rules]
    rules = {rule.key: rule for rule in readiness_config().reactions}
    tree = load_area_tree(session)
    area = tree.get(preview.area)
    shown = []
    for rule_key in preview.reaction_rules:
        groups = decisions.expand_groups(rules[rule_key].groups, area)
        names = _group_names(session, groups, language)
        shown.append(
            {
                "kind": "groups",
                "groups": [names[key] for key in groups if key in names],
                "count": situation_service.people_in_groups(session, group_keys=groups),
            }
        )
    return shown


@router.get("/situation/{area_key}/decide", response_class=HTMLResponse)
def decide_form(request: Request, area_key: str, user: OperatorUser) -> HTMLResponse:
    return _form_page(request, user, area_key, _values("", "", ""), errors=[])


@router.post("/situation/{area_key}/decide", response_class=HTMLResponse)
def decide_preview(
    request: Request, area_key: str, user: OperatorUser, level: Text = "", reason: Text = "", drill_id: Text = ""
) -> HTMLResponse:
    """The confirmation step: the decision as it would be made, and what it sets in motion."""
    values = _values(level, reason, drill_id)
    language = page_language(request)
    try:
        payload = _payload(area_key, values)
        with get_database().session() as session:
            preview = decisions.preview(session, payload=payload)
            view = _area_view(session, area_key, payload.drill_id)
            consequences = _consequences(session, preview, language)
            drill = drills.get_drill(session, drill_id=payload.drill_id) if payload.drill_id else None
            drill_name = drill_text(drill, "name", language) if drill else None
    except (ValidationError, DomainError) as exc:
        return _form_page(request, user, area_key, values, errors=_problems(exc), status_code=422)
    level_names = {level.key: getattr(level.names, language) for level in readiness_config().levels}
    return render(
        request,
        "decide_confirm.html.j2",
        user=user,
        area=view,
        area_name=view["names"][language],
        values=values,
        preview=preview,
        level_names=level_names,
        consequences=consequences,
        drill_name=drill_name,
    )


@router.post("/situation/{area_key}/decide/confirm")
def decide_confirm(
    request: Request, area_key: str, user: OperatorUser, level: Text = "", reason: Text = "", drill_id: Text = ""
) -> Response:
    """Make the decision as ``POST /api/v1/readiness/decisions`` makes it (one flow: recorded, committed, then what it
    sets in motion dispatched)."""
    values = _values(level, reason, drill_id)
    try:
        payload = _payload(area_key, values)
        decision = decisions.decide(payload=payload, actor=user.principal.actor)
    except (ValidationError, DomainError) as exc:
        return _form_page(request, user, area_key, values, errors=_problems(exc), status_code=422)
    target = f"/drills/{payload.drill_id}" if payload.drill_id else f"/#tile-{decision.area}"
    return RedirectResponse(target, status_code=303)
