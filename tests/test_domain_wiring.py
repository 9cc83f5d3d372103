"""The application's cross-domain wiring: a readiness decision alerts the groups its rule names."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from alerting.models import Alert, Recipient
from alueturva.auth.models import Role
from alueturva.db import Database
from alueturva.queue import InProcessQueue
from alueturva.settings import get_settings
from contacts.demo import load_demo_roster
from contacts.models import Group, Membership
from situation.reactions import dispatch_reactions
from tests.conftest import auth


def test_raising_kokkola_alerts_its_management_group_and_the_valmiusjohtoryhma(
    client: TestClient, keys: dict[Role, str], database: Database, queue: InProcessQueue
) -> None:
    load_demo_roster()
    with database.session() as session:
        expected = set(
            session.scalars(
                select(Membership.person_id)
                .join(Group)
                .where(Group.key.in_(["johtoryhma_kokkola", "valmiusjohtoryhma"]))
            )
        )
    response = client.post(
        "/api/v1/readiness/decisions",
        json={"area": "kokkola", "level": "tehostettu_valmius", "reason": "Sähkökatko laajenee"},
        headers=auth(keys[Role.operator]),
    )
    assert response.status_code in (200, 201), response.text
    queue.join()
    dispatch_reactions()
    with database.session() as session:
        alerts = session.scalars(select(Alert)).all()
        assert len(alerts) == 1
        alert = alerts[0]
        assert alert.idempotency_key is not None and alert.idempotency_key.startswith("readiness-reaction-")
        swedish = alert.translations["sv"]
        assert alert.title == "Valmiustaso: Kokkola" and swedish["title"] == "Beredskapsnivå: Karleby"
        assert alert.message == (
            "Kokkola: valmiustasoa on nostettu. Uusi taso: tehostettu valmius. Perustelu: Sähkökatko laajenee"
        )
        assert swedish["message"] == (
            "Karleby: beredskapsnivån har höjts. Ny nivå: förhöjd beredskap. Motivering: Sähkökatko laajenee"
        )
        assert "valmius" not in swedish["title"] + swedish["message"].split("Motivering")[0]
        assert alert.created_by.startswith("apikey:")
        recipients = set(session.scalars(select(Recipient.person_id).where(Recipient.alert_id == alert.id)))
    assert recipients == expected
    assert [reaction["alert_ids"] for reaction in response.json()["reactions"]] == [[alert.id]]  # the answer says
    assert dispatch_reactions() == 0
    with database.session() as session:
        assert len(session.scalars(select(Alert)).all()) == 1


def test_a_long_reason_in_another_script_still_alerts(
    client: TestClient,
    keys: dict[Role, str],
    database: Database,
    queue: InProcessQueue,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reason in UCS-2 (here Cyrillic and emoji) makes the SMS too long; the alert goes out without it."""
    monkeypatch.setenv("ALUETURVA_SMS_MAX_SEGMENTS", "3")
    get_settings.cache_clear()
    load_demo_roster()
    reason = "Тревога 🚨 " * 40
    response = client.post(
        "/api/v1/readiness/decisions",
        json={"area": "perho", "level": "taysvalmius", "reason": reason[:500]},
        headers=auth(keys[Role.operator]),
    )
    assert response.status_code in (200, 201), response.text
    queue.join()
    dispatch_reactions()
    with database.session() as session:
        alert = session.scalars(select(Alert)).one()
        assert "täysvalmius" in alert.message and "Тревога" not in alert.message
        assert "full beredskap" in alert.translations["sv"]["message"]
