"""The audit log for admins, filtered by what, whom, who and when (days typed in Finnish time)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from alueturva.app.web.layout import render
from alueturva.app.web.security import AdminUser
from alueturva.audit import service
from alueturva.db import get_database
from alueturva.i18n import AmbiguousLocalTime, from_helsinki

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100
Text = Annotated[str, Query(max_length=120)]


def _day_start(day: str) -> datetime | None:
    """The start of a typed day (YYYY-MM-DD) in Finnish time, or None when it is empty or not a day."""
    try:
        return from_helsinki(datetime.fromisoformat(day)) if day else None
    except (ValueError, AmbiguousLocalTime):
        return None


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    user: AdminUser,
    entity_type: Text = "",
    action: Text = "",
    actor: Text = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    start, end = _day_start(since), _day_start(until)
    with get_database().session() as session:
        events, total = service.list_events(
            session,
            entity_type=entity_type.strip() or None,
            action=action.strip() or None,
            actor=actor.strip() or None,
            since=start,
            until=end + timedelta(days=1) if end else None,  # the whole of the last day
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
    filters = {"entity_type": entity_type, "action": action, "actor": actor, "since": since, "until": until}
    bad_days = [name for name, day, parsed in (("since", since, start), ("until", until, end)) if day and not parsed]
    return render(
        request,
        "audit.html.j2",
        user=user,
        events=events,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        filters=filters,
        bad_days=bad_days,
    )
