"""The situation domain over HTTP: observations, the picture and its reasons, decisions, reactions, snapshots."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError

from alueturva.audit.models import AuditEvent
from alueturva.auth.models import Role
from alueturva.db import Database, utcnow
from alueturva.i18n import from_helsinki, helsinki
from alueturva.queue import InProcessQueue
from situation import reactions
from situation.models import LatestObservation, Observation, Reaction
from situation.reactions import ReactionEvent, dispatch_reactions
from tests.conftest import auth

Keys = dict[Role, str]


def iso(moment: datetime) -> str:
    return moment.isoformat()


def observation(indicator: str, area: str, value: Any, *, ago: timedelta = timedelta(0), **extra: Any) -> dict:
    return {
        "indicator": indicator,
        "area": area,
        "value": value,
        "observed_at": iso(utcnow() - ago),
        "source": "test",
        **extra,
    }


def post(client: TestClient, keys: Keys, *items: dict) -> Any:
    body = items[0] if len(items) == 1 else {"observations": list(items)}
    return client.post("/api/v1/observations", json=body, headers=auth(keys[Role.reporter]))


def picture(client: TestClient, keys: Keys) -> dict[str, dict]:
    response = client.get("/api/v1/situation", headers=auth(keys[Role.viewer]))
    assert response.status_code == 200, response.text
    return {area["key"]: area for area in response.json()["areas"]}


def indicator_of(area: dict, key: str) -> dict:
    return next(item for item in area["indicators"] if item["indicator"] == key)


def count_observations(database: Database) -> tuple[int, int]:
    with database.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Observation)) or 0,
            session.scalar(select(func.count()).select_from(LatestObservation)) or 0,
        )


def test_the_empty_picture_has_every_area_and_every_indicator_unknown(client: TestClient, keys: Keys) -> None:
    areas = picture(client, keys)
    assert set(areas) == {
        "region",
        "Kokkola",
        "Perhonjokilaakso",
        "Lestijokilaakso",
        "halsua",
        "kannus",
        "kaustinen",
        "kokkola",
        "lestijarvi",
        "perho",
        "toholampi",
        "veteli",
    }
    assert areas["Perhonjokilaakso"]["municipalities"] == ["halsua", "kaustinen", "perho", "veteli"]
    assert areas["kokkola"]["names"]["sv"] == "Karleby"
    for area in areas.values():
        assert area["recommended"] == {"level": None, "reasons": []}  # no data, no recommendation
        assert area["coverage"]["current"] == 0 and area["coverage"]["total"] > 0
        assert area["decided"]["level"] == "perusvalmius"
        assert area["indicators"], area["key"]
        assert all(item["status"] == "unknown" for item in area["indicators"])
        assert len(area["unknown_indicators"]) == len(area["indicators"])
    # a municipality sees its own, its management area's and the region's indicators
    assert {"power_outage_customers", "icu_occupancy"} <= set(areas["halsua"]["unknown_indicators"])
    assert "power_outage_customers" not in areas["region"]["unknown_indicators"]


def test_every_situation_route_needs_a_key_and_the_right_role(client: TestClient, keys: Keys) -> None:
    assert client.get("/api/v1/situation").status_code == 401
    assert client.get("/api/v1/situation", headers=auth("nonsense")).status_code == 401
    body = observation("power_outage_customers", "kokkola", 1)
    assert client.post("/api/v1/observations", json=body, headers=auth(keys[Role.viewer])).status_code == 403
    decision = {"area": "kokkola", "level": "tehostettu_valmius", "reason": "test"}
    response = client.post("/api/v1/readiness/decisions", json=decision, headers=auth(keys[Role.reporter]))
    assert response.status_code == 403
    snapshot = client.post("/api/v1/situation/snapshots", json={"label": "x"}, headers=auth(keys[Role.viewer]))
    assert snapshot.status_code == 403


def test_reasons_are_wholly_in_their_language_with_finnish_time(client: TestClient, keys: Keys) -> None:
    assert (
        post(client, keys, observation("fuel_supply_days", "region", 2.5, ago=timedelta(minutes=5))).status_code == 200
    )
    reason = picture(client, keys)["region"]["recommended"]["reasons"][0]
    text = reason["text"]
    assert "2,5 vrk" in text["fi"] and "raja-arvo 3 vrk" in text["fi"] and "klo" in text["fi"]
    assert "2,5 dygn" in text["sv"] and "kl." in text["sv"]
    assert "2.5 days" in text["en"]
    assert all("UTC" not in sentence and "days" not in text["fi"] + text["sv"] for sentence in text.values())
    status = indicator_of(picture(client, keys)["region"], "fuel_supply_days")
    assert status["unit"] == "days" and status["unit_names"] == {"fi": "vrk", "sv": "dygn", "en": "days"}


def test_a_crossed_threshold_raises_the_recommendation_and_says_why(client: TestClient, keys: Keys) -> None:
    response = post(client, keys, observation("power_outage_customers", "kokkola", 35.0, ago=timedelta(minutes=5)))
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 1, "stored": 1, "duplicates": 0}

    areas = picture(client, keys)
    kokkola = areas["kokkola"]
    assert kokkola["recommended"]["level"] == "taysvalmius"
    assert kokkola["differs"] is True
    reason = kokkola["recommended"]["reasons"][0]
    assert reason["rule"] == "threshold"
    assert reason["indicator"] == "power_outage_customers"
    assert reason["value"] == 35.0
    assert reason["threshold"] == 30.0
    assert reason["since"] is not None
    assert "Sähkökatkon" in reason["text"]["fi"] and "Kunder utan ström" in reason["text"]["sv"]
    status = indicator_of(kokkola, "power_outage_customers")
    assert status["status"] == "raised" and status["level"] == "taysvalmius"
    # the management area and the region follow their worst sub-area, and say so
    assert areas["Kokkola"]["recommended"]["level"] == "taysvalmius"
    assert areas["Kokkola"]["recommended"]["reasons"][0]["rule"] == "sub_areas"
    assert areas["region"]["recommended"]["level"] == "taysvalmius"
    assert areas["region"]["recommended"]["reasons"][0]["sources"] == ["Kokkola"]
    assert areas["halsua"]["recommended"]["level"] is None  # nothing known of Halsua


def test_a_stale_indicator_is_unknown_not_fine(client: TestClient, keys: Keys) -> None:
    # power outages are fresh for 60 minutes
    response = post(client, keys, observation("power_outage_customers", "perho", 50.0, ago=timedelta(minutes=90)))
    assert response.status_code == 200, response.text
    perho = picture(client, keys)["perho"]
    status = indicator_of(perho, "power_outage_customers")
    assert status["status"] == "unknown"
    assert status["stale"] is True
    assert status["value"] == 50.0
    assert "power_outage_customers" in perho["unknown_indicators"]
    assert perho["recommended"]["level"] is None  # a stale value is no data: no recommendation


def test_indicators_at_one_level_combine_to_raise_one_level(client: TestClient, keys: Keys) -> None:
    response = post(
        client,
        keys,
        observation("power_outage_customers", "halsua", 12),
        observation("water_supply_disruption", "halsua", 6),
        observation("mobile_network_availability", "halsua", 85),
    )
    assert response.status_code == 200, response.text
    halsua = picture(client, keys)["halsua"]
    assert halsua["recommended"]["level"] == "taysvalmius"
    combination = halsua["recommended"]["reasons"][0]
    assert combination["rule"] == "combination"
    assert sorted(combination["sources"]) == [
        "mobile_network_availability",
        "power_outage_customers",
        "water_supply_disruption",
    ]
    assert [r["rule"] for r in halsua["recommended"]["reasons"][1:]] == ["threshold"] * 3


def test_hysteresis_holds_the_level_until_values_stay_below_by_the_margin(client: TestClient, keys: Keys) -> None:
    # water disruption threshold 5 %, margin 10 % -> 4.5; hold 360 minutes
    response = post(
        client,
        keys,
        observation("water_supply_disruption", "veteli", 8, ago=timedelta(minutes=120)),
        observation("water_supply_disruption", "veteli", 3, ago=timedelta(minutes=60)),
    )
    assert response.status_code == 200, response.text
    veteli = picture(client, keys)["veteli"]
    status = indicator_of(veteli, "water_supply_disruption")
    assert status["value"] == 3 and status["level"] == "tehostettu_valmius" and status["held"] is True
    assert veteli["recommended"]["reasons"][0]["rule"] == "hysteresis"
    assert "held until" in veteli["recommended"]["reasons"][0]["text"]["en"]


def test_a_resent_observation_with_the_same_source_id_is_stored_once(
    client: TestClient, keys: Keys, database: Database
) -> None:
    item = observation("icu_occupancy", "region", 70, source_id="icu-2026-11-28T12")
    assert post(client, keys, item).json() == {"received": 1, "stored": 1, "duplicates": 0}
    assert post(client, keys, item).json() == {"received": 1, "stored": 0, "duplicates": 1}
    twice_in_one = post(client, keys, {**item, "source_id": "b"}, {**item, "source_id": "b"}).json()
    assert twice_in_one == {"received": 2, "stored": 1, "duplicates": 1}
    assert count_observations(database) == (2, 1)


def test_a_source_id_another_request_stored_meanwhile_is_skipped_and_every_value_is_stored_as_given(
    database: Database,
) -> None:
    """The one-statement insert: rows stored between the duplicate lookup and the insert are skipped, not an error;
    each row keeps its own values (a missing source id too) and the request's time, reporter and drill."""
    from situation import service

    at = utcnow().replace(microsecond=0) - timedelta(minutes=30)
    rows = [
        {"indicator_key": "icu_occupancy", "area_key": "region", "value": 71.5, "observed_at": at,
         "source": "icu", "source_id": "a"},
        {"indicator_key": "power_outage_customers", "area_key": "kannus", "value": 0.0,
         "observed_at": at + timedelta(seconds=1), "source": "grid", "source_id": None},
    ]  # fmt: skip
    received = at + timedelta(minutes=1)
    for _ in range(2):  # the second time, "icu"/"a" is stored already (as by another request)
        with database.session() as session:
            service.insert_observations(session, rows=rows, received_at=received, reported_by="reporter", drill_id=None)
    with database.session() as session:
        stored = session.execute(
            select(
                Observation.indicator_key, Observation.area_key, Observation.value, Observation.observed_at,
                Observation.source, Observation.source_id, Observation.received_at, Observation.reported_by,
                Observation.drill_id,
            ).order_by(Observation.id)
        ).all()  # fmt: skip
    once = [(*row.values(), received, "reporter", None) for row in rows]
    assert [tuple(row) for row in stored] == [*once, once[1]]  # no source id: nothing to recognise it by
    with database.session() as session, pytest.raises(StatementError, match="naive datetime refused"):
        naive = {**rows[0], "source_id": "b", "observed_at": at.replace(tzinfo=None)}
        service.insert_observations(session, rows=[naive], received_at=received, reported_by="reporter")


