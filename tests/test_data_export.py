"""A person's own data (issue 23 §2): an admin gets everything held about one person, as JSON and as a PDF wholly in
the person's language; nobody else does."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from alerting.models import Recipient
from alueturva.auth.models import Role, User, WebSession
from alueturva.db import Database, utcnow
from alueturva.personal.export import texts
from contacts.demo import load_demo_roster
from contacts.models import Person
from drills.demo import load_demo_drill
from tests.conftest import auth
from tests.support.web import make_accounts, sign_in


@pytest.fixture
def person_id(database: Database) -> int:
    """Someone the demo drill alerted and who has a console account."""
    load_demo_roster()
    load_demo_drill()
    with database.session() as session:
        person = session.scalars(
            select(Person).join(Recipient, Recipient.person_id == Person.id).where(Person.email.is_not(None))
        ).first()
        assert person is not None
        user = User(email=person.email, name=person.name, role=Role.viewer, password_hash="x", created_by="t")
        now = utcnow()
        session.add(WebSession(token_hash="t", user=user, csrf_token="c", expires_at=now, last_seen_at=now))
        session.commit()
        return person.id


def _pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_an_admin_gets_everything_held_about_a_person_as_json(
    client: TestClient, keys: dict[Role, str], database: Database, person_id: int
) -> None:
    answer = client.get(f"/api/v1/people/{person_id}/data-export", headers=auth(keys[Role.admin]))
    assert answer.status_code == 200, answer.text
    exported = answer.json()
    sections = {section["key"]: section["rows"] for section in exported["sections"]}
    with database.session() as session:
        person = session.get(Person, person_id)
        assert person is not None
        mobile, email, name = person.mobile, person.email, person.name
        alerts = session.scalars(select(Recipient.alert_id).where(Recipient.person_id == person_id)).all()
    assert sections["contacts.person"][0]["name"] == name and sections["contacts.person"][0]["mobile"] == mobile
    assert sections["contacts.memberships"]  # the demo roster names everyone in a group
    assert sorted(row["alert"] for row in sections["alerting.acknowledgements"]) == sorted(alerts)
    assert {row["address"] for row in sections["alerting.deliveries"]} <= {mobile, email}
    assert sections["auth.account"][0]["email"] == email and len(sections["auth.sessions"]) == 1
    assert exported["person_id"] == person_id
    labels = texts().entries
    for section in exported["sections"]:
        assert f"section.{section['key']}" in labels
        for row in section["rows"]:
            assert all(f"field.{key}" in labels for key in row), row


def test_the_pdf_is_in_the_persons_language(
    client: TestClient, keys: dict[Role, str], database: Database, person_id: int
) -> None:
    with database.session() as session:
        person = session.get(Person, person_id)
        assert person is not None
        name = person.name
    admin = auth(keys[Role.admin])
    finnish = client.get(f"/api/v1/people/{person_id}/data-export?format=pdf&language=fi", headers=admin)
    assert finnish.status_code == 200 and finnish.headers["content-type"] == "application/pdf"
    text = _pdf_text(finnish.content)
    assert "Tiedot henkilöstä" in text and name in text and "Lähetetyt viestit" in text and "tekstiviesti" in text
    swedish = _pdf_text(
        client.get(f"/api/v1/people/{person_id}/data-export?format=pdf&language=sv", headers=admin).content
    )
    assert "Uppgifter om personen" in swedish and "Skickade meddelanden" in swedish and "Lähetetyt" not in swedish


@pytest.mark.parametrize("role", [Role.viewer, Role.operator, Role.reporter])
def test_only_an_admin_reads_a_persons_data(
    client: TestClient, keys: dict[Role, str], person_id: int, role: Role
) -> None:
    assert client.get(f"/api/v1/people/{person_id}/data-export", headers=auth(keys[role])).status_code == 403


def test_an_unknown_person_or_format_is_a_clear_error(
    client: TestClient, keys: dict[Role, str], person_id: int
) -> None:
    admin = auth(keys[Role.admin])
    missing = client.get("/api/v1/people/999999/data-export", headers=admin)
    assert missing.status_code == 404 and "999999" in missing.json()["detail"]
    assert client.get(f"/api/v1/people/{person_id}/data-export?format=xml", headers=admin).status_code == 422


def test_the_console_gives_an_admin_the_persons_data(client: TestClient, database: Database, person_id: int) -> None:
    make_accounts(database)
    sign_in(client, Role.admin)
    page = client.get(f"/rosters/people/{person_id}?lang=fi")
    assert page.status_code == 200 and f"/rosters/people/{person_id}/data-export" in page.text
    pdf = client.get(f"/rosters/people/{person_id}/data-export")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "Tiedot henkilöstä" in _pdf_text(pdf.content) or "Uppgifter om personen" in _pdf_text(pdf.content)
    as_json = client.get(f"/rosters/people/{person_id}/data-export?format=json")
    assert as_json.json()["person_id"] == person_id


def test_the_console_refuses_the_persons_data_to_anyone_but_an_admin(
    client: TestClient, database: Database, person_id: int
) -> None:
    make_accounts(database)
    sign_in(client, Role.operator)
    assert f"/rosters/people/{person_id}/data-export" not in client.get(f"/rosters/people/{person_id}").text
    assert client.get(f"/rosters/people/{person_id}/data-export").status_code == 403
