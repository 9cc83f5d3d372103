"""The start page: the situational picture of the region, its three management areas and eight municipalities
(``situation.flows.current_picture``, as ``GET /api/v1/situation``), laid out roughly as they lie on the map. The
picture refreshes itself (``/situation/live``), as an alert's page does: a decision made in the CLI or the API shows
within seconds. Each decided level shows its reason, who decided and when; an area without fresh data has no
recommendation ("ei tietoa") and every area says how much of its picture is current.

A running drill that has made exercise decisions has its exercise picture (``GET /api/v1/situation?drill_id=``)
below the real one, in a section of its own labelled with the drill: its levels are never shown among the real ones.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from actioncards import read as card_read
from actioncards.models import ActivationState
from alueturva.app.web.layout import page_language, render
from alueturva.app.web.security import ViewerUser
from alueturva.app.web.texts import text
from alueturva.db import get_database, utcnow
from drills import service as drills
from drills.models import DrillState
from drills.texts import drill_text
from situation.flows import current_picture
from situation.service import decisions_of_drill

router = APIRouter(include_in_schema=False)

MAX_EXERCISES = 10  # running drills shown with their exercise pictures
POLL_SECONDS = 5

# Where each management area sits on the page: Kokkola on the coast, Lestijokilaakso to its east, Perhonjokilaakso
# to the south; a municipality's tiles keep their order from the coast inland.
MAP_ORDER = {
    "Kokkola": ("kokkola",),
    "Lestijokilaakso": ("kannus", "toholampi", "lestijarvi"),
    "Perhonjokilaakso": ("kaustinen", "veteli", "halsua", "perho"),
}


def _tile(view: dict[str, Any], level_names: dict[str, str], language: str) -> dict[str, Any]:
    indicators = view["indicators"]
    return {
        "key": view["key"],
        "kind": view["kind"],
        "name": view["names"][language],
        "decided": view["decided"],
        "decided_name": level_names[view["decided"]["level"]],
        "recommended": view["recommended"]["level"] or "unknown",
        "recommended_name": level_names.get(view["recommended"]["level"] or "") or text("no_data", language),
        "coverage": view["coverage"],
        "differs": view["differs"],
        "reasons": [reason["text"][language] for reason in view["recommended"]["reasons"]],
        "raised": [i for i in indicators if i["status"] == "raised"],
        "stale": [i for i in indicators if i["stale"]],
        "observed": [i for i in indicators if i["value"] is not None],
        "anticipation": view["anticipation"],
        "report": view["status_report"],
        "indicator_names": {i["indicator"]: i["names"][language] for i in indicators},
    }


def picture_layout(picture: dict[str, Any], language: str) -> dict[str, Any]:
    """The region tile, then each management area with its municipalities, in map order."""
    level_names = {level["key"]: level["names"][language] for level in picture["levels"]}
    views = {view["key"]: view for view in picture["areas"]}
    areas = []
    for area_key, municipalities in MAP_ORDER.items():
        members = [key for key in municipalities if key in views]
        members += sorted(key for key in views[area_key]["municipalities"] if key not in members)
        areas.append(
            {
                **_tile(views[area_key], level_names, language),
                "members": [_tile(views[key], level_names, language) for key in members],
            }
        )
    return {
        "computed_at": picture["computed_at"],
        "region": _tile(views["region"], level_names, language),
        "areas": areas,
        "levels": [(key, name) for key, name in level_names.items()],
    }


def _exercise_rows(layout: dict[str, Any], drill_id: int) -> list[dict[str, Any]]:
    """The exercise picture as rows, region first, each area followed by its municipalities; ``exercise`` marks a
    level the drill decided (the others are the real decisions it starts from)."""
    tiles = [(layout["region"], 0)]
    for area in layout["areas"]:
        tiles += [(area, 1)] + [(member, 2) for member in area["members"]]
    return [{**tile, "depth": depth, "exercise": tile["decided"]["drill_id"] == drill_id} for tile, depth in tiles]


def exercise_pictures(session: Session, language: str) -> list[dict[str, Any]]:
    """The exercise picture of each running drill that has made exercise decisions."""
    running, _ = drills.list_drills(session, limit=MAX_EXERCISES, offset=0, state=DrillState.running)
    pictures = []
    for drill in running:
        if decisions_of_drill(session, drill_id=drill.id):
            layout = picture_layout(current_picture(session, drill_id=drill.id), language)
            name = drill_text(drill, "name", language)
            pictures.append({"drill_id": drill.id, "name": name, "rows": _exercise_rows(layout, drill.id)})
    return pictures


def cards_by_area(session: Session, language: str, drill_id: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """Each area's action cards in use and their progress (tasks done of those not cancelled, overdue)."""
    shown: dict[str, list[dict[str, Any]]] = {}
    active = card_read.activation_list(
        session, area=None, drill_id=drill_id, state=ActivationState.active, now=utcnow()
    )
    for item in active.items:
        counted = [task for task in item.tasks if task.state != "cancelled"]
        shown.setdefault(item.area, []).append(
            {
                "id": item.id,
                "title": item.title.get(language) or item.title["fi"],
                "done": sum(task.state == "done" for task in counted),
                "total": len(counted),
                "overdue": sum(task.overdue for task in counted),
            }
        )
    return shown


def _state(language: str) -> dict[str, Any]:
    with get_database().session() as session:
        return {
            "picture": picture_layout(current_picture(session), language),
            "exercises": exercise_pictures(session, language),
            "cards_by_area": cards_by_area(session, language),
            "poll_seconds": POLL_SECONDS,
        }


@router.get("/", response_class=HTMLResponse)
def situation_page(request: Request, user: ViewerUser) -> HTMLResponse:
    return render(request, "situation.html.j2", user=user, **_state(page_language(request)))


@router.get("/situation/live", response_class=HTMLResponse)
def situation_live(request: Request, user: ViewerUser) -> HTMLResponse:
    return render(request, "situation_live.html.j2", user=user, **_state(page_language(request)))
