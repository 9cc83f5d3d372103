"""The drills: a list, and each drill's page, through the same ``drills`` flows as ``/api/v1/drills``. A drill's page
shows its plan and schedule, and while it runs its progress live (the page asks for its live part every few seconds,
as the alert page does): acknowledgements per organisation and each objective met, not met or still open with the
figure behind it. Operators start it (after a confirmation step that shows whom its exercise alert reaches), start
its phases, end or cancel it. Observations, ratings, findings and the improvement plan are ``drill_evaluation``;
the report files ``drill_report``; planning ``drill_plan``.

Every page about a drill says it is an exercise (HARJOITUS, ÖVNING, EXERCISE). The drill's own vocabulary (kinds,
states, objectives and their figures, HSEEP ratings) comes from the drills domain, as the command line shows it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from alerting.schemas import Targets
from alerting.targets import preview_recipients
from alueturva.api_types import PathId
from alueturva.app.web import alert_form
from alueturva.app.web.layout import page_language, render
from alueturva.app.web.security import OperatorUser, PageMissing, ViewerUser
from alueturva.auth.roles import Role
from alueturva.auth.sessions import SignedIn
from alueturva.db import get_database, utcnow
from alueturva.errors import DomainError, NotFound
from contacts import catalogue
from contacts import service as contacts
from drills import findings, flows, read, service, texts
from drills.models import Drill, DrillKind, DrillState, ItemStatus
from drills.progress import drill_progress
from drills.schemas import HSEEP_RATINGS, DrillRead
from situation.areas import load_area_tree
from situation.config import readiness_config

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
POLL_SECONDS = 3


def sentence(text: str) -> str:
    """The domain's words start lower case (``viestiliikennekoe``); a cell or a heading starts upper case."""
    return text[:1].upper() + text[1:]


@contextmanager
def missing_is_404() -> Iterator[None]:
    """A missing drill (or item of it) is the 404 page."""
    try:
        yield
    except NotFound as exc:
        raise PageMissing() from exc


@contextmanager
def existing_drill() -> Iterator[Session]:
    """A session to read a drill in, in which a missing drill is the 404 page."""
    with missing_is_404(), get_database().session() as session:
        yield session


def _next_start(drill: Drill, schedule: dict[str, Any] | None) -> Any:
    if drill.state is not DrillState.planned or schedule is None:
        return None
    return schedule.get("next_at") or schedule.get("at")


