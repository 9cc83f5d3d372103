"""The console's forms as a person sees them: every ``<form method="post">`` of some pages, its action and the names
of its fields (found in the pages, so that a new form or field is covered without a list that falls behind)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from fastapi.testclient import TestClient
from sqlalchemy import select

from alerting import flows
from alerting.models import Recipient
from alerting.schemas import AlertCreate
from alueturva.db import Database
from contacts.demo import load_demo_roster
from contacts.models import Group, Person
from drills.demo import load_demo_drill
from drills.models import Drill
from tests.support.roster import settled, wait_until

FORM = re.compile(r'<form\b[^>]*\bmethod="post"[^>]*>(.*?)</form>', re.S | re.I)
ACTION = re.compile(r'<form\b[^>]*\baction="([^"]+)"', re.I)
FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', re.I)
NOT_POSTED = ("/logout",)  # signing out would end the test's session


def console_forms(client: TestClient, pages: Iterable[str]) -> dict[str, list[str]]:
    """``{action: [field names]}`` of every post form on ``pages`` (each page must answer 200)."""
    forms: dict[str, list[str]] = {}
    for page in pages:
        answer = client.get(page)
        assert answer.status_code == 200, page
        for form in FORM.finditer(answer.text):
            action = ACTION.search(form.group(0))
            if action and action.group(1) not in NOT_POSTED:
                forms.setdefault(action.group(1).replace("&amp;", "&"), sorted(set(FIELD.findall(form.group(1)))))
    return forms


def console_world(database: Database) -> dict[str, int]:
    """The demo roster and its past drill, and an alert with a recipient: something behind every form."""
    load_demo_roster()
    load_demo_drill()
    with database.session() as session:
        person = session.scalars(select(Person.id).order_by(Person.id)).first()
        group = session.scalars(select(Group.id).order_by(Group.id)).first()
        drill = session.scalars(select(Drill.id).order_by(Drill.id)).first()
    assert person and group and drill
    body = {"title": "Myrsky", "message": "M", "targets": {"people": [person]}, "channels": ["sms"]}
    alert = flows.create_alert(AlertCreate.model_validate(body), actor="test").alert_id
    assert wait_until(lambda: settled(database, alert))
    with database.session() as session:
        recipient = session.scalars(select(Recipient.id).where(Recipient.alert_id == alert)).first()
    assert recipient
    return {"person": person, "group": group, "drill": drill, "alert": alert, "recipient": recipient}


def console_pages(world: dict[str, int]) -> list[str]:
    """The pages whose forms are posted: a form of each kind, with something behind it."""
    return [
        "/",
        "/situation/kokkola/decide",
        "/alerts/new",
        f"/alerts/{world['alert']}",
        "/drills/new",
        f"/drills/{world['drill']}",
        f"/rosters/people/{world['person']}",
        "/rosters/people/new",
        f"/rosters/groups/{world['group']}",
    ]
