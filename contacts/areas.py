"""The region and its three readiness-management areas (the valmiusjohtoryhmä has one member from each).

The keys are part of the API (alert targets, organisations); their names in Finnish, Swedish and English are data in
``config/organisations.yaml``.
"""

from __future__ import annotations

from typing import Literal, get_args

AreaKey = Literal["Kokkola", "Perhonjokilaakso", "Lestijokilaakso"]
AREAS: tuple[AreaKey, ...] = get_args(AreaKey)


def area_names() -> dict[str, dict[str, str]]:
    """Each area's names by language."""
    from contacts.catalogue import organisations

    return {area.key: area.names.model_dump() for area in organisations().areas}


def region_names() -> dict[str, str]:
    from contacts.catalogue import organisations

    return organisations().region.names.model_dump()
