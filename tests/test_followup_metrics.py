"""The agreement's follow-up by its own metrics: one row per metric or measure with a status, its evidence and who
confirmed it when. The measured ones follow the data (a municipality's contact removed makes its line not met; a
management-group test in the year makes it met; a municipality's recorded reviews of its action cards and management
group make its review line met); the others are recorded by a person with date and evidence."""

from __future__ import annotations

import io
import re
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from alueturva.auth.models import Role
from alueturva.db import Database, utcnow
from alueturva.i18n import helsinki
from contacts.demo import load_demo_roster
from contacts.models import Organisation, Person
from loopback.twilio_server import FakeTwilio
from tests.conftest import auth
from tests.support.drills import act, plan

KEYS = [
    "named_contacts",
    "readiness_parameters",
    "anticipatory_picture",
    "management_group_tested",
    "exercise_2025",
    "alerting_system",
    "management_group_review",
    "preparedness_plan",
    "autumn_seminar",
    "civil_defence_formations",
    "evacuation_planning",
]


def _followup(client: TestClient, keys: dict[Role, str], **query: Any) -> Any:
    year = helsinki(utcnow()).year
    response = client.get("/api/v1/followup", params={"year": year} | query, headers=auth(keys[Role.viewer]))
    assert response.status_code == 200, response.text
    return response.json() if query.get("format", "json") == "json" else response


def _metrics(client: TestClient, keys: dict[Role, str], language: str = "fi") -> dict[str, Any]:
    return {metric["key"]: metric for metric in _followup(client, keys, language=language)["metrics"]}


def _line(metric: dict[str, Any], subject: str) -> dict[str, Any]:
    return next(detail for detail in metric["details"] if detail["subject"] == subject)


def test_measured_metrics_follow_the_data(
    twilio_settings: FakeTwilio, client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    load_demo_roster()
    metrics = _metrics(client, keys)
    assert list(metrics) == KEYS
    assert all(metrics[key]["measured"] for key in KEYS[:7]) and not any(metrics[key]["measured"] for key in KEYS[7:])
    named = metrics["named_contacts"]
    assert named["status"] == "not_met" and named["evidence"] == "Vaaditut tehtävät nimetty: 28/29."
    assert (_line(named, "Kokkola")["status"], _line(named, "Lestijärvi")["status"]) == ("met", "not_met")
    assert named["confirmed_by"] == "Alueturva (mitattu)" and named["confirmed_at"]
    assert metrics["readiness_parameters"]["status"] == "met"
    assert metrics["anticipatory_picture"]["status"] == "not_met"  # no observations: no current data anywhere
    assert next(d["evidence"] for d in metrics["anticipatory_picture"]["details"]).startswith("indikaattoreista 0/")
    tested = metrics["management_group_tested"]
    assert tested["status"] == "not_met" and _line(tested, "Kokkola")["status"] == "not_met"
    assert metrics["exercise_2025"]["status"] == "not_met"
    assert metrics["alerting_system"]["status"] == "not_met"
    review = metrics["management_group_review"]
    assert review["status"] == "not_met" and review["evidence"].endswith(": 0/8 kuntaa.")
    unreviewed = "toimintaohjekortit: ei katselmoitu; johtoryhmän kokoonpano: ei katselmoitu"
    assert _line(review, "Kokkola")["evidence"] == unreviewed
    assert metrics["autumn_seminar"] == metrics["autumn_seminar"] | {
        "status": "unknown",
        "evidence": "Ei kirjattu.",
        "confirmed_by": None,
        "confirmed_at": None,
    }

    # Kokkola's preparedness contact and their deputy leave the roster: Kokkola's line is not met.
    with database.session() as session:
        kokkola = session.scalars(select(Organisation).where(Organisation.key == "kokkola")).one()
        leaving = session.scalars(
            select(Person.id).where(
                Person.organisation_id == kokkola.id, Person.title.in_(("Valmiuspäällikkö", "Tekninen johtaja"))
            )
        ).all()
        kokkola_id = kokkola.id
    assert len(leaving) == 2
    for person_id in leaving:
        response = client.delete(f"/api/v1/people/{person_id}", headers=auth(keys[Role.admin]))
        assert response.status_code == 204, response.text
    named = _metrics(client, keys)["named_contacts"]
    assert _line(named, "Kokkola")["status"] == "not_met", (_line(named, "Kokkola"), named["evidence"])
    assert named["evidence"] == "Vaaditut tehtävät nimetty: 27/29."

    # A management group test reaching Kokkola in the year: Kokkola's line is met, with its date and reach.
    drill = plan(
        client,
        keys,
        name="Kokkolan johtoryhmän hälytyskoe",
        kind="management_group_test",
        targets={"organisations": [kokkola_id]},
        channels=["sms"],
        title="Hälytyskoe",
        message="Kuittaa.",
    )
    act(client, keys, f"{drill['id']}/start")
    act(client, keys, f"{drill['id']}/end")
    metrics = _metrics(client, keys)
    line = _line(metrics["management_group_tested"], "Kokkola")
    assert line["status"] == "met" and line["at"] == helsinki(utcnow()).date().isoformat()
    assert "Kokkolan johtoryhmän hälytyskoe" in line["evidence"] and re.search(r"kuittasi 0/\d+", line["evidence"])
    assert metrics["management_group_tested"]["status"] == "in_progress"  # one of eight municipalities
    assert _line(metrics["management_group_tested"], "Perho")["status"] == "not_met"
    assert metrics["alerting_system"]["status"] == "met"
    sv = {metric["key"]: metric for metric in _followup(client, keys, language="sv")["metrics"]}
    assert _line(sv["management_group_tested"], "Karleby")["status"] == "met"


def test_manual_metrics_are_recorded_with_date_evidence_and_who(client: TestClient, keys: dict[Role, str]) -> None:
    year = helsinki(utcnow()).year
    body = {"year": year, "status": "met", "evidence": "https://example.fi/syysseminaari.pdf", "on": f"{year}-10-02"}

    def patch(key: str, role: Role = Role.operator, **changes: Any) -> Any:
        return client.patch(f"/api/v1/followup/metrics/{key}", json=body | changes, headers=auth(keys[role]))

    assert patch("autumn_seminar", Role.viewer).status_code == 403
    assert patch("named_contacts").status_code == 422  # measured by the service
    assert patch("no_such_metric").status_code == 404
    assert patch("autumn_seminar", status="done").status_code == 422
    assert patch("autumn_seminar", evidence="").status_code == 422
    assert patch("autumn_seminar", year=1999).status_code == 422
    assert _metrics(client, keys)["autumn_seminar"]["status"] == "unknown"

    response = patch("autumn_seminar")
    assert response.status_code == 200, response.text
    assert response.json()["recorded_by"] and response.json()["on"] == f"{year}-10-02"
    assert (
        patch(
            "evacuation_planning", status="in_progress", evidence="evakuointisuunnitelma-luonnos.docx", on=None
        ).status_code
        == 200
    )
    metrics = _metrics(client, keys, "sv")
    seminar = metrics["autumn_seminar"]
    assert (seminar["status"], seminar["status_text"], seminar["measured"]) == ("met", "uppfyllt", False)
    assert seminar["evidence"] == f"https://example.fi/syysseminaari.pdf (2.10.{year})"
    assert seminar["confirmed_by"] == response.json()["recorded_by"] and seminar["confirmed_at"]
    assert metrics["evacuation_planning"]["status"] == "in_progress"
    assert metrics["evacuation_planning"]["evidence"] == "evakuointisuunnitelma-luonnos.docx"
    # The latest record is the status; the earlier ones stay as history.
    assert patch("autumn_seminar", status="not_met", evidence="peruttu").status_code == 200
    assert _metrics(client, keys)["autumn_seminar"]["status"] == "not_met"

    html = _followup(client, keys, format="html", language="sv").text
    assert "Avtalets utvärderingsmätare och åtgärder" in html and "Höstseminariet" in html
    assert "inte avtalad" in html  # the SMS cost split stays labelled as the agreement's example
    pdf = _followup(client, keys, format="pdf", marking="personal_data")
    pages = [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(pdf.content)).pages]
    assert len(pages) > 1 and all("Ei julkinen, sisältää henkilötietoja" in page for page in pages)
    assert "Syysseminaari" in " ".join(pages) and "Evakuointisuunnittelu aloitettu" in " ".join(pages)
    data = _followup(client, keys, marking="secret_24_1_8")
    assert data["marking_text"] == "Salassa pidettävä JulkL 621/1999 24 § 1 mom. 8 k."
    assert (
        client.get(
            "/api/v1/followup", params={"year": year, "marking": "x"}, headers=auth(keys[Role.viewer])
        ).status_code
        == 422
    )