def test_an_older_observation_arriving_late_does_not_replace_the_latest(
    client: TestClient, keys: Keys, database: Database
) -> None:
    assert post(client, keys, observation("icu_occupancy", "region", 90, ago=timedelta(minutes=5))).status_code == 200
    assert post(client, keys, observation("icu_occupancy", "region", 50, ago=timedelta(minutes=50))).status_code == 200
    region = picture(client, keys)["region"]
    assert indicator_of(region, "icu_occupancy")["value"] == 90
    assert region["recommended"]["level"] == "tehostettu_valmius"
    assert count_observations(database) == (2, 1)


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ({"indicator": "no_such_indicator"}, "unknown indicator 'no_such_indicator'"),
        ({"area": "Oulu"}, "unknown area 'Oulu'"),
        ({"area": "region"}, "observed per municipality, but 'region' is a region"),
        ({"value": "12"}, "valid number"),
        ({"value": True}, "valid number"),
        ({"observed_at": "2026-11-28T12:00:00"}, "timezone"),
        ({"observed_at": iso(utcnow() + timedelta(hours=1))}, "in the future"),
        ({"unexpected": 1}, "Extra inputs are not permitted"),
        ({"source": "verkko\x00yhtiö"}, "should match pattern"),
        ({"observed_at": "0001-01-01T00:00:00+01:00"}, "out of range"),
        ({"observed_at": "1999-12-31T00:00:00+00:00"}, "between 2000 and 2100"),
        ({"value": 1e300}, "less than or equal to"),
    ],
)
def test_bad_observations_are_refused_with_the_reason_and_nothing_is_stored(
    client: TestClient, keys: Keys, database: Database, item: dict, problem: str
) -> None:
    good = observation("power_outage_customers", "kokkola", 1)
    bad = {**good, **item}
    for body in (bad, {"observations": [good, good | {"source_id": "x"}, bad]}):
        response = client.post("/api/v1/observations", json=body, headers=auth(keys[Role.reporter]))
        assert response.status_code == 422, response.text
        assert problem in response.text
    assert count_observations(database) == (0, 0)


