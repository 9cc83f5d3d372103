"""The alerts: a list, and each alert's page with its acknowledgements arriving live (the page asks for its live
part every few seconds), who is still silent with the numbers to phone, the calls per person (placed, answered,
how long, the last outcome), the poll's answers, acknowledging on
someone's behalf and cancelling with a reason, through the same ``alerting.flows`` as the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from alerting import counts, flows, service
from alerting.schemas import AlertEventRead
from alueturva.api_types import PathId
from alueturva.app.web.layout import page_language, render
from alueturva.app.web.security import OperatorUser, PageMissing, ViewerUser
from alueturva.app.web.texts import text, text_file
from alueturva.auth.roles import Role
from alueturva.auth.service import actor_names
from alueturva.auth.sessions import SignedIn
from alueturva.db import get_database
from alueturva.digits import ascii_int
from alueturva.errors import DomainError, NotFound
from contacts.service import organisation_names

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
SILENT_SHOWN = 500
CALLS_SHOWN = 500
POLL_SECONDS = 3


@router.get("/alerts", response_class=HTMLResponse)
def alert_list(request: Request, user: ViewerUser, page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    with get_database().session() as session:
        alerts, total = service.list_alerts(session, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        language = page_language(request)
        rows = [
            {
                "alert": alert,
                "title": (alert.translations or {}).get(language, {}).get("title") or alert.title,
                "counts": counts.alert_counts(session, alert_id=alert.id)[0],
            }
            for alert in alerts
        ]
    pages = max(1, -(-total // PAGE_SIZE))
    return render(request, "alerts.html.j2", user=user, rows=rows, total=total, page=page, pages=pages)


def live_state(alert_id: int, user: SignedIn, language: str) -> dict[str, Any]:
    """What changes while people acknowledge: counts, the poll, who is silent (numbers only for operators). The
    alert's text is shown in the page's language when the alert was written in it, otherwise in Finnish."""
    try:
        status = flows.alert_status(alert_id)
    except NotFound as exc:
        raise PageMissing() from exc
    with get_database().session() as session:
        silent, silent_total = service.silent_recipients(session, alert_id=alert_id, limit=SILENT_SHOWN)
        calls = service.call_rows(session, alert_id=alert_id, limit=CALLS_SHOWN)
        actors = actor_names(session, (str(e.details.get("by")) for e in status.events if e.kind == "cancelled"))
        names = organisation_names(session)
    text = status.texts.get(language) or status.texts["fi"]
    operator = user.principal.may(Role.operator)
    return {
        "alert": status,
        "text": text,
        "silent": silent,
        "silent_total": silent_total,
        "calls": calls,
        "answers": [(a.option, text.response_options[a.option - 1], a.count) for a in status.answers],
        "show_numbers": operator,
        "can_act": operator and status.status == "open",
        "poll_seconds": POLL_SECONDS,
        "event_text": lambda event: event_text(event, language, actors),
        "organisation_names": names,
    }


# An escalation event's count, by the detail that holds it.
_COUNTED = {
    "reminders_sent": "recipients",
    "deputies_alerted": "deputies",
    "silent_recipients": "count",
    "calls_started": "calls",
}


def event_text(event: AlertEventRead, language: str, actors: dict[str, str]) -> str:
    """An alert's event in the page's language: counts with their plural forms, a person by name."""
    if event.kind in _COUNTED:
        return text(f"event_{event.kind}", language, count=int(str(event.details.get(_COUNTED[event.kind], 0))))
    if event.kind == "cancelled":
        by = str(event.details.get("by"))
        return text("event_cancelled", language, by=actors.get(by, by))
    return text(f"event_{event.kind}", language) if f"event_{event.kind}" in text_file().entries else event.kind


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(request: Request, alert_id: PathId, user: ViewerUser) -> HTMLResponse:
    return render(request, "alert.html.j2", user=user, **live_state(alert_id, user, page_language(request)))


@router.get("/alerts/{alert_id}/live", response_class=HTMLResponse)
def alert_live(request: Request, alert_id: PathId, user: ViewerUser) -> HTMLResponse:
    return render(request, "alert_live.html.j2", user=user, **live_state(alert_id, user, page_language(request)))


@router.post("/alerts/{alert_id}/recipients/{recipient_id}/acknowledge")
def acknowledge_on_behalf(
    alert_id: PathId,
    recipient_id: PathId,
    user: OperatorUser,
    note: Annotated[str, Form(max_length=500)] = "",
    response: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    flows.acknowledge_on_behalf(
        alert_id=alert_id,
        recipient_id=recipient_id,
        actor=user.principal.actor,
        response=number if (number := ascii_int(response)) is not None and 1 <= number <= 9 else None,
        note=note.strip() or None,
    )
    return RedirectResponse(f"/alerts/{alert_id}#silent", status_code=303)


@router.post("/alerts/{alert_id}/cancel", response_class=HTMLResponse)
def cancel(
    request: Request, alert_id: PathId, user: OperatorUser, reason: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    if not reason.strip():
        state = live_state(alert_id, user, page_language(request))
        return render(
            request, "alert.html.j2", user=user, status_code=422, cancel_error="cancel_reason_required", **state
        )
    try:
        flows.cancel_alert(alert_id=alert_id, actor=user.principal.actor, reason=reason.strip())
    except DomainError as exc:
        return render(
            request,
            "alert.html.j2",
            user=user,
            status_code=exc.status_code,
            cancel_error="cancel_refused",
            **live_state(alert_id, user, page_language(request)),
        )
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)