def test_the_municipalities_recorded_reviews_measure_the_review_metric(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    """Kokkola's review of its action cards puts its line and the metric in progress; its management group's review
    in the year makes its line met; a review of another year counts for nothing."""
    load_demo_roster()
    with database.session() as session:
        kokkola_id = session.scalars(select(Organisation.id).where(Organisation.key == "kokkola")).one()
    year = helsinki(utcnow()).year

    def review(subject: str, day: str) -> None:
        body = {
            "organisation_id": kokkola_id,
            "subject": subject,
            "reviewed_by": "Valmiuspäällikkö",
            "reviewed_at": day,
        }
        response = client.post("/api/v1/action-cards/reviews", json=body, headers=auth(keys[Role.admin]))
        assert response.status_code == 201, response.text

    review("management_group", f"{year - 1}-12-31T23:30:00")  # Finnish time: the year before
    metric = _metrics(client, keys)["management_group_review"]
    assert metric["status"] == "not_met" and _line(metric, "Kokkola")["status"] == "not_met"

    review("action_cards", f"{year}-01-01T00:30:00")  # Finnish time: just inside the year
    metric = _metrics(client, keys)["management_group_review"]
    line = _line(metric, "Kokkola")
    assert (metric["status"], line["status"], line["at"]) == ("in_progress", "in_progress", f"{year}-01-01")
    assert line["evidence"] == f"toimintaohjekortit: 1.1.{year}; johtoryhmän kokoonpano: ei katselmoitu"
    assert _line(metric, "Perho")["status"] == "not_met"

    review("management_group", f"{year}-01-02T12:00:00")
    metric = _metrics(client, keys)["management_group_review"]
    assert _line(metric, "Kokkola")["status"] == "met" and _line(metric, "Kokkola")["at"] == f"{year}-01-02"
    assert metric["status"] == "in_progress" and metric["evidence"].endswith(": 1/8 kuntaa.")
    sv = {m["key"]: m for m in _followup(client, keys, language="sv")["metrics"]}["management_group_review"]
    assert _line(sv, "Karleby")["evidence"].startswith("åtgärdskort: 1.1.")
