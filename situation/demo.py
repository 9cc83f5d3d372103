"""The demo's situational picture (`alueturva demo`, `up --demo`): a fictional autumn storm in Perhonjokilaakso, so
that a newcomer sees a living picture rather than an empty one.

- Observations for most indicators, every 20 minutes over the last six hours and on while `up --demo` runs (the
  scheduler's ``feed_demo_picture``): the region's hospital, intensive care, staff, fuel, cyber and rescue figures;
  an orange weather warning and power cuts in Perhonjokilaakso; Kokkola's power cuts rising towards their
  threshold (a projected threshold crossing); mobile networks, water and staff absence in the municipalities.
- One stale value: Toholampi's water supply was last reported nine hours ago, beyond its six-hour window.
- A decision with its reason: Perhonjokilaakso raised to enhanced readiness two hours ago. The region stays at
  basic readiness while its recommendation is enhanced (a recommendation above the decided level).
- Municipal status reports from Perho and Kaustinen.

Every value is invented (source ``demo``). Loading again changes nothing; feeding writes each 20-minute point once.
"""

from __future__ import annotations

import math
import zlib
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alueturva.db import get_database, utcnow
from situation import service
from situation.models import Observation, ReadinessDecision, StatusReport
from situation.observations import ingest
from situation.schemas import ObservationIn

SOURCE = "demo"
STEP = timedelta(minutes=20)
HISTORY = timedelta(hours=6)
DECIDED_BY = "cli:Päivystävä palomestari"

# (indicator, area): the value at ``hours`` from the demo's load, a gentle wave over a base (or a trend).
PERHO_VALLEY = ("halsua", "kaustinen", "perho", "veteli")
LESTI_VALLEY = ("kannus", "toholampi", "lestijarvi")


def _steady(level: float, jitter: float) -> tuple[float, float]:
    return level, jitter


# Each series: (level, jitter): its value stays near the level, a little different at each point but with no trend
# (so that only Kokkola's rising power cuts project a threshold crossing); a rising one has a slope instead.
STEADY: dict[tuple[str, str], tuple[float, float]] = {
    ("hospital_bed_occupancy", "region"): _steady(88, 1),
    ("icu_occupancy", "region"): _steady(71, 2),
    ("healthcare_staff_absence", "region"): _steady(9, 0.5),
    ("cyber_incident_severity", "region"): _steady(1, 0),
    ("fuel_supply_days", "region"): _steady(12, 0),
    ("respiratory_infection_incidence", "region"): _steady(180, 4),
    ("rescue_units_available", "region"): _steady(78, 3),
    **{("weather_warning", area): _steady(2, 0) for area in PERHO_VALLEY},
    **{
        ("power_outage_customers", area): _steady(share, 1)
        for area, share in zip(PERHO_VALLEY, (16, 12, 21, 13), strict=True)
    },
    **{("mobile_network_availability", area): _steady(97, 1) for area in ("kokkola", *LESTI_VALLEY)},
    **{("mobile_network_availability", area): _steady(96, 1) for area in PERHO_VALLEY},
    **{("municipal_staff_absence", area): _steady(7, 0.5) for area in ("kokkola", "kannus", "kaustinen", "perho")},
    **{("water_supply_disruption", area): _steady(0.5, 0.2) for area in ("kokkola", "kannus", "lestijarvi")},
    ("water_supply_disruption", "perho"): _steady(3, 0.3),
    ("evacuated_residents", "perho"): _steady(12, 0),
}
# Kokkola's power cuts rise 0.9 points an hour from 1 % to at most 14 %: at the load (6.4 %) the 10 % threshold of
# enhanced readiness is some four hours away (a projected threshold crossing), and the demo then crosses it.
RISING = {("power_outage_customers", "kokkola"): (1.0, 0.9, 14.0)}
# Toholampi's water supply, reported once nine hours before the load: stale beyond its six-hour window.
STALE = ("water_supply_disruption", "toholampi", 1.0, timedelta(hours=9))


def _value(series: tuple[str, str], hours: float) -> float:
    if series in RISING:
        start, per_hour, highest = RISING[series]
        return round(min(start + per_hour * max(hours, 0.0), highest), 1)
    level, jitter = STEADY[series]
    # a fixed pseudo-random wobble per series and 20-minute point, the same every time it is computed
    seed = zlib.crc32(f"{series}/{round(hours * 3)}".encode()) / 0xFFFFFFFF
    return round(level + jitter * (2 * seed - 1), 1)


