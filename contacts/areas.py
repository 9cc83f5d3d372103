"""The three readiness-management areas of the region (the valmiusjohtoryhmä has one member from each).

The keys are part of the API (alert targets, organisations); their names in Finnish, Swedish and English are data in
``config/organisations.yaml`` (``contacts.catalogue.area_names``).
"""

from __future__ import annotations

from typing import Literal, get_args

REGION = "region"  # the whole region's key in the situational picture
AreaKey = Literal["Kokkola", "Perhonjokilaakso", "Lestijokilaakso"]
AREAS: tuple[AreaKey, ...] = get_args(AreaKey)
