"""One set of figures: a drill's figures mean the same wherever they appear (the API, the console page, the
report's JSON, HTML, PDF and CSV, the yearly follow-up); the demo outbox gives SMS receipts through the status
callback's path; email says "no receipt", never 0 % or 100 %."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from alerting import flows
from alerting.console_receipts import deliver_due_receipts
from alerting.models import Alert, Delivery, DeliveryState
from alerting.schemas import AlertCreate
from alueturva.auth.models import Role
from alueturva.db import Database, utcnow
from alueturva.queue import InProcessQueue
from contacts.demo import load_demo_roster
from drills.demo import load_demo_drill
from drills.models import Drill
from tests.conftest import auth
from tests.support.reports import ready_pdf
from tests.support.roster import make_roster
from tests.support.web import sign_in

FIGURES = ("targeted", "sent", "delivered", "no_receipt", "failed", "acknowledged")


def test_the_demo_outbox_gives_sms_receipts_as_a_status_callback_and_email_none(
    database: Database, queue: InProcessQueue, client: TestClient, keys: dict[Role, str]
) -> None:
    roster = make_roster(database)
    body = {"title": "Koe", "message": "Kuittaa.", "targets": {"groups": [roster.group_id]}, "exercise": True}
    alert_id = flows.create_alert(AlertCreate.model_validate(body), actor="test").alert_id
    assert queue.join()
    assert deliver_due_receipts() == 0  # not yet: a receipt comes a moment after sending
    with database.session() as session:
        sms = session.scalars(select(Delivery).where(Delivery.channel == "sms")).all()
        assert sms and {d.state for d in sms} == {DeliveryState.sent}
    later = utcnow() + timedelta(seconds=3)
    assert deliver_due_receipts(now=later) == len(sms)
    assert deliver_due_receipts(now=later) == 0  # a receipt again is no news
    with database.session() as session:
        states = {(d.channel.value, d.state.value) for d in session.scalars(select(Delivery))}
    assert states == {("sms", "delivered"), ("email", "sent")}  # email stays sent: SMTP gives no receipt
    counts = client.get(f"/api/v1/alerts/{alert_id}", headers=auth(keys[Role.viewer])).json()["counts"]
    # Cecilia has no mobile: her email reached the mail server, and nobody knows more
    assert counts == {"targeted": 4, "sent": 4, "delivered": 3, "no_receipt": 1, "failed": 0, "acknowledged": 0}


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def _tfoot(html: str) -> list[int]:
    foot = html.split("<tfoot>")[1].split("</tfoot>")[0]
    return [int(n) if n else 0 for n in re.findall(r"<td[^>]*>(?:<meter[^>]*></meter> )?(\d*)</td>", foot)]


def test_a_drill_s_figures_are_the_same_everywhere_they_appear(
    client: TestClient, keys: dict[Role, str], database: Database, accounts: dict[Role, int]
) -> None:
    load_demo_roster()
    load_demo_drill()
    with database.session() as session:
        drill = session.scalars(select(Drill)).one()
        drill_id, year = drill.id, drill.started_at.year if drill.started_at else 0
        (alert_id,) = session.scalars(select(Alert.id)).all()
    viewer = auth(keys[Role.viewer])
    report = client.get(f"/api/v1/drills/{drill_id}/report", headers=viewer).json()
    counts = report["counts"]
    expected = [counts[key] for key in FIGURES]
    assert counts["no_receipt"] >= 1 and counts["delivered"] < counts["sent"]  # an email-only person, a refusal

    # the API: the alert's status and the drill's objectives
    status = client.get(f"/api/v1/alerts/{alert_id}", headers=viewer).json()["counts"]
    assert [status[key] for key in FIGURES] == expected
    drill_read = client.get(f"/api/v1/drills/{drill_id}", headers=viewer).json()
    share = next(o for o in drill_read["objectives"] if o["kind"] == "ack_share_within")["value"]
    assert share["targeted"] == counts["targeted"]
    assert report["shares"]["acknowledged"] == round(100 * counts["acknowledged"] / counts["targeted"], 1)
    confirmable = counts["sent"] - counts["no_receipt"]
    assert report["shares"]["delivered"] == round(100 * counts["delivered"] / confirmable, 1)  # never of everyone

    # the console: the drill's page and the alert's page, with the same columns
    sign_in(client, Role.viewer)
    drill_page = client.get(f"/drills/{drill_id}").text
    alert_page = client.get(f"/alerts/{alert_id}").text
    assert _tfoot(drill_page) == expected == _tfoot(alert_page)

    # the report as HTML, as PDF text, as CSV
    html = client.get(f"/api/v1/drills/{drill_id}/report?format=html", headers=viewer).text
    row = html.split('<table class="counts">')[1].split("</table>")[0].split("<tbody>")[1]
    assert _numbers(row) == [*expected, counts["late"]]
    pdf = ready_pdf(client, f"/api/v1/drills/{drill_id}/report?format=pdf", headers=viewer).content
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert " ".join(str(n) for n in [*expected, counts["late"]]) in re.sub(r"\s+", " ", text)
    organisations = client.get(
        f"/api/v1/drills/{drill_id}/report?format=csv&table=organisations", headers=viewer
    ).text.lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(organisations), delimiter=";"))
    assert [sum(int(r[key]) for r in rows) for key in FIGURES] == expected
    (email,) = [c for c in report["by_channel"] if c["channel"] == "email"]
    assert email["delivered"] is None and email["receipts"] is False  # "no receipt", never 0 % or 100 %
    assert "Ei toimitusraporttia" in html.split("Kanavittain")[1].split("</table>")[0]

    # the councils' follow-up
    followup = client.get(f"/api/v1/followup?year={year}", headers=viewer).json()
    (row_of_drill,) = [d for d in followup["drills"] if d["id"] == drill_id]
    assert [row_of_drill["counts"][key] for key in FIGURES] == expected
    assert row_of_drill["shares"] == report["shares"]
    assert row_of_drill["ack_seconds"]["median"] == report["ack_seconds"]["median"]


def test_the_swedish_report_of_the_demo_drill_is_wholly_swedish(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    load_demo_roster()
    load_demo_drill()
    with database.session() as session:
        drill_id = session.scalars(select(Drill.id)).one()
    html = client.get(f"/api/v1/drills/{drill_id}/report?format=html&language=sv", headers=auth(keys[Role.viewer]))
    text = re.sub(r"<[^>]+>", " ", html.text.split("<body>")[1])
    assert "Larmövning för ledningsgrupperna (demo)" in text and "Räddningsverkets beredskapschef" in text
    assert "Ledningsgrupperna samlades på distans" in text and "Karleby" in text and "Kaustby" in text
    text = re.sub(r"\b\w+ (Esimerkki|Harjoitus|Kuvitelma)\b", "", text)  # the demo's people's invented names
    finnish = ("Kokkola", "Kaustinen", "Veteli", "harjoitus", "Harjoitus", "kuittasi", "hälytys", "johtoryhm")
    assert not [word for word in finnish if word in text]
