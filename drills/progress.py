"""A drill's progress while it runs: the figures its report will give (``drills.report.figures``: each measured
person once, from their first alert; deputies apart), in total and per organisation."""

from __future__ import annotations

from dataclasses import dataclass, field

from alueturva.db import get_database
from contacts.service import organisation_names
from drills import service
from drills.measures import measures
from drills.report.figures import COUNT_KEYS, counts_by, measured_only
from drills.report.schemas import NO_COUNTS
from drills.texts import drill_text


@dataclass
class DrillProgress:
    drill_id: int
    name: str
    state: str
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    by_organisation: dict[str, dict[str, int]] = field(default_factory=dict)


def drill_progress(drill_id: int, language: str = "fi") -> DrillProgress:
    """The figures of the drill now, organisations named in ``language``."""
    with get_database().session() as session:
        drill = service.get_drill(session, drill_id=drill_id)
        progress = DrillProgress(drill.id, drill_text(drill, "name", language), drill.state.value)
        rows = measured_only(measures(session, drill).recipients.subquery())
        progress.totals = counts_by(session, rows).get(0, NO_COUNTS).model_dump()
        names = organisation_names(session)
        per_org = counts_by(session, rows, "organisation_id")
        shown = {
            names[key][language] if key in names else str(key): counts.model_dump() for key, counts in per_org.items()
        }
        progress.by_organisation = dict(sorted(shown.items()))
    return progress
