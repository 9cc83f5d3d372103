"""Retention (issue 23 §1): past its kind's time, personal fields become a stable pseudonym in small batches, the
rows stay, and every report keeps its figures: a drill's report (its curves, per organisation, area and phase), an
imported exercise's report and the yearly follow-up are identical before and after, but for names and numbers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from alerting.models import Delivery, InboundMessage, OutboxMessage, Recipient
from alueturva.app.personal.cli import retention_app
from alueturva.audit.models import AuditEvent
from alueturva.auth.models import Role, User, WebSession
from alueturva.db import Database, utcnow
from alueturva.personal import retention
from alueturva.personal.pseudonym import is_pseudonym, person_pseudonym, shown
from contacts.demo import load_demo_roster
from contacts.models import Person
from drills.demo import load_demo_drill
from drills.models import ImportedEvent, ImportedRecipient
from tests.support.exercise_log import STRANGERS
from tests.support.personal import import_exercise, reports, same_figures

LATER = timedelta(days=40 * 365)  # past every kind's retention


@pytest.fixture
def history(client: TestClient, keys: dict[Role, str], database: Database) -> int:
    """The demo's held drill (deliveries, SMS receipts, acknowledgements), an imported exercise (people the roster
    does not know), an SMS reply and an acknowledgement on someone's behalf; returns the imported drill's id."""
    load_demo_roster()
    load_demo_drill()
    imported = import_exercise(client, keys, database)
    with database.session() as session:
        recipient = session.scalars(select(Recipient).order_by(Recipient.id)).first()
        assert recipient is not None
        recipient.ack_by = "key:päivystäjä"
        session.add(InboundMessage(provider_id="SM1", person_id=recipient.person_id, body="1 tulen", outcome="ok"))
        session.add(OutboxMessage(channel="sms", to="+358401112223", body="HARJOITUS – Kuittaa.", reference="d1"))
        user = User(
            email="paivystaja@example.test", name="Päivystäjä", role=Role.operator, password_hash="x", created_by="t"
        )
        now = utcnow()
        session.add(WebSession(token_hash="t", user=user, csrf_token="c", expires_at=now, last_seen_at=now))
        session.commit()
    return imported


def _readable_numbers(database: Database) -> set[str]:
    with database.session() as session:
        numbers = set(session.scalars(select(Delivery.address)))
        numbers |= set(session.scalars(select(ImportedRecipient.mobile).where(ImportedRecipient.mobile.is_not(None))))
        numbers |= set(session.scalars(select(ImportedEvent.number).where(ImportedEvent.number.is_not(None))))
        numbers |= set(session.scalars(select(OutboxMessage.to)))
    return {number for number in numbers if not is_pseudonym(number)}


def test_retention_pseudonymises_in_batches_and_every_report_keeps_its_figures(
    client: TestClient, keys: dict[Role, str], database: Database, history: int
) -> None:
    before = reports(client, keys, database)
    later = utcnow() + LATER
    assert retention.run(now=utcnow()) and _readable_numbers(database)  # nothing is old enough yet
    assert all(run.rows == 0 for run in retention.run(now=utcnow(), dry_run=True))

    planned = {run.holder: run.rows for run in retention.run(now=later, dry_run=True)}
    assert planned["alerting.deliveries"] > 0 and planned["drills.imported_recipients"] > 0
    assert reports(client, keys, database) == before  # a dry run changes nothing

    done = retention.run(now=later, batch_size=7)
    ran = {run.holder: run.rows for run in done}
    # reading the reports in between was itself audited (who read whose contact details): more audit entries
    assert ran.pop("audit.events") > planned.pop("audit.events") and ran == planned
    for run in done:
        assert run.batches == -(-run.rows // 7)  # small batches, each its own transaction
    assert all(run.rows == 0 for run in retention.run(now=later))  # done once, never again

    assert _readable_numbers(database) == set()
    with database.session() as session:
        for delivery in session.scalars(select(Delivery).join(Recipient)):
            assert delivery.address == person_pseudonym(delivery.recipient.person_id)  # stable per person
            assert delivery.error_message is None
        assert all(is_pseudonym(body) for body in session.scalars(select(InboundMessage.body)))
        assert all(is_pseudonym(name) for name in session.scalars(select(ImportedRecipient.name)))
        assert all(is_pseudonym(actor) for actor in session.scalars(select(AuditEvent.actor)))
        ack_by = session.scalars(select(Recipient.ack_by).where(Recipient.ack_by.is_not(None))).all()
        assert ack_by and all(is_pseudonym(actor) for actor in ack_by)
        assert session.scalars(select(Person.mobile).where(Person.mobile.is_not(None))).first()  # rosters stay
        assert session.scalars(select(WebSession)).all() == []  # sessions count in no report: deleted

    after = reports(client, keys, database)
    same_figures(before, after)
    people = after[f"drill {history} fi"]["people"]
    strangers = [p for p in people if not p["on_roster"]]
    assert len({p["name"] for p in strangers}) == len({s[0] for s in STRANGERS if s[4] == "gateway"})  # distinct
    assert all(p["name"].startswith("Henkilö ") and p["mobile"] is None for p in strangers)
    assert all(p["name"].startswith("Person ") for p in after[f"drill {history} sv"]["people"] if not p["on_roster"])


def test_a_pseudonym_is_stable_and_read_in_the_readers_language() -> None:
    stored = person_pseudonym(7)
    assert stored == person_pseudonym(7) != person_pseudonym(8)
    assert shown(stored, "fi") == f"Henkilö {stored[1:5]}"
    assert shown(stored, "sv") == shown(stored, "en") == f"Person {stored[1:5]}"
    assert shown("Maija Meikäläinen", "sv") == "Maija Meikäläinen"


def test_retention_run_on_the_command_line_says_what_would_change(database: Database, history: int) -> None:
    dry = CliRunner().invoke(retention_app, ["run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "alerting.deliveries" in dry.output and "dry run" in dry.output
    assert _readable_numbers(database)  # nothing changed: the data is recent
    done = CliRunner().invoke(retention_app, ["run"])
    assert done.exit_code == 0 and "Pseudonymised" in done.output


def test_the_retention_settings_have_every_kind_and_documented_defaults() -> None:
    config = retention.load_personal_data_config()
    assert {kind: keep.days for kind, keep in config.retention.items()} == {
        "deliveries": 730, "drill_feedback": 730, "audit": 1826, "sessions": 90,
    }  # fmt: skip


def test_the_audit_log_stays_append_only_but_for_an_actor_becoming_a_pseudonym(database: Database) -> None:
    from sqlalchemy import delete, update

    with database.session() as session:
        session.add(AuditEvent(actor="key:päivystäjä", action="alert.create", entity_type="alert", entity_id="1"))
        session.commit()
    refused = [
        update(AuditEvent).values(action="alert.cancel"),
        update(AuditEvent).values(actor="key:joku muu"),
        update(AuditEvent).values(actor="#0123456789abcdef", entity_id="2"),
        delete(AuditEvent),
    ]
    for statement in refused:
        with pytest.raises(Exception, match="append-only"), database.session() as session:
            session.execute(statement)
    with database.session() as session:
        session.execute(update(AuditEvent).values(actor="#0123456789abcdef"))
        session.commit()
    with database.session() as session:
        assert session.scalars(select(AuditEvent.actor)).one() == "#0123456789abcdef"


def test_the_record_of_processing_is_true_to_the_configuration() -> None:
    from alueturva.personal.record import record_markdown

    written = (Path(__file__).parent.parent / "docs" / "personal-data.md").read_text(encoding="utf-8")
    assert written == record_markdown(), "run: alueturva retention record -o docs/personal-data.md"
    config = retention.load_personal_data_config()
    for keep in config.retention.values():
        assert f"| {keep.what.fi} |" in written and f"| {keep.what.en} |" in written
        assert f"| {keep.days} |" in written
    assert all(processor.name in written for processor in config.processors)
    printed = CliRunner().invoke(retention_app, ["record"])
    assert printed.exit_code == 0 and printed.output == written