def test_a_thousand_observations_in_one_request(client: TestClient, keys: Keys, database: Database) -> None:
    start = utcnow() - timedelta(hours=20)
    items = [
        {
            "indicator": "municipal_staff_absence",
            "area": ["kokkola", "kannus", "perho", "veteli"][i % 4],
            "value": float(i % 30),
            "observed_at": iso(start + timedelta(minutes=i)),
            "source": "hr-system",
            "source_id": f"row-{i}",
        }
        for i in range(1000)
    ]
    response = client.post("/api/v1/observations", json={"observations": items}, headers=auth(keys[Role.reporter]))
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 1000
    assert count_observations(database) == (1000, 4)
    with database.session() as session:
        latest = session.get(LatestObservation, ("municipal_staff_absence", "veteli"))
        assert latest is not None and latest.value == float(999 % 30)


def test_anticipation_projects_when_a_rising_indicator_crosses_its_next_threshold(
    client: TestClient, keys: Keys
) -> None:
    # evacuees rising 10 per hour: 20, 30, 40 -> 50 (tehostettu valmius) in about an hour
    items = [
        observation("evacuated_residents", "lestijarvi", 20 + 10 * i, ago=timedelta(hours=2 - i)) for i in range(3)
    ]
    assert post(client, keys, *items).status_code == 200
    lestijarvi = picture(client, keys)["lestijarvi"]
    (projection,) = lestijarvi["anticipation"]
    assert projection["indicator"] == "evacuated_residents"
    assert projection["next_level"] == "tehostettu_valmius"
    assert projection["slope_per_hour"] == pytest.approx(10)
    crosses_at = datetime.fromisoformat(projection["crosses_at"])
    assert abs(crosses_at - (utcnow() + timedelta(hours=1))) < timedelta(minutes=2)
    assert projection["recommended_if_crossed"] == "tehostettu_valmius"
    assert indicator_of(lestijarvi, "evacuated_residents")["trend_per_hour"] == pytest.approx(10)
    assert indicator_of(lestijarvi, "power_outage_customers")["trend_per_hour"] is None


