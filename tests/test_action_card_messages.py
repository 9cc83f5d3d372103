"""Action cards' messages (issue 21, step 3): one message per person per activation listing their tasks, by SMS with
a signed link and by email, through the alerting domain's delivery machinery; the phone page marks done or cannot do
with a comment; an SMS reply "T1 OK" marks through the same signed webhook; closing tells those whose tasks were
cancelled; in a drill everything is exercise-marked."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from actioncards.flows import import_set
from actioncards.models import ActivatedTask, ActivationMessage, MessageKind, TaskState
from actioncards.texts import text
from alerting.models import Alert
from alueturva.auth.models import Role
from alueturva.config import config_path
from alueturva.db import Database
from alueturva.queue import InProcessQueue
from contacts.demo import load_demo_roster
from contacts.models import Person
from loopback.smtp_server import SmtpServer
from loopback.twilio_server import FakeTwilio
from tests.conftest import auth
from tests.support.drills import act, plan, reply
from tests.support.roster import settled, wait_until

STARTER = config_path("action_cards/keski-pohjanmaa.yaml")
LINK = re.compile(r"http://[^\s]+/tasks/([A-Za-z0-9_.\-]+)")


@pytest.fixture
def cards(database: Database) -> None:
    load_demo_roster()
    import_set(data=STARTER.read_bytes(), source="starter", actor="test")


def activate(client: TestClient, keys: dict[Role, str], **body: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/activations", json=body, headers=auth(keys[Role.operator]))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def sent_to(database: Database, twilio: FakeTwilio, activation_id: int) -> dict[int, list[str]]:
    """SMS bodies per person of the activation's messages, once their alerts have settled."""
    with database.session() as session:
        rows = session.execute(
            select(ActivationMessage.person_id, ActivationMessage.alert_id, Person.mobile)
            .join(Person, Person.id == ActivationMessage.person_id)
            .where(ActivationMessage.activation_id == activation_id)
        ).all()
    assert rows and all(alert_id for _, alert_id, _ in rows)
    for _, alert_id, _ in rows:
        assert wait_until(lambda alert_id=alert_id: settled(database, alert_id))
    return {
        person_id: [m["body"] for m in twilio.messages if m["to"] == mobile] for person_id, _, mobile in rows if mobile
    }


