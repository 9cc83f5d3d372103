"""A situation worth looking at, posted through the API as a reporter would: a power outage growing in Kokkola
(raised, with a trend and a projected crossing), staff absence in Kannus, a mobile network reading gone stale in
Perho, hospital occupancy for the region, and Kannus's own status report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx


def observation(indicator: str, area: str, value: float, minutes_ago: float, source_id: str) -> dict[str, object]:
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return {
        "indicator": indicator,
        "area": area,
        "value": value,
        "observed_at": at.isoformat(),
        "source": "browser-test",
        "source_id": source_id,
    }


def seed_situation(base_url: str, api_key: str) -> None:
    headers = {"Authorization": f"Bearer {api_key}"}
    outage = [
        observation("power_outage_customers", "kokkola", 6 + 2.5 * n, 50 - 10 * n, f"outage-{n}") for n in range(5)
    ]
    others = [
        observation("municipal_staff_absence", "kannus", 23, 30, "staff-kannus"),
        observation("mobile_network_availability", "perho", 97, 300, "mobile-perho"),
        observation("hospital_bed_occupancy", "region", 88, 60, "beds-region"),
    ]
    response = httpx.post(
        f"{base_url}/api/v1/observations", json={"observations": outage + others}, headers=headers, timeout=30
    )
    response.raise_for_status()
    report = {
        "municipality": "kannus",
        "management_group_convened": True,
        "staff_availability_percent": 81,
        "key_services_running": True,
        "services_note": "Varavoima koulukeskuksessa",
        "reporter_name": "Kannuksen valmiuspäällikkö",
    }
    httpx.post(
        f"{base_url}/api/v1/situation/status-reports", json=report, headers=headers, timeout=30
    ).raise_for_status()