def _points(loaded_at: datetime, start: datetime, end: datetime) -> list[ObservationIn]:
    """Every series' 20-minute points in [start, end], counted from the demo's load."""
    first = loaded_at - HISTORY
    slot = first + STEP * max(0, math.ceil((start - first) / STEP))
    items = []
    while slot <= end:
        hours = (slot - loaded_at).total_seconds() / 3600 + HISTORY.total_seconds() / 3600
        for series in [*STEADY, *RISING]:
            items.append(
                ObservationIn(
                    indicator=series[0],
                    area=series[1],
                    value=_value(series, hours),
                    observed_at=slot,
                    source=SOURCE,
                    source_id=f"{series[0]}/{series[1]}/{slot.isoformat()}",
                )
            )
        slot += STEP
    return items


def _loaded_at(session: Session) -> datetime | None:
    """When the demo picture was loaded (its first decision, two hours after the history began)."""
    decided = session.scalar(
        select(ReadinessDecision.decided_at).where(ReadinessDecision.decided_by == DECIDED_BY).limit(1)
    )
    return None if decided is None else decided + timedelta(hours=2)


def load_demo_picture(*, now: datetime | None = None) -> str:
    """The demo's picture, once, in one transaction: six hours of observations, a stale one, a decision and two
    status reports."""
    with get_database().session() as session:
        return _load(session, now=now or utcnow())


def _load(session: Session, *, now: datetime) -> str:
    if _loaded_at(session) is not None:
        return "demo picture already loaded"
    indicator, area, value, age = STALE
    stale = ObservationIn(indicator=indicator, area=area, value=value, observed_at=now - age, source=SOURCE)
    items = [stale, *_points(now, now - HISTORY, now)]
    ingest(session, items=items, actor=f"reporter:{SOURCE}", now=now)
    service.add_decision(
        session,
        area_key="Perhonjokilaakso",
        level="tehostettu_valmius",
        previous_level="perusvalmius",
        recommended_level="tehostettu_valmius",
        reason=(
            "Oranssi tuulivaroitus ja laajat sähkökatkot Perhonjokilaaksossa; kuntien johtoryhmät koolla. / "
            "Orange vindvarning och omfattande elavbrott i Perho ådal; kommunernas ledningsgrupper sammankallade."
        ),
        decided_by=DECIDED_BY,
        decided_at=now - timedelta(hours=2),
    )
    session.add_all(
        [
            StatusReport(
                area_key="perho",
                management_group_convened=True,
                staff_availability_percent=85,
                key_services_running=False,
                services_note=(
                    "Vedenjakelu katkolla kahdella kylällä; varavesi järjestetty koululle. / "
                    "Vattendistributionen avbruten i två byar; reservvatten ordnat vid skolan."
                ),
                reporter_name="Perhon kunnan valmiuspäällikkö / Perho kommuns beredskapschef",
                reported_by=f"reporter:{SOURCE}",
                reported_at=now - timedelta(minutes=50),
            ),
            StatusReport(
                area_key="kaustinen",
                management_group_convened=True,
                staff_availability_percent=92,
                key_services_running=True,
                reporter_name="Kaustisen kunnan valmiuspäällikkö / Kaustby kommuns beredskapschef",
                reported_by=f"reporter:{SOURCE}",
                reported_at=now - timedelta(minutes=35),
            ),
        ]
    )
    return f"demo picture loaded ({len(items)} observations)"


def feed_demo_picture(*, now: datetime | None = None) -> int:
    """While the demo runs (the scheduler's job, `up --demo` only): the 20-minute points that have come due since
    the last (none before the demo picture was loaded), in a transaction of its own. How many were stored."""
    now = now or utcnow()
    with get_database().session() as session:
        loaded_at = _loaded_at(session)
        if loaded_at is None:
            return 0
        latest = session.scalar(select(func.max(Observation.observed_at)).where(Observation.source == SOURCE))
        items = _points(loaded_at, (latest or loaded_at) + timedelta(seconds=1), now)
        return ingest(session, items=items, actor=f"reporter:{SOURCE}", now=now).stored if items else 0
