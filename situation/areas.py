"""The areas of the picture: the region, the three management areas and the municipalities (from contacts).

Keys: ``region``; the management area names ``Kokkola``, ``Perhonjokilaakso``, ``Lestijokilaakso`` (as in alert
targets); each municipality's organisation key (``kokkola``, ``halsua``, …).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from alueturva.errors import Invalid
from contacts.areas import AREAS, REGION
from contacts.catalogue import area_names, display_names, region_names
from contacts.models import Organisation, OrganisationKind
from situation.config import Scope


@dataclass(frozen=True)
class Area:
    key: str
    kind: Scope
    names: dict[str, str]
    parent: str | None
    municipalities: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class AreaTree:
    areas: dict[str, Area]

    def get(self, key: str) -> Area:
        area = self.areas.get(key)
        if area is None:
            known = ", ".join(self.areas)
            raise Invalid(f"unknown area '{key}'; known areas: {known}")
        return area

    def lineage(self, key: str) -> list[str]:
        """The area itself, then its parent, up to the region."""
        keys = [key]
        parent = self.areas[key].parent
        while parent is not None:
            keys.append(parent)
            parent = self.areas[parent].parent
        return keys

    def children(self, key: str) -> list[Area]:
        return [area for area in self.areas.values() if area.parent == key]

    def bottom_up(self) -> list[Area]:
        """Municipalities first, then management areas, then the region (children before parents)."""
        order = {"municipality": 0, "area": 1, "region": 2}
        return sorted(self.areas.values(), key=lambda area: (order[area.kind], area.key))

    def top_down(self) -> list[Area]:
        """The region, then the management areas, then the municipalities."""
        order = {"region": 0, "area": 1, "municipality": 2}
        return sorted(self.areas.values(), key=lambda area: (order[area.kind], area.key))

    def series_area(self, area_key: str, scope: Scope) -> str | None:
        """The area whose observations of an indicator with ``scope`` apply to ``area_key`` (None: none do)."""
        for key in self.lineage(area_key):
            if self.areas[key].kind == scope:
                return key
        return None


def build_area_tree(municipalities: list[tuple[str, dict[str, str], str]]) -> AreaTree:
    """From (key, names by language, management area) of each municipality."""
    areas: dict[str, Area] = {
        REGION: Area(REGION, "region", region_names(), None, tuple(sorted(m[0] for m in municipalities)))
    }
    names_of_areas = area_names()
    for name in AREAS:
        members = tuple(sorted(m[0] for m in municipalities if m[2] == name))
        areas[name] = Area(name, "area", names_of_areas[name], REGION, members)
    for key, names, area in municipalities:
        areas[key] = Area(key, "municipality", names, area, (key,))
    return AreaTree(areas)


def load_area_tree(session: Session) -> AreaTree:
    rows = session.execute(
        select(
            Organisation.key, Organisation.short_name, Organisation.name_sv, Organisation.name_en, Organisation.area
        ).where(Organisation.kind == OrganisationKind.municipality, Organisation.area.is_not(None))
    ).all()
    return build_area_tree(
        [
            (
                row.key,
                display_names(
                    short_name=row.short_name,
                    name_sv=row.name_sv,
                    name_en=row.name_en,
                    kind=OrganisationKind.municipality,
                ),
                str(row.area),
            )
            for row in rows
        ]
    )
