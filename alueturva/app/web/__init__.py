"""The web console: server-rendered pages for operators, readiness managers, admins and viewers, on the same flows
the API uses (docs/architecture.md §9). ``install`` adds the pages, their static files and their error pages to
the application."""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from alueturva.app.web.layout import render
from alueturva.app.web.security import PageForbidden, SignInRequired, signed_in_user

# One module per page (or group of pages), each with an APIRouter named `router`.
PAGES = (
    "alueturva.app.web.login",
    "alueturva.app.web.situation",
    "alueturva.app.web.readiness",
    "alueturva.app.web.send",
    "alueturva.app.web.alerts",
    "alueturva.app.web.action_cards",
    "alueturva.app.web.drill_plan",  # /drills/new before /drills/{id}
    "alueturva.app.web.drills",
    "alueturva.app.web.drill_evaluation",
    "alueturva.app.web.drill_report",
    "alueturva.app.web.personal",  # /rosters/people/{id}/data-export before /rosters/people/{id}
    "alueturva.app.web.drill_report_write",
    "alueturva.app.web.rosters",
    "alueturva.app.web.roster_import",
    "alueturva.app.web.audit",
    "alueturva.app.web.apidocs",
)
STATIC = Path(__file__).with_name("static")


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    if request.headers.get("x-requested-with") == "fetch":  # a live fragment: the page reloads and signs in
        return Response(status_code=401)
    from urllib.parse import urlencode

    return RedirectResponse(f"/login?{urlencode({'next': exc.next_path})}", status_code=303)


async def _forbidden(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, PageForbidden)
    try:
        user = signed_in_user(request)
    except SignInRequired:
        user = None
    return render(request, "forbidden.html.j2", user=user, status_code=exc.status_code, reason=exc.reason)


def install(app: FastAPI) -> None:
    for module in PAGES:
        app.include_router(importlib.import_module(module).router)
    from alueturva.app.web.apidocs import SWAGGER_FILES, SWAGGER_PATH

    app.mount(SWAGGER_PATH, StaticFiles(directory=SWAGGER_FILES), name="swagger")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(PageForbidden, _forbidden)
