"""Writing a drill's after-action report in the console: the narrative sections in each language, the publicity
marking and the distribution list, and approving it as a new version, through the same
``drills.report.approval`` use cases as ``PATCH /api/v1/drills/{id}/report`` and ``POST …/report/approve``. The
course of events is edited through the API; here it is shown as it stands."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from alueturva.api_types import PathId
from alueturva.app.web.drills import existing_drill, missing_is_404
from alueturva.app.web.layout import page_language, render
from alueturva.app.web.security import OperatorUser
from alueturva.auth.sessions import SignedIn
from alueturva.errors import Conflict, DomainError
from alueturva.i18n import LANGUAGE_LABELS, LANGUAGES
from drills import service, texts
from drills.report import approval
from drills.report.texts import words
from drills.schemas import NARRATIVE_SECTIONS, ReportApprove, ReportUpdate

router = APIRouter(include_in_schema=False)
MARKINGS = ("public", "personal_data", "secret_24_1_8")
MAX_FIELD = 20_000


def _page(
    request: Request, drill_id: int, user: SignedIn, *, status_code: int = 200, problem: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    language = page_language(request)
    with existing_drill() as session:
        drill = service.get_drill(session, drill_id=drill_id)
        if drill.started_at is None:
            return RedirectResponse(f"/drills/{drill_id}", status_code=303)
        report = approval.report_document(session, drill_id=drill_id, language=language, contact_details=False)
        name = texts.drill_text(drill, "name", language)
    written = {
        f"{section}_{lang}": getattr(report.sections, section).get(lang, "")
        for section in NARRATIVE_SECTIONS
        for lang in LANGUAGES
    }
    written["distribution"] = "\n".join(report.approval.distribution)
    written["marking"] = report.approval.marking or ""
    return render(
        request,
        "drill_report_write.html.j2",
        user=user,
        status_code=status_code,
        drill_id=drill_id,
        name=name,
        report=report,
        sections=NARRATIVE_SECTIONS,
        section_languages=LANGUAGE_LABELS,
        headings=words("narrative", language),
        markings=[(key, words("marking", language)[key]) for key in MARKINGS],
        written=written | (typed or {}),
        problem=problem,
    )


@router.get("/drills/{drill_id}/report/write")
def write_page(request: Request, drill_id: PathId, user: OperatorUser) -> Response:
    return _page(request, drill_id, user)


def _update(form: dict[str, Any]) -> ReportUpdate:
    values: dict[str, Any] = {
        section: {lang: str(form.get(f"{section}_{lang}", ""))[:MAX_FIELD].replace("\r\n", "\n") for lang in LANGUAGES}
        for section in NARRATIVE_SECTIONS
    }
    if form.get("marking"):
        values["marking"] = form["marking"]
    lines = [line.strip() for line in str(form.get("distribution", "")).splitlines()]
    values["distribution"] = [line for line in lines if line]
    return ReportUpdate.model_validate(values)


@router.post("/drills/{drill_id}/report/write")
async def save(request: Request, drill_id: PathId, user: OperatorUser) -> Response:
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    try:
        payload = _update(form)
        with missing_is_404():
            approval.update_report(drill_id=drill_id, payload=payload, actor=user.principal.actor)
    except (ValidationError, DomainError) as exc:
        problem = "action_refused" if isinstance(exc, Conflict) else "check_values"
        status_code = exc.status_code if isinstance(exc, DomainError) else 422
        return _page(request, drill_id, user, status_code=status_code, problem=problem, typed=form)
    return RedirectResponse(f"/drills/{drill_id}/report/write#saved", status_code=303)


@router.post("/drills/{drill_id}/report/approve")
def approve(request: Request, drill_id: PathId, user: OperatorUser) -> Response:
    try:
        with missing_is_404():
            approval.approve(
                drill_id=drill_id, payload=ReportApprove(), actor=user.principal.actor,
                name=user.principal.name or user.principal.actor,
            )  # fmt: skip
    except DomainError as exc:
        problem = "report_approve_refused" if exc.status_code == 422 else "report_nothing_changed"
        return _page(request, drill_id, user, status_code=exc.status_code, problem=problem)
    return RedirectResponse(f"/drills/{drill_id}/report/write#approved", status_code=303)
