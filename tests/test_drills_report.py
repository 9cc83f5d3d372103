"""The after-action report, checked figure by figure against a drill driven end to end with replies at chosen
times; its HTML and PDF text against its JSON; redacted variants without personal data; and the councils' yearly
follow-up, whose SMS cost split adds up to the total to the cent."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from alerting.models import Alert, Delivery, DeliveryState, Recipient
from alerting.segments import count_segments
from alueturva.auth.models import Role
from alueturva.db import Database, utcnow
from alueturva.i18n import helsinki
from alueturva.queue import InProcessQueue
from contacts.compliance import check_compliance
from drills.report.render import duration
from loopback.twilio_server import FakeTwilio
from tests.conftest import auth
from tests.support.drills import act, age_drill, plan, reply, short_code
from tests.support.reports import ready_pdf
from tests.support.roster import Roster, make_roster, settled, wait_until

NAMES = ("Aino Aaltonen", "Bertil Backman", "Cecilia Carlsson", "Daniel Dahl")


@pytest.fixture
def roster(database: Database) -> Roster:
    """Aino (Kannus), Bertil (Kokkola, his number refused), Cecilia (Kaustinen, no mobile), Daniel (Kannus)."""
    return make_roster(database)


def _drill(client: TestClient, keys: dict[Role, str], roster: Roster, name: str) -> dict[str, Any]:
    return plan(
        client,
        keys,
        name=name,
        kind="management_group_test",
        targets={"groups": [roster.group_id]},
        channels=["sms"],
        title="Johtoryhmän hälytyskoe",
        message="Kokoontuminen klo 10.",
        escalation={"resend_after_minutes": 3, "resend_times": 1, "other_channel": False,
                    "deputy_after_minutes": None, "notify_operator_after_minutes": None},
        objectives=[
            {"kind": "ack_share_within", "percent": 50, "minutes": 10},
            {"kind": "every_organisation_within", "minutes": 20},
            {"kind": "max_unreachable", "count": 0},
            {"kind": "manual", "text": "Johtoryhmä kokoontui"},
        ],
    )  # fmt: skip


def _settle(database: Database, drill: dict[str, Any]) -> int:
    (alert_id,) = drill["alerts"]
    assert wait_until(lambda: settled(database, alert_id))
    return int(alert_id)


def _rows(database: Database, alert_id: int) -> tuple[list[Any], list[Any]]:
    with database.session() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        recipients = session.scalars(select(Recipient).where(Recipient.alert_id == alert_id)).all()
        deliveries = session.scalars(select(Delivery).where(Delivery.alert_id == alert_id)).all()
        created = alert.created_at
        acks = sorted((r.acknowledged_at - created).total_seconds() for r in recipients if r.acknowledged_at)
        first: dict[int, float] = {}
        for d in deliveries:
            if d.state in (DeliveryState.sent, DeliveryState.delivered):
                at = ((d.delivered_at or d.sent_at) - created).total_seconds()  # type: ignore[operator]
                first[d.recipient_id] = min(first.get(d.recipient_id, at), at)
        return acks, sorted(first.values())


def _nearest_rank(values: list[float], percent: int) -> float:
    return round(values[-(-len(values) * percent // 100) - 1], 1)


@pytest.fixture
def held(
    twilio_settings: FakeTwilio, client: TestClient, keys: dict[Role, str], roster: Roster, database: Database,
    queue: InProcessQueue, sweep: Callable[[], None],
) -> dict[str, Any]:  # fmt: skip
    """A previous drill (only Aino answers; an item left open), then the drill the report is about."""
    fake, mobiles = twilio_settings, roster.mobiles
    fake.invalid_numbers.add(mobiles["bertil"])
    previous = act(client, keys, f"{_drill(client, keys, roster, 'Hälytyskoe syksy')['id']}/start")
    previous_alert = _settle(database, previous)
    reply(fake, client, mobiles["aino"], f"1 {short_code(database, previous_alert)}")
    act(client, keys, f"{previous['id']}/end")
    act(client, keys, f"{previous['id']}/improvement-items", text="Numerot vanhoja", action="Päivitä rekisteri")
    age_drill(database, previous["id"], minutes=60)  # held an hour before the one the report is about

    drill = act(client, keys, f"{_drill(client, keys, roster, 'Hälytyskoe joulukuu')['id']}/start")
    alert_id = _settle(database, drill)
    code = short_code(database, alert_id)
    aino_sms = next(m for m in fake.messages if m["to"] == mobiles["aino"] and code in m["body"])
    assert fake.send_status_callback(aino_sms["sid"], "delivered", http=client) == 204
    age_drill(database, drill["id"], minutes=2)
    reply(fake, client, mobiles["aino"], f"1 {code}")  # 2 minutes
    age_drill(database, drill["id"], minutes=3)
    sweep()  # the reminder round, due at 3 minutes, reminds the silent ones
    assert queue.join()
    reply(fake, client, mobiles["deputy"], f"2 {code}")  # 5 minutes, after his reminder
    age_drill(database, drill["id"], minutes=7)
    reply(fake, client, mobiles["bertil"], f"1 {code}")  # 12 minutes: his number is refused, but he can reply
    age_drill(database, drill["id"], minutes=10)
    act(client, keys, f"{drill['id']}/end")
    act(client, keys, f"{drill['id']}/objectives/4/rating", rating="S", note="Kaustinen puuttui")
    act(client, keys, f"{drill['id']}/findings", kind="strength", text="Kannus kuittasi nopeasti")
    act(
        client,
        keys,
        f"{drill['id']}/findings",
        kind="area_for_improvement",
        text="Kaustisen numero puuttuu",
        objective=3,
    )
    act(
        client, keys, f"{drill['id']}/improvement-items", text="Kaustisen numero puuttuu",
        action="Lisää matkapuhelinnumero", organisation_id=roster.organisations["kaustinen"], due="2027-03-31",
    )  # fmt: skip
    act(client, keys, f"{drill['id']}/observations", text="Bertil kuuli hälytyksestä kollegalta")
    return {"id": drill["id"], "previous": previous["id"], "alert_id": alert_id}


def _report(client: TestClient, keys: dict[Role, str], drill_id: int, **query: str) -> Any:
    url, headers = f"/api/v1/drills/{drill_id}/report", auth(keys[Role.viewer])
    response = ready_pdf(client, url, params=query, headers=headers)  # a PDF is built by a worker; others at once
    assert response.status_code == 200, response.text
    return response.json() if query.get("format", "json") == "json" else response


def test_every_figure_of_the_report_is_what_happened(
    held: dict[str, Any], client: TestClient, keys: dict[Role, str], roster: Roster, database: Database
) -> None:
    report = _report(client, keys, held["id"])
    acks, deliveries = _rows(database, held["alert_id"])
    assert [120 <= acks[0] < 160, 300 <= acks[1] < 340, 720 <= acks[2] < 760] == [True, True, True], acks

    assert report["counts"] == {
        "targeted": 4, "sent": 2, "delivered": 1, "no_receipt": 0, "failed": 2, "acknowledged": 3, "late": 0
    }  # fmt: skip
    assert report["shares"] == {"delivered": 50.0, "acknowledged": 75.0}  # delivered of the 2 sent by SMS
    assert report["ack_seconds"] == {
        "count": 3, "median": _nearest_rank(acks, 50), "p90": _nearest_rank(acks, 90), "max": round(acks[-1], 1)
    }  # fmt: skip
    assert report["delivery_seconds"]["count"] == 2
    assert report["delivery_seconds"]["median"] == _nearest_rank(deliveries, 50)
    assert report["delivery_seconds"]["max"] == round(deliveries[-1], 1)
    (sms,) = report["by_channel"]
    assert (sms["channel"], sms["messages"], sms["sent"], sms["delivered"], sms["failed"]) == ("sms", 3, 2, 1, 1)
    assert [(p["option"], p["count"]) for p in report["poll"]] == [(1, 2), (2, 1)]
    assert [(o["organisation"], o["targeted"], o["acknowledged"]) for o in report["by_organisation"]] == [
        ("Kannus", 2, 2), ("Kaustinen", 1, 0), ("Kokkola", 1, 1),
    ]  # fmt: skip
    assert {a["area"]: (a["targeted"], a["acknowledged"]) for a in report["by_area"]} == {
        "Kokkola": (1, 1), "Lestijokilaakso": (2, 2), "Perhonjokilaakso": (1, 0),
    }  # fmt: skip
    assert [(o["kind"], o["met"]) for o in report["objectives"]] == [
        ("ack_share_within", True), ("every_organisation_within", False), ("max_unreachable", False), ("manual", True),
    ]  # fmt: skip
    assert report["objectives"][0]["value_text"] == "2/4 kuittasi ajoissa (50\xa0%)"
    curve = dict(zip(report["curve"]["minutes"], report["curve"]["overall"], strict=True))
    assert (curve[1], curve[2], curve[5], curve[12]) == (0.0, 25.0, 50.0, 75.0)

    fixes = {(f["organisation"], f["person"], f["code"]) for f in report["roster_fixes"]}
    assert {
        ("Kaustinen", "Cecilia Carlsson", "no_mobile"),
        ("Kokkola", "Bertil Backman", "sms_refused"),
        ("Kaustinen", "Cecilia Carlsson", "never_answered"),
    } <= fixes
    assert ("Kannus", "Aino Aaltonen", "never_answered") not in fixes
    with database.session() as session:
        unnamed = sum(result.status == "missing" for result in check_compliance(session).results("required"))
    assert sum(f["code"] == "role_unnamed" for f in report["roster_fixes"]) == unnamed
    assert "21211" in next(f["problem"] for f in report["roster_fixes"] if f["code"] == "sms_refused")

    people = {p["name"]: p for p in report["people"]}
    assert [e["event"] for e in people["Aino Aaltonen"]["timeline"]] == ["sent", "delivered", "acknowledged"]
    assert any(e["event"] == "sent" and e["reminder"] for e in people["Daniel Dahl"]["timeline"])
    assert [e["event"] for e in people["Bertil Backman"]["timeline"]] == ["failed", "failed", "acknowledged"]
    assert people["Daniel Dahl"]["answer"] == "En pääse" and people["Cecilia Carlsson"]["timeline"] == []

    assert report["previous"]["id"] == held["previous"]
    compared = {row["figure"]: (row["this"], row["previous"], row["better"]) for row in report["comparison"]}
    assert compared["acknowledged_share"] == (75.0, 25.0, True) and compared["targeted"] == (4, 4, None)
    assert report["strengths"] == ["Kannus kuittasi nopeasti"]
    assert report["areas_for_improvement"] == ["Kaustisen numero puuttuu"]
    (item,) = report["improvement_items"]
    assert (item["organisation"], item["due"], item["status"]) == ("Kaustinen", "2027-03-31", "open")
    assert [i["text"] for i in report["open_items_from_earlier"]] == ["Numerot vanhoja"]


def _text(html_or_pdf: str) -> str:
    return re.sub(r"\s+", " ", html_or_pdf)


def _expected_figures(report: dict[str, Any]) -> list[str]:
    """What a reader must find in the HTML and the PDF, made from the JSON."""
    figures = [o["value_text"] for o in report["objectives"] if o["value_text"]]
    figures += [duration(report["ack_seconds"][key]) for key in ("median", "p90", "max")]
    figures += [duration(report["delivery_seconds"][key]) for key in ("median", "p90")]
    figures += [f"{p['option']} = {p['answer']}" for p in report["poll"]]
    figures += [f["problem"] for f in report["roster_fixes"]]
    figures += [o["organisation"] for o in report["by_organisation"]]
    figures += (
        report["strengths"] + report["areas_for_improvement"] + [item["action"] for item in report["improvement_items"]]
    )
    return figures


def test_the_html_and_the_pdf_say_what_the_json_says(
    held: dict[str, Any], client: TestClient, keys: dict[Role, str]
) -> None:
    report = _report(client, keys, held["id"], language="sv")
    html = _report(client, keys, held["id"], format="html", language="sv")
    assert html.headers["content-type"].startswith("text/html") and 'lang="sv"' in html.text
    links = [a or b for a, b in re.findall(r'(?:src|href)="([^"]+)"|url\(([^)]+)\)', html.text)]
    assert "<script" not in html.text and [link for link in links if not link.startswith("#")] == []  # self-contained
    pdf = _report(client, keys, held["id"], format="pdf", language="sv")
    assert pdf.content.startswith(b"%PDF")
    pdf_text = _text(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages))
    html_text = _text(re.sub(r"<[^>]+>", " ", html.text).replace("&amp;", "&"))
    for figure in _expected_figures(report):
        assert _text(figure) in html_text, figure
        assert _text(figure).replace(" ", "") in pdf_text.replace(" ", ""), figure
    assert "Utvärderingsrapport" in html_text and "ÖVNING" in html_text


def test_the_pdf_lists_who_did_not_acknowledge_and_the_html_and_csv_list_everyone(
    held: dict[str, Any], client: TestClient, keys: dict[Role, str]
) -> None:
    people = _report(client, keys, held["id"], language="sv")["people"]
    silent = {p["name"] for p in people if p["acknowledged_at"] is None}
    acknowledged = {p["name"] for p in people if p["acknowledged_at"] is not None}
    assert "Cecilia Carlsson" in silent and "Aino Aaltonen" in acknowledged
    pdf = _report(client, keys, held["id"], format="pdf", language="sv").content
    pdf_text = _text(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)).replace(" ", "")
    listed = pdf_text.split("Desomintekvitterade")[-1]  # the heading of the last section, the people
    assert all(name.replace(" ", "") in listed for name in silent)
    assert not [name for name in acknowledged if name.replace(" ", "") in listed]
    note = (
        f"bara upp dem som inte kvitterade ({len(silent)}/{len(people)}). Hela personförteckningen finns i rapportens"
    )
    assert note.replace(" ", "") in listed
    html = _report(client, keys, held["id"], format="html", language="sv").text
    people_csv = _report(client, keys, held["id"], format="csv", language="sv").text
    assert all(name in html for name in silent | acknowledged)
    assert len(people_csv.strip().splitlines()) == 1 + len(people)  # a row for everyone (by role: always redacted)
    assert "De som inte kvitterade" not in html


def test_redacted_reports_hold_no_name_number_or_email(
    held: dict[str, Any], client: TestClient, keys: dict[Role, str], roster: Roster
) -> None:
    personal = [*NAMES, *roster.mobiles.values(), "@example.fi"]
    texts = [
        str(_report(client, keys, held["id"], redact="true")),
        _report(client, keys, held["id"], format="html", redact="true").text,
        _report(client, keys, held["id"], format="csv").text,
        _report(client, keys, held["id"], format="csv", table="organisations").text,
    ]
    pdf = _report(client, keys, held["id"], format="pdf", redact="true").content
    texts.append(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
    for text in texts:
        assert not [value for value in personal if value in text]
    assert "Varautumisen ja väestönsuojelun yhteyshenkilö" in texts[2]  # roles instead of names
    full = str(_report(client, keys, held["id"]))
    assert all(name in full for name in NAMES)


def test_the_yearly_follow_up_splits_the_sms_cost_to_the_cent(
    held: dict[str, Any], client: TestClient, keys: dict[Role, str], twilio_settings: FakeTwilio
) -> None:
    year = helsinki(utcnow()).year
    response = client.get("/api/v1/followup", params={"year": year}, headers=auth(keys[Role.viewer]))
    assert response.status_code == 200, response.text
    followup = response.json()
    assert [d["id"] for d in followup["drills"]] == [held["previous"], held["id"]]
    assert followup["by_kind_and_month"] == {"management_group_test": {str(helsinki(utcnow()).month): 2}}
    assert followup["objectives"]["total"] == 8 and followup["drills"][1]["compliance"]["total"] > 0
    assert len(followup["improvement_items"]["opened"]) == 2 and followup["improvement_items"]["open_now"] == 2

    accepted = sum(count_segments(message["body"]).segments for message in twilio_settings.messages)
    costs = followup["costs"]
    assert costs["exercise"]["segments"] == accepted and costs["real"]["segments"] == 0
    price = Decimal(str(costs["price_per_segment"]))
    for part in ("exercise", "real", "total"):
        total = Decimal(str(costs[part]["euros"]))
        shares = [Decimal(str(row["euros"])) for row in costs[part]["split"]]
        assert sum(shares) == total, part
        assert sum(row["cents"] for row in costs[part]["split"]) == int(total * 100)
    assert Decimal(str(costs["exercise"]["euros"])) == (price * accepted).quantize(Decimal("0.01"))
    soite, kokkola = costs["total"]["split"][0], costs["total"]["split"][1]
    assert soite["key"] == "soite" and abs(
        Decimal(str(soite["euros"])) * 2 - Decimal(str(costs["total"]["euros"]))
    ) <= Decimal("0.01")
    assert kokkola["key"] == "kokkola" and kokkola["share"] == pytest.approx(71.42, abs=0.01)
    for format, kind in (("html", "text/html"), ("pdf", "application/pdf")):
        rendered = client.get(
            "/api/v1/followup", params={"year": year, "format": format}, headers=auth(keys[Role.viewer])
        )
        assert rendered.status_code == 200 and rendered.headers["content-type"].startswith(kind)


def test_a_report_needs_a_held_drill_and_a_viewer(client: TestClient, keys: dict[Role, str], roster: Roster) -> None:
    drill = _drill(client, keys, roster, "Ei vielä pidetty")
    assert client.get(f"/api/v1/drills/{drill['id']}/report").status_code == 401
    refused = client.get(f"/api/v1/drills/{drill['id']}/report", headers=auth(keys[Role.viewer]))
    assert refused.status_code == 409 and "has been held" in refused.json()["detail"]
    bad = client.get(f"/api/v1/drills/{drill['id']}/report?format=docx", headers=auth(keys[Role.viewer]))
    assert bad.status_code == 422