@router.get("/drills", response_class=HTMLResponse)
def drill_list(request: Request, user: ViewerUser, page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    language, now = page_language(request), utcnow()
    with get_database().session() as session:
        drills, total = service.list_drills(session, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        rows = []
        for drill in drills:
            summary = read.summary(drill, now=now)
            last = drill.started_at
            if drill.recurring:
                last = service.latest_occurrence(session, series_id=drill.id)
            rows.append(
                {
                    "drill": summary,
                    "kind": sentence(texts.kind_name(summary.kind, language)),
                    "state": texts.state_name(summary.state, language),
                    "recurring": drill.recurring,
                    "next": _next_start(drill, summary.schedule),
                    "last": last,
                }
            )
    pages = max(1, -(-total // PAGE_SIZE))
    return render(request, "drills.html.j2", user=user, rows=rows, total=total, page=page, pages=pages)


def _target_names(session: Session, targets: dict[str, list[Any]], language: str) -> list[str]:
    """What the drill targets, as people read it (a reference that is no id is shown as written)."""
    suffix = "" if language == "fi" else f"_{language}"
    groups = {g.id: getattr(g, f"name{suffix}", None) or g.name for g, _ in contacts.list_groups(session)}
    organisations = {o.id: o.short_name for o in contacts.list_organisations(session)}
    roles = {r.key: getattr(r.names, language) for r in catalogue.catalogue().roles}
    areas = {key: names[language] for key, names in catalogue.area_names().items()}
    names = [groups.get(g, str(g)) for g in targets.get("groups", [])]
    names += [organisations.get(o, str(o)) for o in targets.get("organisations", [])]
    names += [roles.get(r, str(r)) for r in targets.get("roles", [])]
    names += [areas.get(a, str(a)) for a in targets.get("areas", [])]
    return names


def live_state(drill_id: int, language: str) -> dict[str, Any]:
    """What changes while the drill runs: its state, the acknowledgements of all its alerts per organisation, and
    its objectives evaluated now."""
    with existing_drill() as session:
        shown = read.drill_read(session, service.get_drill(session, drill_id=drill_id), now=utcnow())
    return {
        "drill": shown,
        "state_name": texts.state_name(shown.state, language),
        # a drill imported from its log sent nothing here: its figures are in its report
        "progress": drill_progress(drill_id, language) if shown.started_at and shown.origin == "service" else None,
        "objective_rows": [read.objective_shown(objective, language) for objective in shown.objectives],
        "poll_seconds": POLL_SECONDS,
    }


def _text_in(texts_by_language: dict[str, str] | None, language: str) -> str:
    if not texts_by_language:
        return ""
    return texts_by_language.get(language) or texts_by_language.get("fi", "")


def page_state(drill_id: int, user: SignedIn, language: str) -> dict[str, Any]:
    """Everything the drill's page shows, in the page's language."""
    state = live_state(drill_id, language)
    shown: DrillRead = state["drill"]
    with get_database().session() as session:
        drill_findings = findings.findings_of(session, drill_id=drill_id)
        items = findings.items(session, drill_id=drill_id)
        organisations = [(o.id, o.short_name) for o in contacts.list_organisations(session)]
        target_names = _target_names(session, shown.targets, language)
        places = {key: area.names[language] for key, area in load_area_tree(session).areas.items()}
    levels = {key: getattr(names, language) for key, names in readiness_config().level_names().items()}
    return {
        **state,
        "own": {field: versions[language] for field, versions in shown.versions.items()},
        "kind_name": sentence(texts.kind_name(shown.kind, language)),
        "title": _text_in(shown.title, language),
        "message": _text_in(shown.message, language),
        "options": [_text_in(option, language) for option in shown.response_options],
        "target_names": target_names,
        "people_targeted": len(shown.targets.get("people", [])),
        "held": shown.started_at is not None,
        "can_act": user.principal.may(Role.operator),
        "strengths": [f for f in drill_findings if f.kind.value == "strength"],
        "improvements": [f for f in drill_findings if f.kind.value == "area_for_improvement"],
        "items": items,
        "item_statuses": [status.value for status in ItemStatus],
        "ratings": [(letter, texts.rating_name(letter, language)) for letter in HSEEP_RATINGS],
        "manual_objectives": [row for row in state["objective_rows"] if row.kind == "manual"],
        "organisations": organisations,
        "place_names": places,
        "level_names": levels,
    }


def drill_page(
    request: Request,
    drill_id: int,
    user: SignedIn,
    *,
    status_code: int = 200,
    problems: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    """The drill's page; ``problems`` says per form (``action``, ``observation``, ``finding``, …) what was refused,
    and ``typed`` keeps what was written in a refused form."""
    return render(
        request,
        "drill.html.j2",
        user=user,
        status_code=status_code,
        problems=problems or {},
        typed=typed or {},
        **page_state(drill_id, user, page_language(request)),
    )


def refused(
    request: Request,
    drill_id: int,
    user: SignedIn,
    exc: DomainError,
    *,
    form: str = "action",
    key: str = "action_refused",
) -> HTMLResponse:
    """An action the drill's state does not allow now (started already, not running, …): its page again, saying
    so in the page's language at the form (``problems``) that was refused."""
    return drill_page(request, drill_id, user, status_code=exc.status_code, problems={form: key})


@router.get("/drills/{drill_id}", response_class=HTMLResponse)
def drill_page_route(request: Request, drill_id: PathId, user: ViewerUser) -> HTMLResponse:
    return drill_page(request, drill_id, user)


@router.get("/drills/{drill_id}/live", response_class=HTMLResponse)
def drill_live(request: Request, drill_id: PathId, user: ViewerUser) -> HTMLResponse:
    return render(request, "drill_live.html.j2", user=user, **live_state(drill_id, page_language(request)))


@router.get("/drills/{drill_id}/start", response_class=HTMLResponse)
def confirm_start(request: Request, drill_id: PathId, user: OperatorUser) -> Response:
    """The confirmation step: whom the drill's exercise alert reaches now, per organisation."""
    language = page_language(request)
    with existing_drill() as session:
        drill = service.get_drill(session, drill_id=drill_id)
        if drill.state is not DrillState.planned:
            return RedirectResponse(f"/drills/{drill_id}", status_code=303)
        people = preview_recipients(session, targets=Targets.model_validate(drill.targets))
        facts = {
            "drill_id": drill.id,
            "name": texts.drill_text(drill, "name", language),
            "kind_name": sentence(texts.kind_name(drill.kind.value, language)),
            "recurring": drill.recurring,
            "external_system": drill.external_system if drill.kind is DrillKind.external_system_test else None,
            "sends_alert": bool(drill.title) or drill.kind is DrillKind.external_system_test,
            "title": _text_in(drill.title, language),
            "message": _text_in(drill.message, language),
        }
    return render(
        request,
        "drill_start.html.j2",
        user=user,
        facts=facts,
        people=len(people),
        organisations=alert_form.per_organisation(people),
    )


@router.post("/drills/{drill_id}/start")
def start(request: Request, drill_id: PathId, user: OperatorUser) -> Response:
    """Start it now, as ``POST /api/v1/drills/{id}/start`` does; a recurring plan runs one extra occurrence."""
    try:
        with missing_is_404():
            started_id = flows.start(drill_id=drill_id, actor=user.principal.actor).id
    except DomainError as exc:
        return refused(request, drill_id, user, exc)
    return RedirectResponse(f"/drills/{started_id}", status_code=303)


@router.post("/drills/{drill_id}/phases/{number}/start")
def start_phase(request: Request, drill_id: PathId, number: PathId, user: OperatorUser) -> Response:
    try:
        with missing_is_404():
            flows.start_phase(drill_id=drill_id, number=number, actor=user.principal.actor)
    except DomainError as exc:
        return refused(request, drill_id, user, exc, form="phases", key="phase_refused")
    return RedirectResponse(f"/drills/{drill_id}#phases", status_code=303)


@router.post("/drills/{drill_id}/end")
def end(request: Request, drill_id: PathId, user: OperatorUser) -> Response:
    try:
        with missing_is_404():
            flows.end_by_hand(drill_id=drill_id, actor=user.principal.actor)
    except DomainError as exc:
        return refused(request, drill_id, user, exc)
    return RedirectResponse(f"/drills/{drill_id}", status_code=303)


@router.post("/drills/{drill_id}/cancel")
def cancel(request: Request, drill_id: PathId, user: OperatorUser) -> Response:
    try:
        with missing_is_404():
            flows.cancel(drill_id=drill_id, actor=user.principal.actor)
    except DomainError as exc:
        return refused(request, drill_id, user, exc)
    return RedirectResponse(f"/drills/{drill_id}", status_code=303)