def test_each_person_gets_one_message_listing_their_tasks_and_marks_them_by_link_and_by_sms(
    twilio_settings: FakeTwilio, smtp_settings: SmtpServer, client: TestClient, keys: dict[Role, str],
    database: Database, queue: InProcessQueue, cards: None,
) -> None:  # fmt: skip
    activation = activate(client, keys, card="myrsky-tehostettu", area="kokkola")
    queue.join()
    people = {task["assignee"] for task in activation["tasks"] if task["assignee"]}
    bodies = sent_to(database, twilio_settings, activation["id"])
    assert len(bodies) == len(people) and all(len(texts) == 1 for texts in bodies.values())
    with database.session() as session:
        tasks = session.scalars(select(ActivatedTask).where(ActivatedTask.activation_id == activation["id"])).all()
        languages = {p.id: p.language for p in session.scalars(select(Person))}
        mobiles = {p.id: p.mobile for p in session.scalars(select(Person))}
    holder = next(t.person_id for t in tasks if t.position == 1 and t.person_id)
    (body,) = bodies[holder]
    mine = sorted(t.position for t in tasks if t.person_id == holder)
    prefix = "U" if languages[holder] == "sv" else "T"
    assert all(f"{prefix}{n} " in body for n in mine) and "HARJOITUS" not in body
    assert len(smtp_settings.messages) >= len(people)  # and an email each

    # The link: GET shows the tasks in the person's language and changes nothing; POST marks.
    (token,) = LINK.findall(body)
    page = client.get(f"/tasks/{token}")
    assert page.status_code == 200 and 'name="viewport"' in page.text
    titles = {"fi": "Myrsky ja laaja sähkökatko", "sv": "Storm och omfattande elavbrott", "en": "Storm and widespread"}
    assert titles[languages[holder]] in page.text
    first = next(t for t in tasks if t.person_id == holder and t.position == mine[0])
    marked = client.post(f"/tasks/{token}", data={"task_id": first.id, "mark": "done", "comment": "Varavoima ok"})
    assert marked.status_code == 200
    assert client.post(f"/tasks/{token}", data={"task_id": first.id, "mark": "cannot"}).status_code == 409
    someone_elses = next(t for t in tasks if t.person_id not in (holder, None))
    refused = client.post(f"/tasks/{token}", data={"task_id": someone_elses.id, "mark": "done"})
    assert refused.status_code == 409
    assert client.get(f"/tasks/{token[:-3]}xyz").status_code == 404

    # An SMS reply marks another person's task through the same signed webhook.
    other = someone_elses.person_id
    assert other is not None and mobiles[other]
    number = "U" if languages[other] == "sv" else "T"
    answer = reply(twilio_settings, client, mobiles[other], f"{number}{someone_elses.position} OK")
    assert f"{number}{someone_elses.position}" in answer
    unknown = reply(twilio_settings, client, mobiles[other], "T9 OK")
    assert text("reply_no_such_task", languages[other]) in unknown

    with database.session() as session:
        states = {t.id: (t.state, t.comment, t.marked_by) for t in session.scalars(select(ActivatedTask))}
    assert states[first.id] == (TaskState.done, "Varavoima ok", f"link:person:{holder}")
    assert states[someone_elses.id][0] is TaskState.done and states[someone_elses.id][2] == f"sms:person:{other}"

    # Closing tells those whose tasks were still open, once.
    closed = client.post(
        f"/api/v1/activations/{activation['id']}/close", json={"reason": "Ohi"}, headers=auth(keys[Role.operator])
    )
    assert closed.status_code == 200
    queue.join()
    with database.session() as session:
        told = session.scalars(
            select(ActivationMessage.person_id).where(ActivationMessage.kind == MessageKind.cancelled)
        ).all()
    still_open = {t.person_id for t in tasks if t.person_id and t.id not in (first.id, someone_elses.id)}
    assert set(told) == still_open and len(told) == len(set(told))
    page = client.get(f"/tasks/{token}")
    assert page.status_code == 200 and 'type="submit"' not in page.text


def test_in_a_drill_every_message_and_page_is_exercise_marked(
    twilio_settings: FakeTwilio, smtp_settings: SmtpServer, client: TestClient, keys: dict[Role, str],
    database: Database, queue: InProcessQueue, cards: None,
) -> None:  # fmt: skip
    drill = plan(
        client, keys, name="Vesiharjoitus", kind="exercise", description="Vesi", targets={"areas": ["Kokkola"]}
    )
    act(client, keys, f"{drill['id']}/start")
    activation = activate(client, keys, card="vesihuolto-tehostettu", area="kokkola", drill_id=drill["id"])
    assert activation["exercise"]
    queue.join()
    bodies = [body for texts in sent_to(database, twilio_settings, activation["id"]).values() for body in texts]
    assert bodies and all(body.startswith(("HARJOITUS", "ÖVNING")) for body in bodies)
    with database.session() as session:
        alerts = session.scalars(select(Alert)).all()
    assert alerts and all(alert.exercise for alert in alerts)
    (token,) = LINK.findall(bodies[0])
    assert "HARJOITUS" in client.get(f"/tasks/{token}?lang=fi").text
    assert "ÖVNING" in client.get(f"/tasks/{token}?lang=sv").text


def test_a_message_left_by_a_crash_is_sent_by_the_periodic_task_once(
    client: TestClient, keys: dict[Role, str], database: Database, queue: InProcessQueue, cards: None
) -> None:
    from actioncards.messages import send_pending_messages

    activation = activate(client, keys, card="kyber-tehostettu", area="halsua")
    with database.session() as session:
        messages = session.scalars(
            select(ActivationMessage).where(ActivationMessage.activation_id == activation["id"])
        ).all()
        assert messages and all(m.alert_id for m in messages)
        first = messages[0]
        alert_id, first.alert_id, first.sent_at = first.alert_id, None, None  # as if the process died before it
    assert send_pending_messages() == 1
    with database.session() as session:
        again = session.get(ActivationMessage, first.id)
        assert again is not None and again.alert_id == alert_id  # the idempotency key: the same alert, not another
        assert session.get(Alert, alert_id) is not None
    assert send_pending_messages() == 0
