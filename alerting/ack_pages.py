"""Acknowledgement links: ``GET /ack/{token}`` shows the alert on a phone-sized page; only ``POST`` acknowledges
(mail scanners follow GET links). A tampered or expired token gets a 4xx page and records nothing."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from alerting import acknowledgements, service
from alerting.messages import alert_content, environment
from alerting.models import AckMethod, AlertStatus, Recipient
from alerting.texts import EXERCISE_WORD, texts
from alerting.tokens import TokenExpired, TokenInvalid, read_ack_token
from alueturva.db import get_database
from alueturva.errors import NotFound
from alueturva.i18n import LANGUAGE_LABELS, LANGUAGES, format_time
from alueturva.localized import versions_for
from alueturva.settings import get_settings
from alueturva.throttling import client_address, link_attempts, link_failures, retry_after_header, throttle_for
from contacts.models import Organisation

router = APIRouter(tags=["acknowledgement pages"], include_in_schema=False)

Token = Annotated[str, Path(max_length=400)]
OPTION_NUMBER = re.compile(r"[1-9]")

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


@dataclass(frozen=True)
class AlertPart:
    """The alert's text in one language (the page shows Finnish and Swedish together where that is the reader's
    version)."""

    language: str
    title: str
    message: str


@dataclass(frozen=True)
class PageState:
    language: str
    exercise: bool
    parts: list[AlertPart]
    sent: str
    options: list[str]
    notice: str | None
    can_acknowledge: bool


class PageError(Exception):
    def __init__(self, status_code: int, key: str) -> None:
        self.status_code = status_code
        self.key = key


def _language(requested: str | None, fallback: str) -> str:
    if requested in LANGUAGES:
        return str(requested)
    return fallback if fallback in LANGUAGES else get_settings().default_language


def _page(
    *, status_code: int, language: str, token: str, state: PageState | None = None, error_key: str | None = None
) -> HTMLResponse:
    t = texts(language)
    exercise = bool(state and state.exercise)
    html = (
        environment()
        .get_template("ack_page.html.j2")
        .render(
            lang=language,
            t={**t, "exercise": EXERCISE_WORD[language]},
            exercise=exercise,
            heading=t["page_heading"],
            error=t[error_key] if error_key else None,
            parts=state.parts if state else [],
            sent=state.sent if state else None,
            notice=state.notice if state else None,
            can_acknowledge=bool(state and state.can_acknowledge),
            options=state.options if state else [],
            action=f"/ack/{token}?lang={language}",
            languages=LANGUAGE_LABELS,
        )
    )
    return HTMLResponse(html, status_code=status_code, headers=_HEADERS)


def _recipient(session: Session, token: str) -> Recipient:
    try:
        claims = read_ack_token(token)
    except TokenExpired as exc:
        raise PageError(410, "expired_link") from exc
    except TokenInvalid as exc:
        raise PageError(400, "bad_link") from exc
    try:
        recipient = service.get_recipient(session, alert_id=claims.alert_id, recipient_id=claims.recipient_id)
    except NotFound as exc:
        raise PageError(404, "bad_link") from exc
    if not hmac.compare_digest(recipient.link_nonce.encode(), claims.nonce.encode()):
        raise PageError(404, "bad_link")
    return recipient


def _state(session: Session, recipient: Recipient, language: str, notice_key: str | None) -> PageState:
    alert = recipient.alert
    t = texts(language)
    content = alert_content(alert)
    organisation = session.get(Organisation, recipient.organisation_id)
    version = versions_for(
        content.languages, reader=language, organisation_languages=organisation.languages if organisation else []
    )
    if notice_key is None:
        if recipient.acknowledged_at is not None:
            notice_key = "already"
        elif alert.status is AlertStatus.cancelled:
            notice_key = "cancelled_page"
        elif alert.status is AlertStatus.closed:
            notice_key = "closed"
    return PageState(
        language=language,
        exercise=alert.exercise,
        parts=[AlertPart(part, content.title[part], content.message[part]) for part in version],
        sent=t["sent_at"].format(time=format_time(alert.created_at, language)),
        options=[" / ".join(option[part] for part in version) for option in content.options],
        notice=t[notice_key] if notice_key else None,
        can_acknowledge=recipient.acknowledged_at is None and alert.status is not AlertStatus.cancelled,
    )


Answer = tuple[int, str, PageState | None, str | None]  # status, language, the alert's state, an error text key


def _with_recipient(token: str, lang: str | None, act: Callable[[Session, Recipient, str], Answer]) -> Answer:
    """``act`` on the token's recipient in the page's language, or the error page's answer."""
    with get_database().session() as session:
        try:
            recipient = _recipient(session, token)
        except PageError as error:
            return error.status_code, _language(lang, get_settings().default_language), None, error.key
        return act(session, recipient, _language(lang, recipient.language))


