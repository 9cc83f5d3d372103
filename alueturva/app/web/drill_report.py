"""A drill's after-action report from the console, as ``GET /api/v1/drills/{id}/report`` makes it (the same
``drills.report.approval.report_document``: the latest approved version, or the draft of the next; and
``drills.report.render.export``) but for a signed-in person instead of an
API key: HTML to read in the browser, PDF, and CSV for the councils. The same role rules: viewers read it without mobile
numbers or email addresses; ``redact=true`` leaves organisations and roles only; the CSV is always redacted. The
language is the page's unless ``language`` says otherwise."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from alueturva.api_types import PathId
from alueturva.app.web.drills import existing_drill
from alueturva.app.web.layout import HEADERS, page_language
from alueturva.app.web.security import PageMissing, ViewerUser
from alueturva.auth.sessions import SignedIn
from alueturva.errors import Conflict
from alueturva.i18n import Language
from drills.report.approval import report_document
from drills.report.render import Exported, export
from drills.report.schemas import Report

router = APIRouter(include_in_schema=False)

# The report is one self-contained file: its styles and charts are inline, and it runs no script.
REPORT_HEADERS = {
    **HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'; "
        "base-uri 'none'"
    ),
}
Redact = Annotated[bool, Query(description="Organisations and roles only: no names, numbers or emails")]
ReportLanguage = Annotated[Language | None, Query()]


def _report(request: Request, drill_id: int, user: SignedIn, language: str | None, redact: bool) -> Report:
    try:
        with existing_drill() as session:
            return report_document(
                session,
                drill_id=drill_id,
                language=language or page_language(request),
                redact=redact,
                contact_details=user.principal.sees_contact_details,
            )
    except Conflict as exc:  # not held yet: there is no report of it
        raise PageMissing() from exc


def _file(report: Report, exported: Exported, disposition: str) -> Response:
    """The report as a file, named after the drill, its language and whether it is redacted."""
    redacted = "-redacted" if report.redacted else ""
    name = f"drill-{report.drill.id}-report-{report.language}{redacted}{exported.suffix}"
    headers = {**REPORT_HEADERS, "Content-Disposition": f'{disposition}; filename="{name}"'}
    return Response(exported.body, media_type=exported.media_type, headers=headers)


@router.get("/drills/{drill_id}/report.html")
def report_html(
    request: Request, drill_id: PathId, user: ViewerUser, language: ReportLanguage = None, redact: Redact = False
) -> Response:
    exported = export(_report(request, drill_id, user, language, redact), "html")
    return Response(exported.body, media_type=exported.media_type, headers=REPORT_HEADERS)


@router.get("/drills/{drill_id}/report.pdf")
def report_pdf(
    request: Request, drill_id: PathId, user: ViewerUser, language: ReportLanguage = None, redact: Redact = False
) -> Response:
    report = _report(request, drill_id, user, language, redact)
    return _file(report, export(report, "pdf"), "inline")


@router.get("/drills/{drill_id}/report.csv")
def report_csv(
    request: Request,
    drill_id: PathId,
    user: ViewerUser,
    language: ReportLanguage = None,
    table: Annotated[Literal["people", "organisations"], Query()] = "people",
) -> Response:
    """Always redacted, as the API's CSV: for the councils, organisations and roles only."""
    report = _report(request, drill_id, user, language, redact=True)
    return _file(report, export(report, "csv", table=table), "attachment")