def test_a_municipality_status_report_is_shown_with_who_reported_and_when(client: TestClient, keys: Keys) -> None:
    body: dict[str, Any] = {
        "municipality": "kaustinen",
        "management_group_convened": True,
        "staff_availability_percent": 80,
        "key_services_running": False,
        "services_note": "Vesihuolto keskeytetty",
        "reporter_name": "Valmiuspäällikkö",
    }
    response = client.post("/api/v1/situation/status-reports", json=body, headers=auth(keys[Role.reporter]))
    assert response.status_code == 201, response.text
    report = picture(client, keys)["kaustinen"]["status_report"]
    assert report["management_group_convened"] is True
    assert report["key_services_running"] is False
    assert report["reported_by"].startswith("apikey:")
    assert report["reporter_name"] == "Valmiuspäällikkö"
    assert report["reported_at"] is not None
    cases: list[tuple[dict[str, Any], str]] = [
        ({"municipality": "Perhonjokilaakso"}, "a status report is made by a municipality"),
        ({"municipality": "Oulu"}, "unknown area"),
        ({"staff_availability_percent": 120}, "less than or equal to 100"),
        ({"management_group_convened": "yes"}, "valid boolean"),
    ]
    for bad, problem in cases:
        response = client.post("/api/v1/situation/status-reports", json=body | bad, headers=auth(keys[Role.reporter]))
        assert response.status_code == 422 and problem in response.text, response.text


