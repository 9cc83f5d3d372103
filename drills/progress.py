"""A running drill's progress: all its alerts' recipients counted together, per organisation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from alerting.public import COUNT_KEYS, alert_counts
from alueturva.db import get_database
from drills import service


@dataclass
class DrillProgress:
    drill_id: int
    name: str
    state: str
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    by_organisation: dict[str, dict[str, int]] = field(default_factory=dict)


def drill_progress(drill_id: int) -> DrillProgress:
    with get_database().session() as session:
        drill = service.get_drill(session, drill_id=drill_id)
        progress = DrillProgress(drill.id, drill.name, drill.state.value)
        per_org: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNT_KEYS, 0))
        for row in service.drill_alerts(session, drill_id=drill_id):
            if row.alert_id is None:
                continue
            totals, by_org = alert_counts(session, alert_id=row.alert_id)
            for key in COUNT_KEYS:
                progress.totals[key] += totals[key]
            for org in by_org:
                for key in COUNT_KEYS:
                    per_org[org["organisation"]][key] += org[key]
        progress.by_organisation = dict(sorted(per_org.items()))
    return progress