def _show(session: Session, recipient: Recipient, language: str) -> Answer:
    return 200, language, _state(session, recipient, language, None), None


def _acknowledge(session: Session, recipient: Recipient, language: str, *, response: str) -> Answer:
    options = recipient.alert.response_options
    choice: int | None = None
    if response.strip():
        # ASCII digits only: str.isdigit() also accepts "²", which int() refuses
        if not OPTION_NUMBER.fullmatch(response.strip()) or not 1 <= int(response) <= len(options):
            return 422, language, _state(session, recipient, language, None), "bad_response"
        choice = int(response)
    outcome = acknowledgements.acknowledge(
        session, recipient=recipient, method=AckMethod.link, actor=f"link:recipient:{recipient.id}", response=choice
    )
    notice = "already" if outcome.already else "late" if outcome.late else "acknowledged"
    return 200, language, _state(session, recipient, language, notice), None


def show(token: str, lang: str | None) -> Answer:
    return _with_recipient(token, lang, _show)


def acknowledge(token: str, lang: str | None, response: str) -> Answer:
    return _with_recipient(token, lang, partial(_acknowledge, response=response))


BAD_LINK_STATUSES = (400, 404, 410)


def _too_many(token: str, lang: str | None, wait: float) -> HTMLResponse:
    language = _language(lang, get_settings().default_language)
    page = _page(status_code=429, language=language, token=token, error_key="too_many")
    page.headers.update(retry_after_header(wait))
    return page


async def _answer(
    request: Request, token: str, lang: str | None, run: Callable[[], Answer], *, submit: bool
) -> HTMLResponse:
    """Run the page's work within the limits: submissions per link, and invalid links per client address (past
    that limit an invalid link gets 429; a valid one always goes through, since a mobile operator puts many phones
    behind one address)."""
    throttle = throttle_for(request.app.state)
    if submit:
        link = hashlib.sha256(token.encode()).hexdigest()[:32]
        if (wait := await throttle.hit(link_attempts(), link)) is not None:
            return _too_many(token, lang, wait)
    status_code, language, state, error = await run_in_threadpool(run)
    if status_code in BAD_LINK_STATUSES:
        address = client_address(request.scope)
        if (wait := await throttle.hit(link_failures(), address)) is not None:
            return _too_many(token, lang, wait)
    return _page(status_code=status_code, language=language, token=token, state=state, error_key=error)


@router.get("/ack/{token}", response_class=HTMLResponse)
async def ack_page(
    request: Request, token: Token, lang: Annotated[str | None, Query(max_length=5)] = None
) -> HTMLResponse:
    return await _answer(request, token, lang, partial(show, token, lang), submit=False)


@router.post("/ack/{token}", response_class=HTMLResponse)
async def ack_submit(
    request: Request,
    token: Token,
    response: Annotated[str, Form(max_length=5)] = "",
    lang: Annotated[str | None, Query(max_length=5)] = None,
) -> HTMLResponse:
    return await _answer(request, token, lang, partial(acknowledge, token, lang, response), submit=True)
