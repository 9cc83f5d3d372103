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
from alueturva.app.web.layout import HEADERS, page_language, render
from alueturva.app.web.security import PageMissing, ViewerUser
from alueturva.auth.sessions import SignedIn
from alueturva.errors import Conflict, NotFound
from alueturva.i18n import Language
from drills.report import files
from drills.report.approval import report_document
from drills.report.render import PDF, REPORT_CSP, Exported, export
from drills.report.schemas import Report

router = APIRouter(include_in_schema=False)

# The report is one self-contained file: its styles and charts are inline, and it runs no script.
REPORT_HEADERS = {**HEADERS, "Content-Security-Policy": REPORT_CSP}
PDF_REFRESH_SECONDS = 5
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
    variant = files.Variant(
        language or page_language(request), redact=redact, contact_details=user.principal.sees_contact_details
    )
    try:
        body = files.report_pdf(drill_id=drill_id, variant=variant)
    except (Conflict, NotFound) as exc:  # not held yet, or no such drill
        raise PageMissing() from exc
    if body is None:  # a worker is building it: this page reloads until it is ready
        again = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        page = render(request, "report_preparing.html.j2", user=user, status_code=202, again=again, drill_id=drill_id)
        page.headers["Refresh"] = str(PDF_REFRESH_SECONDS)
        return page
    redacted = "-redacted" if redact else ""
    name = f"drill-{drill_id}-report-{variant.language}{redacted}.pdf"
    headers = {**REPORT_HEADERS, "Content-Disposition": f'inline; filename="{name}"'}
    return Response(body, media_type=PDF, headers=headers)


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
