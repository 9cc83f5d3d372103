"""The start page: the situational picture of the region, its three management areas and eight municipalities
(``situation.flows.current_picture``, as ``GET /api/v1/situation``), laid out roughly as they lie on the map."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from alueturva.app.web.layout import page_language, render
from alueturva.app.web.security import ViewerUser
from alueturva.db import get_database
from situation.flows import current_picture

router = APIRouter(include_in_schema=False)

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
        "recommended": view["recommended"]["level"],
        "recommended_name": level_names[view["recommended"]["level"]],
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


@router.get("/", response_class=HTMLResponse)
def situation_page(request: Request, user: ViewerUser) -> HTMLResponse:
    with get_database().session() as session:
        picture = current_picture(session)
    return render(request, "situation.html.j2", user=user, picture=picture_layout(picture, page_language(request)))