@pytest.fixture
def only_test_handlers(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """The seam on its own: whatever the application registered (the alerting handler) is set aside here;
    tests/test_domain_wiring.py tests the application's handler."""
    monkeypatch.setattr(reactions, "_handlers", [])


@pytest.fixture
def handled(only_test_handlers: None) -> Iterator[list[ReactionEvent]]:
    """A reaction handler registered as the application registers the alerting domain's."""
    events: list[ReactionEvent] = []

    def record(event: ReactionEvent) -> None:
        events.append(event)

    reactions.register(record)
    yield events
    reactions.unregister(record)


def decide(client: TestClient, keys: Keys, area: str, level: str, reason: str = "Myrsky") -> Any:
    return client.post(
        "/api/v1/readiness/decisions",
        json={"area": area, "level": level, "reason": reason},
        headers=auth(keys[Role.operator]),
    )


def test_raising_kokkola_alerts_its_management_group_and_the_valmiusjohtoryhma_through_the_seam(
    client: TestClient, keys: Keys, database: Database, queue: InProcessQueue, handled: list[ReactionEvent]
) -> None:
    response = decide(client, keys, "Kokkola", "tehostettu_valmius", "Myrsky ja laajat sähkökatkot")
    assert response.status_code == 201, response.text
    decision = response.json()
    assert decision["previous_level"] == "perusvalmius"
    assert decision["recommended_level"] is None  # nothing was known when it was decided
    assert decision["change"] == "raised"
    (reaction,) = decision["reactions"]
    assert reaction["rule"] == "alert_management_groups_on_raise"
    assert reaction["payload"]["groups"] == ["johtoryhma_kokkola", "valmiusjohtoryhma"]

    assert queue.join()
    (event,) = handled
    assert event.area == "Kokkola" and event.level == "tehostettu_valmius"
    assert event.groups == ("johtoryhma_kokkola", "valmiusjohtoryhma")
    assert event.level_names["sv"] == "förhöjd beredskap"
    assert event.idempotency_key == f"readiness-reaction-{reaction['id']}"
    with database.session() as session:
        stored = session.get(Reaction, reaction["id"])
        assert stored is not None and stored.status == "done" and stored.attempts == 1
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "readiness.decided")).one()
        assert audit.details["reason"] == "Myrsky ja laajat sähkökatkot"
        assert audit.entity_id == str(decision["id"])

    kokkola = picture(client, keys)["Kokkola"]
    assert kokkola["decided"]["level"] == "tehostettu_valmius"
    assert kokkola["decided"]["reason"] == "Myrsky ja laajat sähkökatkot"
    assert kokkola["decided"]["decided_by_name"] == "test operator"
    assert kokkola["differs"] is False  # without data there is no recommendation to differ from

    # raising a management area of several municipalities alerts each municipality's group
    decision = decide(client, keys, "Perhonjokilaakso", "taysvalmius").json()
    assert decision["reactions"][0]["payload"]["groups"] == [
        "johtoryhma_halsua",
        "johtoryhma_kaustinen",
        "johtoryhma_perho",
        "johtoryhma_veteli",
        "valmiusjohtoryhma",
    ]
    # lowering informs the valmiusjohtoryhmä; confirming the same level sets nothing in motion
    lowered = decide(client, keys, "Kokkola", "perusvalmius").json()
    assert [r["rule"] for r in lowered["reactions"]] == ["inform_on_lowering"]
    assert decide(client, keys, "Kokkola", "perusvalmius").json()["reactions"] == []


