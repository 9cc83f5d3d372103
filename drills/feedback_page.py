"""The feedback form a participant opens from the link in their feedback request: ``GET /feedback/{token}`` shows
the drill's questions on one phone-sized page in the participant's language, marked as an exercise; ``POST`` stores
the answers once. A link that is not ours, or has expired, or has been answered gets a page saying so and changes
nothing."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool

from alerting.public import EXERCISE_WORD
from alueturva.errors import Conflict, DomainError, Invalid, NotFound
from drills import feedback, texts

router = APIRouter(tags=["feedback pages"], include_in_schema=False)
Token = Annotated[str, PathParam(max_length=400)]
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}
MAX_QUESTIONS = 5


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(Path(__file__).with_name("templates"))),
        autoescape=select_autoescape(enabled_extensions=("html", "j2")),
        undefined=StrictUndefined,
    )


def _page(*, language: str, status_code: int, form: feedback.FeedbackForm | None = None, note: str | None = None,
          given: list[str | None] | None = None) -> HTMLResponse:  # fmt: skip
    def say(key: str) -> str:
        return texts.text(f"feedback_{key}", language)

    html = _environment().get_template("feedback.html.j2").render(
        lang=language, say=say, exercise=EXERCISE_WORD[language], form=form, note=note, given=given or [],
        questions=[{"kind": q["kind"], "text": q["text"].get(language) or q["text"]["fi"]} for q in form.questions]
        if form else [],
    )  # fmt: skip
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)


def _refusal(exc: DomainError) -> HTMLResponse:
    key = {"expired": "expired", "answered": "answered"}.get(str(exc), "invalid")
    return _page(language="fi", status_code=exc.status_code, note=key)


@router.get("/feedback/{token}", response_class=HTMLResponse)
async def feedback_form(token: Token) -> HTMLResponse:
    try:
        form = await run_in_threadpool(feedback.form, token)
    except (NotFound, Conflict) as exc:
        return _refusal(exc)
    if form.answered:
        return _page(language=form.language, status_code=409, note="answered")
    return _page(language=form.language, status_code=200, form=form)


@router.post("/feedback/{token}", response_class=HTMLResponse)
async def send_feedback(token: Token, request: Request) -> HTMLResponse:
    fields = await request.form()
    given = [str(fields.get(f"q{n}", ""))[:2000] for n in range(MAX_QUESTIONS)]
    try:
        form = await run_in_threadpool(feedback.form, token)
        given = given[: len(form.questions)]
        await run_in_threadpool(lambda: feedback.answer(token=token, given=list(given)))
    except Invalid:
        return _page(language=form.language, status_code=422, form=form, note="required", given=list(given))
    except (NotFound, Conflict) as exc:
        language = form.language if "form" in locals() else "fi"
        if str(exc) == "answered":
            return _page(language=language, status_code=409, note="answered")
        return _refusal(exc)
    return _page(language=form.language, status_code=200, note="thanks")
