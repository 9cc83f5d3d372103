"""Importing a roster CSV from the browser: the same all-or-nothing ``contacts.roster.import_roster`` as
``POST /api/v1/rosters/import``, with the same row-level error report (row, column, what is wrong)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from alueturva.app.web.layout import render
from alueturva.app.web.security import AdminUser
from contacts import roster
from contacts.roster import RosterRejected

router = APIRouter(include_in_schema=False)

MAX_CSV_BYTES = 5 * 1024 * 1024


@router.get("/rosters/import", response_class=HTMLResponse)
def import_form(request: Request, user: AdminUser) -> HTMLResponse:
    return render(request, "roster_import.html.j2", user=user, report=None, problem=None)


@router.post("/rosters/import", response_class=HTMLResponse)
async def import_file(request: Request, user: AdminUser) -> HTMLResponse:
    form = await request.form()
    upload, dry_run = form.get("file"), form.get("dry_run") == "on"
    data = await upload.read(MAX_CSV_BYTES + 1) if isinstance(upload, UploadFile) else b""
    if not data or len(data) > MAX_CSV_BYTES:
        problem = "csv_missing" if not data else "csv_too_large"
        return render(request, "roster_import.html.j2", user=user, report=None, problem=problem, status_code=422)
    try:
        report = roster.import_roster(data=data, dry_run=dry_run, actor=user.principal)
    except RosterRejected as rejected:
        return render(
            request, "roster_import.html.j2", user=user, report=rejected.report, problem="csv_rejected", status_code=422
        )
    return render(request, "roster_import.html.j2", user=user, report=report, problem=None)
