"""Sending an alert: choose the targets and write the text (Finnish, and Swedish and English versions), see who it
reaches before sending (recipients per organisation, who has no mobile or email, the SMS segments of each version
the recipients get), confirm, and land on the alert's page. The alert is made by ``alerting.flows.create_alert``, as
the API makes it."""

from __future__ import annotations

import secrets
from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from alerting.config import alerting_config
from alerting.flows import create_alert, sms_segments
from alerting.messages import MessageContent
from alerting.schemas import AlertCreate
from alerting.targets import preview_recipients
from alueturva.app.web import alert_form
from alueturva.app.web.layout import page_language, render
from alueturva.app.web.security import OperatorUser
from alueturva.app.web.texts import text_file
from alueturva.auth.sessions import SignedIn
from alueturva.db import get_database
from alueturva.errors import DomainError
from alueturva.i18n import LANGUAGES
from alueturva.localized import Version, versions_for
from alueturva.settings import get_settings
from situation.config import BASE_LEVEL
from situation.service import current_decisions

router = APIRouter(include_in_schema=False)


def _form_values(form: FormData) -> dict[str, Any]:
    """What the sender chose and wrote, as the form posts it (and the confirmation step posts it back)."""
    values = alert_form.alert_values(form)
    values["exercise"] = form.get("exercise") == "on"
    values["idempotency_key"] = str(form.get("idempotency_key", "")) or secrets.token_urlsafe(16)
    return values


def alert_request(values: dict[str, Any]) -> AlertCreate:
    """The API's request body made from the form: the same validation, the same limits."""
    problems = [
        key
        for key, missing in (
            ("choose_target", not alert_form.any_target(values)),
            ("title_required", not values["title_fi"]),
            ("message_required", not values["message_fi"]),
        )
        if missing
    ]
    problems += [problem for language in LANGUAGES[1:] for problem in alert_form.version_problems(values, language)]
    if problems:
        raise DomainError(problems)
    return AlertCreate.model_validate(
        {
            "title": alert_form.localized(values, "title"),
            "message": alert_form.localized(values, "message"),
            "targets": alert_form.targets(values),
            "channels": values["channels"] or None,
            "exercise": values["exercise"],
            "response_options": alert_form.options(values),
            "idempotency_key": values["idempotency_key"],
        }
    )


def _choices(language: str) -> dict[str, Any]:
    """Everything that can be targeted, and whether a real incident is on (an area above the basic level)."""
    with get_database().session() as session:
        real_incident = any(d.level != BASE_LEVEL for d in current_decisions(session).values())
    return {**alert_form.target_choices(language), "real_incident": real_incident}


def _blank_values(exercise: bool) -> dict[str, Any]:
    values = alert_form.blank_alert_values(list(alerting_config().default_channels))
    values["exercise"] = exercise
    values["idempotency_key"] = secrets.token_urlsafe(16)
    return values


def _form_page(
    request: Request, user: SignedIn, values: dict[str, Any] | None, *, errors: list[str], status_code: int = 200
) -> HTMLResponse:
    choices = _choices(page_language(request))
    return render(
        request,
        "send.html.j2",
        user=user,
        status_code=status_code,
        choices=choices,
        values=values or _blank_values(exercise=not choices["real_incident"]),
        errors=errors,
    )


def _problems(exc: ValidationError | DomainError) -> list[str]:
    """What was wrong, as text keys of the page's language: the form's own checks name their key; anything else
    the API would say in English is shown as the page's own words (the service's message never reaches a page)."""
    if (
        isinstance(exc, DomainError)
        and isinstance(exc.detail, list)
        and all(isinstance(item, str) and item in text_file().entries for item in exc.detail)
    ):
        return [str(item) for item in exc.detail]
    if isinstance(exc, DomainError) and "segments" in str(exc.detail):
        return ["sms_too_long"]
    return ["check_values"]


def too_long_versions(preview: dict[str, Any]) -> list[Version]:
    """The language versions whose alert or reminder SMS is over the segment limit: sending is refused until they
    are shortened."""
    limit = preview["segment_limit"]
    return [
        row["version"]
        for row in preview["sms_versions"]
        if row["alert"].segments > limit or row["reminder"].segments > limit
    ]


@router.get("/alerts/new", response_class=HTMLResponse)
def send_form(request: Request, user: OperatorUser) -> HTMLResponse:
    return _form_page(request, user, None, errors=[])


@router.post("/alerts/new", response_class=HTMLResponse)
async def edit_again(request: Request, user: OperatorUser) -> HTMLResponse:
    """Back from the confirmation step, with everything as it was written."""
    return _form_page(request, user, _form_values(await request.form()), errors=[])


def _preview(request_body: AlertCreate) -> dict[str, Any]:
    with get_database().session() as session:
        people = preview_recipients(session, targets=request_body.targets)
    channels = request_body.channels or list(alerting_config().default_channels)
    content = MessageContent(
        title=request_body.title,
        message=request_body.message,
        exercise=request_body.exercise,
        code="1000",  # every code has four digits: its length is what counts
        options=tuple(request_body.response_options),
    )
    readers: dict[Version, int] = defaultdict(int)
    for person in people:
        if person.has_mobile and "sms" in channels:
            version = versions_for(
                content.languages, reader=person.language, organisation_languages=person.organisation_languages
            )
            readers[version] += 1
    segments = sms_segments(content, readers)
    return {
        "people": people,
        "organisations": alert_form.per_organisation(people),
        "no_mobile": [p for p in people if not p.has_mobile],
        "no_email": [p for p in people if not p.has_email],
        "channels": channels,
        "sms_versions": [
            {
                "version": version,
                "recipients": readers[version],
                "alert": segments[(version, "alert")],
                "reminder": segments[(version, "reminder")],
            }
            for version in sorted(readers)
        ],
        "segment_limit": get_settings().sms_max_segments,
    }


@router.post("/alerts/new/preview", response_class=HTMLResponse)
async def preview(request: Request, user: OperatorUser) -> HTMLResponse:
    values = _form_values(await request.form())
    try:
        body = alert_request(values)
        seen = _preview(body)
    except (ValidationError, DomainError) as exc:
        return _form_page(request, user, values, errors=_problems(exc), status_code=422)
    if not seen["people"]:
        return _form_page(request, user, values, errors=["nobody_targeted"], status_code=422)
    return render(
        request,
        "send_confirm.html.j2",
        user=user,
        values=values,
        preview=seen,
        body=body,
        too_long=too_long_versions(seen) if "sms" in seen["channels"] else [],
    )


@router.post("/alerts/new/send")
async def send(request: Request, user: OperatorUser) -> Response:
    values = _form_values(await request.form())
    try:
        created = create_alert(alert_request(values), actor=user.principal.actor)
    except (ValidationError, DomainError) as exc:
        return _form_page(request, user, values, errors=_problems(exc), status_code=422)
    return RedirectResponse(f"/alerts/{created.alert_id}", status_code=303)
