"""Participants' feedback: when a drill ends, everyone who acknowledged gets an exercise-marked request with a signed,
single-purpose link to a one-page form of the drill's questions in their language; answers are kept apart from
identities, given once, shown in the report as distributions and free texts without names. The requests are an
outbox: nothing lost, nothing sent twice."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import inspect, select, update

from alueturva.auth.models import Role
from alueturva.db import Database, utcnow
from alueturva.queue import InProcessQueue
from drills import feedback
from drills.models import FeedbackAnswer, FeedbackRequest
from loopback.twilio_server import FakeTwilio
from tests.conftest import auth
from tests.support.drills import act, plan, reply, short_code
from tests.support.reports import ready_pdf
from tests.support.roster import make_roster, settled, wait_until

LINK = re.compile(r"/feedback/[A-Za-z0-9_.\-]+")
QUESTIONS = [
    {"kind": "scale", "text": {"fi": "Oliko viesti selkeä?", "sv": "Var meddelandet tydligt?"}},
    {"kind": "choice", "text": {"fi": "Tiesitkö mitä tehdä?", "sv": "Visste du vad du skulle göra?"}},
    {"kind": "text", "text": {"fi": "Mitä parantaisit?", "sv": "Vad skulle du förbättra?"}},
    {"kind": "scale", "text": {"fi": "Toimiko kuittaus?", "sv": "Fungerade kvitteringen?"}},
]


def _links(fake: FakeTwilio, mobile: str) -> list[str]:
    return [LINK.search(m["body"]).group(0) for m in fake.messages if m["to"] == mobile and "/feedback/" in m["body"]]  # type: ignore[union-attr]


def test_feedback_is_asked_answered_once_and_reported_without_names(
    twilio_settings: FakeTwilio,
    client: TestClient,
    keys: dict[Role, str],
    database: Database,
    queue: InProcessQueue,
) -> None:
    fake, roster = twilio_settings, make_roster(database)
    drill = plan(
        client,
        keys,
        name={"fi": "Hälytyskoe", "sv": "Larmprov"},
        kind="management_group_test",
        targets={"groups": [roster.group_id]},
        channels=["sms"],
        title={"fi": "Koe", "sv": "Prov"},
        message={"fi": "Kuittaa.", "sv": "Kvittera."},
        feedback_questions=QUESTIONS,
    )
    assert (
        client.post(
            "/api/v1/drills", json={**drill, "feedback_questions": QUESTIONS[:2]}, headers=auth(keys[Role.operator])
        ).status_code
        == 422
    )
    started = act(client, keys, f"{drill['id']}/start")
    (alert_id,) = started["alerts"]
    assert wait_until(lambda: settled(database, alert_id))
    code = short_code(database, alert_id)
    for key in ("aino", "bertil", "deputy"):
        reply(fake, client, roster.mobiles[key], f"1 {code}")
    act(client, keys, f"{drill['id']}/end")
    assert queue.join()

    links = {key: _links(fake, roster.mobiles[key]) for key in ("aino", "bertil", "deputy")}
    assert all(len(found) == 1 for found in links.values()), links
    (bertil_sms,) = [
        m["body"] for m in fake.messages if m["to"] == roster.mobiles["bertil"] and "/feedback/" in m["body"]
    ]
    assert bertil_sms.startswith("ÖVNING – Begäran om respons: Larmprov.") and bertil_sms.endswith("ÖVNING")
    (aino_sms,) = [m["body"] for m in fake.messages if m["to"] == roster.mobiles["aino"] and "/feedback/" in m["body"]]
    assert aino_sms.startswith("HARJOITUS – Palautepyyntö: Hälytyskoe.")
    with database.session() as session:
        assert len(session.scalars(select(FeedbackRequest)).all()) == 3  # Cecilia did not acknowledge
    sent = len(fake.messages)
    assert feedback.send_pending() == 0 and len(fake.messages) == sent  # nothing twice

    form = client.get(links["bertil"][0])
    assert form.status_code == 200 and 'lang="sv"' in form.text and "ÖVNING" in form.text
    assert "Visste du vad du skulle göra?" in form.text and "Delvis" in form.text and "Oliko" not in form.text
    assert client.get(links["bertil"][0][:-3] + "xyz").status_code == 404
    assert client.get("/feedback/not-a-token").status_code == 404

    refused = client.post(links["aino"][0], data={"q0": "4", "q2": "Nopeampi muistutus"})
    assert refused.status_code == 422 and "Vastaa jokaiseen" in refused.text
    assert (
        client.post(links["aino"][0], data={"q0": "4", "q1": "yes", "q2": "Nopeampi muistutus", "q3": "5"}).status_code
        == 200
    )
    again = client.post(links["aino"][0], data={"q0": "1", "q1": "no", "q2": "", "q3": "1"})
    assert again.status_code == 409 and "jo vastattu" in again.text
    assert client.get(links["aino"][0]).status_code == 409
    assert (
        client.post(links["bertil"][0], data={"q0": "5", "q1": "partly", "q2": "Mer tid", "q3": "4"}).status_code == 200
    )
    assert client.post(links["deputy"][0], data={"q0": "4", "q1": "yes", "q2": "", "q3": "6"}).status_code == 422
    with database.session() as session:
        session.execute(update(FeedbackRequest).values(expires_at=utcnow() - timedelta(minutes=1)))
    expired = client.post(links["deputy"][0], data={"q0": "4", "q1": "yes", "q2": "", "q3": "5"})
    assert expired.status_code == 409 and "vanhentunut" in expired.text

    with database.session() as session:
        assert {c.key for c in inspect(FeedbackAnswer).columns} == {"id", "drill_id", "language", "answers"}
        assert len(session.scalars(select(FeedbackAnswer)).all()) == 2

    report = client.get(f"/api/v1/drills/{drill['id']}/report", headers=auth(keys[Role.viewer])).json()
    got = report["feedback"]
    assert (got["requested"], got["answered"]) == (3, 2)
    assert [q["text"] for q in got["questions"]] == [q["text"]["fi"] for q in QUESTIONS]
    assert got["questions"][0]["answers"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    assert got["questions"][1]["answers"] == {"yes": 1, "no": 0, "partly": 1}
    assert got["questions"][2]["texts"] == ["Nopeampi muistutus", "Mer tid"]
    assert got["questions"][3]["answers"]["5"] == 1 and got["questions"][3]["answers"]["4"] == 1
    pdf = ready_pdf(  # built by a worker
        client,
        f"/api/v1/drills/{drill['id']}/report",
        params={"format": "pdf", "language": "sv"},
        headers=auth(keys[Role.viewer]),
    )
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages))
    assert "Deltagarnas respons" in text and "Var meddelandet tydligt?" in text and "Mer tid" in text
    assert "Respons begärd: 3; svar: 2." in text


def test_a_request_whose_sending_was_cut_short_is_sent_again_once(
    twilio_settings: FakeTwilio,
    client: TestClient,
    keys: dict[Role, str],
    database: Database,
    queue: InProcessQueue,
) -> None:
    fake, roster = twilio_settings, make_roster(database)
    drill = plan(
        client,
        keys,
        name="Koe",
        kind="communication_test",
        targets={"groups": [roster.group_id]},
        channels=["sms"],
        title="Koe",
        message="Kuittaa.",
    )
    (alert_id,) = act(client, keys, f"{drill['id']}/start")["alerts"]
    assert wait_until(lambda: settled(database, alert_id))
    reply(fake, client, roster.mobiles["aino"], f"OK {short_code(database, alert_id)}")
    with database.session() as session:
        from drills import flows, service

        flows.end(session, drill=service.get_drill(session, drill_id=drill["id"]), actor="test")
        # A worker claimed the request and died before recording that it was sent.
        session.execute(update(FeedbackRequest).values(state="sending", claimed_at=utcnow()))
    assert feedback.send_pending() == 0 and not _links(fake, roster.mobiles["aino"])  # the claim is fresh
    assert feedback.send_pending(now=utcnow() + feedback.CLAIM_FOR + timedelta(seconds=1)) == 1
    assert len(_links(fake, roster.mobiles["aino"])) == 1
    assert feedback.send_pending(now=utcnow() + feedback.CLAIM_FOR * 3) == 0
    assert len(_links(fake, roster.mobiles["aino"])) == 1
    answer: dict[str, Any] = {"q0": "3", "q1": "no", "q2": ""}
    assert client.post(_links(fake, roster.mobiles["aino"])[0], data=answer).status_code == 200