@pytest.mark.usefixtures("only_test_handlers")
def test_a_failing_handler_leaves_the_reaction_pending_and_a_retry_completes_it(
    client: TestClient, keys: Keys, database: Database, queue: InProcessQueue
) -> None:
    calls: list[int] = []

    def flaky(event: ReactionEvent) -> None:
        calls.append(event.reaction_id)
        if len(calls) == 1:
            raise ConnectionError("alerting unavailable")

    reactions.register(flaky)
    try:
        reaction_id = decide(client, keys, "kannus", "tehostettu_valmius").json()["reactions"][0]["id"]
        assert queue.join()
        with database.session() as session:
            reaction = session.get(Reaction, reaction_id)
            assert reaction is not None
            assert (reaction.status, reaction.attempts) == ("pending", 1)
            assert "ConnectionError: alerting unavailable" in (reaction.last_error or "")
            retry_at = reaction.next_attempt_at
        assert dispatch_reactions(database=database) == 0  # not due yet: back-off
        assert dispatch_reactions(database=database, now=retry_at + timedelta(seconds=1)) == 1
    finally:
        reactions.unregister(flaky)
    assert calls == [reaction_id, reaction_id]
    with database.session() as session:
        reaction = session.get(Reaction, reaction_id)
        assert reaction is not None and reaction.status == "done" and reaction.last_error is None


@pytest.mark.usefixtures("only_test_handlers")
def test_without_a_registered_handler_the_reaction_is_recorded_as_unhandled(
    client: TestClient, keys: Keys, database: Database, queue: InProcessQueue
) -> None:
    reaction_id = decide(client, keys, "region", "tehostettu_valmius").json()["reactions"][0]["id"]
    assert queue.join()
    with database.session() as session:
        reaction = session.get(Reaction, reaction_id)
        assert reaction is not None and reaction.status == "unhandled"
        assert "johtoryhma_toholampi" in reaction.payload["groups"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"area": "Oulu", "level": "tehostettu_valmius", "reason": "x" * 5}, "unknown area 'Oulu'"),
        ({"area": "kokkola", "level": "poikkeusolot", "reason": "x" * 5}, "level"),
        ({"area": "kokkola", "level": "taysvalmius", "reason": ""}, "reason"),
        ({"area": "kokkola", "level": "taysvalmius"}, "reason"),
    ],
)
def test_bad_decisions_are_refused_and_nothing_is_recorded(
    client: TestClient, keys: Keys, database: Database, body: dict, problem: str
) -> None:
    response = client.post("/api/v1/readiness/decisions", json=body, headers=auth(keys[Role.operator]))
    assert response.status_code == 422, response.text
    assert problem in response.text
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Reaction)) == 0
        assert session.scalar(select(func.count()).where(AuditEvent.action == "readiness.decided")) == 0


def test_a_snapshot_freezes_the_picture(client: TestClient, keys: Keys) -> None:
    response = client.post(
        "/api/v1/situation/snapshots",
        json={"label": "Harjoitus 2025, tilanne 10:00"},
        headers=auth(keys[Role.operator]),
    )
    assert response.status_code == 201, response.text
    snapshot_id = response.json()["id"]
    assert post(client, keys, observation("power_outage_customers", "toholampi", 40)).status_code == 200

    frozen = client.get(f"/api/v1/situation/snapshots/{snapshot_id}", headers=auth(keys[Role.viewer])).json()
    toholampi = next(a for a in frozen["picture"]["areas"] if a["key"] == "toholampi")
    assert toholampi["recommended"]["level"] is None  # nothing was known of Toholampi then
    assert picture(client, keys)["toholampi"]["recommended"]["level"] == "taysvalmius"
    listing = client.get("/api/v1/situation/snapshots", headers=auth(keys[Role.viewer])).json()
    assert listing["total"] == 1 and listing["items"][0]["label"] == "Harjoitus 2025, tilanne 10:00"
    assert client.get("/api/v1/situation/snapshots/999", headers=auth(keys[Role.viewer])).status_code == 404
    too_big = client.get(f"/api/v1/situation/snapshots/{2**40}", headers=auth(keys[Role.viewer]))
    assert too_big.status_code == 422


