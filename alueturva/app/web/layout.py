"""The shared layout of every page: the Jinja2 environment, the navigation, the page language, Finnish time, and
the headers every page carries. A page module renders its template with ``render``.

To add a page: a module in this package with an ``APIRouter`` named ``router`` (listed in ``PAGES`` in
``__init__.py``), a template that extends ``layout.html.j2``, its texts in ``texts.yaml``, and, when it belongs in
the navigation, a ``NavItem`` in ``NAV``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from alueturva.app.web.texts import text, texts
from alueturva.auth.models import Role
from alueturva.auth.sessions import SignedIn
from alueturva.i18n import LANGUAGE_LABELS, LANGUAGES, format_date, format_number, format_time
from alueturva.settings import get_settings

TEMPLATES = Path(__file__).with_name("templates")
LANGUAGE_COOKIE = "alueturva_lang"

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


@dataclass(frozen=True)
class NavItem:
    path: str
    text: str  # key in texts.yaml
    role: Role  # the least role that sees it


NAV = (
    NavItem("/", "nav_situation", Role.viewer),
    NavItem("/alerts", "nav_alerts", Role.viewer),
    NavItem("/alerts/new", "nav_send", Role.operator),
    NavItem("/drills", "nav_drills", Role.viewer),
    NavItem("/activations", "nav_action_cards", Role.viewer),
    NavItem("/rosters", "nav_rosters", Role.viewer),
    NavItem("/audit", "nav_audit", Role.admin),
    NavItem("/docs", "nav_api", Role.viewer),
)


def _as_moment(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def page_language(request: Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in LANGUAGES else get_settings().default_language


def _current(path: str, item: NavItem) -> bool:
    if item.path == "/":
        return path == "/"
    return path == item.path or (
        path.startswith(item.path + "/")
        and not any(
            other.path != item.path and other.path.startswith(item.path) and path.startswith(other.path)
            for other in NAV
        )
    )


def render(
    request: Request,
    template: str,
    *,
    user: SignedIn | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The page ``template`` in the visitor's language, inside the layout (navigation for ``user``'s role)."""
    language = page_language(request)
    t = texts(language)
    nav = [
        {"path": item.path, "text": t[item.text], "current": _current(request.url.path, item)}
        for item in NAV
        if user is not None and user.principal.may(item.role)
    ]

    def when(value: datetime | str | None) -> str:
        return "" if value is None else format_time(_as_moment(value), language)

    def day(value: date | datetime | str | None) -> str:
        return "" if value is None else format_date(_as_moment(value) if isinstance(value, str) else value, language)

    html = (
        environment()
        .get_template(template)
        .render(
            lang=language,
            t=t,
            user=user,
            may=(lambda role: user is not None and user.principal.may(Role(role))),
            csrf_token=user.csrf_token if user else context.pop("csrf_token", ""),
            nav=nav,
            languages=LANGUAGE_LABELS,
            here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            when=when,
            day=day,
            number=lambda value: format_number(value, language),
            tr=lambda key, **values: text(key, language, **values),
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)