def test_history_shows_levels_and_observations_over_time(client: TestClient, keys: Keys) -> None:
    start = utcnow() - timedelta(hours=1)
    assert post(client, keys, observation("power_outage_customers", "kokkola", 15)).status_code == 200
    assert decide(client, keys, "kokkola", "tehostettu_valmius").status_code == 201
    end = utcnow() + timedelta(minutes=1)
    response = client.get(
        "/api/v1/situation/history",
        params={"from": iso(start), "to": iso(end), "area": "kokkola"},
        headers=auth(keys[Role.viewer]),
    )
    assert response.status_code == 200, response.text
    history = response.json()
    assert [d["level"] for d in history["decisions"]] == ["tehostettu_valmius"]
    assert [r["level"] for r in history["recommendations"]] == ["tehostettu_valmius"]
    assert history["observations"]["total"] == 1
    assert history["observations"]["items"][0]["value"] == 15

    headers = auth(keys[Role.viewer])
    # what a person types: dates and times without a zone are Finnish time; a date reaches to the end of its day
    today = helsinki(datetime.fromisoformat(history["decisions"][0]["decided_at"])).date().isoformat()
    typed = client.get("/api/v1/situation/history", params={"from": today, "to": today}, headers=headers)
    assert typed.status_code == 200, typed.text
    assert [d["level"] for d in typed.json()["decisions"]] == ["tehostettu_valmius"]
    assert datetime.fromisoformat(typed.json()["from"]) == from_helsinki(datetime.fromisoformat(today))
    november = client.get(
        "/api/v1/situation/history", params={"from": "2025-11-01", "to": "2025-11-30"}, headers=headers
    )
    assert november.status_code == 200, november.text
    period = [datetime.fromisoformat(november.json()[key]).isoformat() for key in ("from", "to")]
    assert period == ["2025-10-31T22:00:00+00:00", "2025-11-30T22:00:00+00:00"]
    for params, problem in [
        ({"from": iso(end), "to": iso(start)}, "must be after"),
        ({"from": iso(start)}, "Field required"),
        ({"from": "2026-10-25T03:30", "to": iso(end)}, "happens twice"),
        ({"from": "marraskuu", "to": iso(end)}, "not a date or time"),
        ({"from": "0001-01-01T00:00:00+00:01", "to": iso(end)}, "out of range"),
        ({"from": iso(start), "to": iso(end), "area": "Oulu"}, "unknown area"),
        ({"from": iso(start), "to": iso(end), "indicator": "nope"}, "unknown indicator"),
    ]:
        response = client.get("/api/v1/situation/history", params=params, headers=headers)
        assert response.status_code == 422 and problem in response.text, response.text


def test_a_reaction_is_handled_by_one_dispatcher_at_a_time(database: Database, handled: list[ReactionEvent]) -> None:
    from situation import decisions, service
    from situation.schemas import DecisionIn

    payload = DecisionIn(area="toholampi", level="tehostettu_valmius", reason="Tulva")
    with database.session() as session:  # decided without the API, so nothing has dispatched it yet
        reaction_id = decisions.record_decision(session, payload=payload, actor="test").reactions[0].id
    now = utcnow()
    with database.session() as session:
        assert service.claim_reaction(session, reaction_id=reaction_id, now=now, lease=timedelta(minutes=5))
    with database.session() as session:
        assert not service.claim_reaction(session, reaction_id=reaction_id, now=now, lease=timedelta(minutes=5))
    assert dispatch_reactions(database=database, now=now) == 0  # claimed by the first "dispatcher"
    assert handled == []
    # the first dispatcher died: once its lease ends the reaction is taken again
    assert dispatch_reactions(database=database, now=now + timedelta(minutes=6)) == 1
    assert [event.reaction_id for event in handled] == [reaction_id]


def test_the_recommendation_history_follows_time_as_values_go_stale(
    client: TestClient, keys: Keys, database: Database
) -> None:
    from situation.flows import record_recommendation_changes
    from situation.models import RecommendationChange

    assert post(client, keys, observation("power_outage_customers", "kannus", 12)).status_code == 200
    with database.session() as session:
        assert record_recommendation_changes(session) == 0  # recorded already when the value came in
        assert record_recommendation_changes(session, now=utcnow() + timedelta(minutes=61)) == 3
        rows = session.scalars(
            select(RecommendationChange)
            .where(RecommendationChange.area_key == "kannus")
            .order_by(RecommendationChange.id)
        ).all()
    assert [(row.previous_level, row.level) for row in rows] == [
        (None, "tehostettu_valmius"),
        ("tehostettu_valmius", None),  # the value went stale: no data, no recommendation
    ]


def test_a_post_records_every_area_whose_recommendation_changed_as_the_whole_picture_says(database: Database) -> None:
    """The history is made from the latest values and only the recent values hysteresis may need; its rows are those
    the whole picture gives: also for areas the request did not touch, whose values went stale or whose hold ended
    meanwhile, and with the reasons' run starts."""
    from situation import flows, service
    from situation.models import RecommendationChange
    from situation.observations import ingest_observations
    from situation.schemas import ObservationIn

    start = utcnow().replace(microsecond=0) - timedelta(hours=3)
    later = start + timedelta(minutes=90)

    def values(*rows: tuple[str, str, float, datetime]) -> list[ObservationIn]:
        return [
            ObservationIn(indicator=indicator, area=area, value=value, observed_at=at, source="test")
            for indicator, area, value, at in rows
        ]

    ingest_observations(
        items=values(
            ("icu_occupancy", "region", 50, start - timedelta(hours=5)),  # stale at `later`: no data in most areas
            ("power_outage_customers", "kannus", 12, start - timedelta(minutes=5)),  # stale at `later`
            ("water_supply_disruption", "kokkola", 8, start - timedelta(hours=6)),  # held until `later`
            ("water_supply_disruption", "kokkola", 3, start - timedelta(hours=5)),
            ("water_supply_disruption", "kokkola", 3, start - timedelta(minutes=20)),
            ("power_outage_customers", "perho", 35, start - timedelta(minutes=5)),  # stale at `later`
            ("water_supply_disruption", "perho", 12, start - timedelta(minutes=40)),
            ("water_supply_disruption", "perho", 8, start - timedelta(minutes=10)),
            ("weather_warning", "veteli", 3, start - timedelta(hours=1)),  # unchanged
        ),
        actor="test",
        now=start,
    )
    with database.session() as session:
        previous = service.latest_recommendations(session)
        first_new = (session.scalar(select(func.max(RecommendationChange.id))) or 0) + 1
    assert previous["kannus"] == "tehostettu_valmius" and previous["kokkola"] == "tehostettu_valmius"
    assert previous["perho"] == "taysvalmius" and previous["halsua"] == "perusvalmius"

    # touches perho alone: its water is held at tehostettu_valmius by hysteresis now that its outage is stale
    ingest_observations(
        items=values(("water_supply_disruption", "perho", 3, later - timedelta(minutes=5))), actor="test", now=later
    )
    with database.session() as session:
        recorded = [
            (row.area_key, row.level, row.previous_level, row.changed_at, row.reasons)
            for row in session.scalars(
                select(RecommendationChange)
                .where(RecommendationChange.id >= first_new)
                .order_by(RecommendationChange.id)
            )
        ]
        _, _, pictures = flows.compute_pictures(session, now=later)
    whole_picture = [
        (key, level, previous.get(key), later, [reason.as_dict() for reason in picture.recommendation.reasons])
        for key, picture in pictures.items()
        if (level := picture.recommendation.level) != previous.get(key) and (key in previous or level)
    ]
    assert recorded == whole_picture
    changes = {area: (before, level) for area, level, before, _, _ in recorded}
    assert changes["kannus"] == ("tehostettu_valmius", None)  # untouched: its value went stale
    assert changes["kokkola"] == ("tehostettu_valmius", "perusvalmius")  # untouched: its hold ended
    assert changes["halsua"] == ("perusvalmius", None)
    assert changes["perho"] == ("taysvalmius", "tehostettu_valmius")
    assert "veteli" not in changes
    perho = next(reasons for area, _, _, _, reasons in recorded if area == "perho")
    assert [(r["rule"], r["indicator"], r["since"]) for r in perho] == [
        ("hysteresis", "water_supply_disruption", (start - timedelta(minutes=40)).isoformat())
    ]
