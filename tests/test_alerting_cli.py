"""`alueturva alert send | show | watch`."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from alerting import flows
from alerting.cli import alert_app
from alerting.models import Alert, Recipient
from alueturva.db import Database
from alueturva.errors import Invalid
from alueturva.queue import InProcessQueue
from loopback.processes import alueturva_command, service_env
from tests.support.roster import Roster, delivery_states, make_roster

runner = CliRunner()


@pytest.fixture
def roster(database: Database) -> Roster:
    return make_roster(database)


def _alerts(database: Database) -> list[Alert]:
    with database.session() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def test_send_targets_groups_by_key_and_sends_before_returning(
    roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    args = ["send", "Myrsky", "Kokoontuminen klo 14", "--group", "test_group", "--channel", "sms", "--exercise"]
    args += ["--response-option", "Tulen", "--response-option", "En pääse", "--idempotency-key", "cli-1"]
    result = runner.invoke(alert_app, args)
    assert result.exit_code == 0, result.output
    (alert,) = _alerts(database)
    assert alert.exercise and alert.response_options == ["Tulen", "En pääse"] and alert.created_by.startswith("cli:")
    assert set(delivery_states(database, alert.id)) == {"sent"}
    assert "HARJOITUS" in result.output and "total" in result.output
    again = runner.invoke(alert_app, args)
    assert again.exit_code == 0 and "already exists" in again.output
    assert len(_alerts(database)) == 1


def test_send_refuses_unknown_targets_and_bad_options(
    roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    result = runner.invoke(alert_app, ["send", "T", "M", "--group", "no-such-group"])
    assert isinstance(result.exception, Invalid) and "no-such-group" in str(result.exception)
    result = runner.invoke(alert_app, ["send", "T", "M", "--area", "Helsinki"])
    assert isinstance(result.exception, Invalid) and "areas" in str(result.exception)
    result = runner.invoke(alert_app, ["send", "T", "M", "--organisation", "kannus", "--channel", "pigeon"])
    assert isinstance(result.exception, Invalid) and "channels" in str(result.exception)
    assert _alerts(database) == []


def test_watch_runs_until_everyone_has_acknowledged(roster: Roster, database: Database, queue: InProcessQueue) -> None:
    result = runner.invoke(alert_app, ["send", "T", "M", "--person", str(roster.people["aino"]), "--person",
                                       str(roster.people["bertil"])])  # fmt: skip
    assert result.exit_code == 0, result.output
    (alert,) = _alerts(database)
    with database.session() as session:
        recipient_ids = list(session.scalars(select(Recipient.id).where(Recipient.alert_id == alert.id)))

    def acknowledge_later() -> None:
        for recipient_id in recipient_ids:
            time.sleep(0.3)
            flows.acknowledge_on_behalf(
                alert_id=alert.id, recipient_id=recipient_id, actor="test", response=None, note=None
            )

    helper = threading.Thread(target=acknowledge_later)
    helper.start()
    watched = runner.invoke(alert_app, ["watch", str(alert.id), "--interval", "0.1", "--timeout", "30"])
    helper.join()
    assert watched.exit_code == 0, watched.output
    assert "all 2 acknowledged" in watched.output


def test_watch_gives_up_at_its_timeout_with_exit_code_2(
    roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    runner.invoke(alert_app, ["send", "T", "M", "--person", str(roster.people["aino"])])
    (alert,) = _alerts(database)
    watched = runner.invoke(alert_app, ["watch", str(alert.id), "--interval", "0.05", "--timeout", "0.2"])
    assert watched.exit_code == 2
    assert "1 of 1 have not acknowledged" in watched.output
    shown = runner.invoke(alert_app, ["show", str(alert.id)])
    assert shown.exit_code == 0 and f"alert {alert.id}" in shown.output


def test_the_alueturva_command_sends_in_the_embedded_default(database_url: str, roster: Roster) -> None:
    env = service_env(database_url=database_url)
    env.pop("ALUETURVA_REDIS_URL", None)
    command = alueturva_command("alert", "send", "Testi", "Viesti", "--organisation", "Kokkola", "--channel", "sms")
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert "total" in completed.stdout
    # console backends log ids only: never a number or a name
    assert "+35840" not in completed.stderr and "Bertil" not in completed.stderr
    database = Database(database_url)
    try:
        with database.session() as session:
            alert_id = session.scalars(select(Alert.id)).one()
        assert delivery_states(database, alert_id) == ["sent"]
    finally:
        database.dispose()
    failed = subprocess.run(
        alueturva_command("alert", "show", "424242"), env=env, capture_output=True, text=True, timeout=120
    )
    assert failed.returncode == 1 and "not found" in failed.stderr


def test_link_prints_a_working_acknowledgement_link_and_ack_records_the_operator(
    roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    from fastapi.testclient import TestClient

    from alerting.models import Recipient

    runner.invoke(alert_app, ["send", "T", "M", "--person", str(roster.people["aino"]), "--person",
                              str(roster.people["bertil"])])  # fmt: skip
    (alert,) = _alerts(database)
    with database.session() as session:
        aino, bertil = session.scalars(
            select(Recipient.id).where(Recipient.alert_id == alert.id).order_by(Recipient.person_id)
        ).all()
    printed = runner.invoke(alert_app, ["link", str(alert.id), str(aino)])
    assert printed.exit_code == 0 and printed.output.startswith("http://127.0.0.1:8000/ack/")
    missing = runner.invoke(alert_app, ["link", str(alert.id), "999999"])
    assert "not found" in str(missing.exception)
    from alueturva.app.http import create_app

    with TestClient(create_app()) as client:
        path = printed.output.strip().removeprefix("http://127.0.0.1:8000")
        assert client.post(path, data={}).status_code == 200
    acked = runner.invoke(alert_app, ["ack", str(alert.id), str(bertil), "--note", "soitti"])
    assert acked.exit_code == 0 and "acknowledged" in acked.output
    with database.session() as session:
        recipients = {r.id: r for r in session.scalars(select(Recipient).where(Recipient.alert_id == alert.id))}
    assert recipients[aino].ack_method is not None and recipients[aino].ack_method.value == "link"
    assert recipients[bertil].ack_by is not None and recipients[bertil].ack_by.startswith("cli:")


def test_send_in_finnish_and_swedish_show_silent_people_and_the_poll(
    roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    args = ["send", "Harjoitus", "Kokoontuminen.", "--title-sv", "Övning", "--message-sv", "Samling.",
            "--group", str(roster.group_id), "--response-option", "Tulen", "--response-option", "En pääse",
            "--response-option-sv", "Jag kommer", "--response-option-sv", "Jag kan inte"]  # fmt: skip
    sent = runner.invoke(alert_app, args)
    assert sent.exit_code == 0, sent.output
    (alert,) = _alerts(database)
    assert alert.translations == {
        "sv": {"title": "Övning", "message": "Samling.", "response_options": ["Jag kommer", "Jag kan inte"]}
    }
    with database.session() as session:
        bertil = session.scalars(
            select(Recipient).where(Recipient.alert_id == alert.id, Recipient.person_id == roster.people["bertil"])
        ).one()
    flows.acknowledge_on_behalf(alert_id=alert.id, recipient_id=bertil.id, actor="test", response=2, note=None)
    shown = runner.invoke(alert_app, ["show", str(alert.id)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "poll: 1 = Tulen: 0, 2 = En pääse: 1" in shown.output
    assert "still silent" in shown.output and "Aino Aaltonen" in shown.output and "+358401110001" in shown.output
    assert "Bertil Backman" not in shown.output.split("still silent")[1]
    assert "languages fi, sv" in shown.output and "(Finnish time)" in shown.output


def test_the_swedish_options_must_match_the_finnish_ones(roster: Roster, database: Database) -> None:
    args = ["send", "T", "M", "--title-sv", "T", "--message-sv", "M", "--group", "test_group",
            "--response-option", "A", "--response-option", "B", "--response-option-sv", "A"]  # fmt: skip
    refused = runner.invoke(alert_app, args)
    assert isinstance(refused.exception, Invalid) and "--response-option-sv as many times" in str(refused.exception)
    missing = runner.invoke(alert_app, ["send", "T", "M", "--title-sv", "T", "--group", "test_group"])
    assert isinstance(missing.exception, Invalid) and "the message in fi" in str(missing.exception)
    assert _alerts(database) == []


def test_recipients_lists_people_by_id_and_name_and_cancel_keeps_the_reason(
    roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    runner.invoke(alert_app, ["send", "T", "M", "--group", "test_group", "--channel", "sms"])
    (alert,) = _alerts(database)
    listed = runner.invoke(alert_app, ["recipients", str(alert.id)], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    for key, name in (("aino", "Aino Aaltonen"), ("bertil", "Bertil Backman")):
        row = next(line for line in listed.output.splitlines() if name in line)
        assert f" {roster.people[key]} " in row and "sms alert sent" in row
    refused = runner.invoke(alert_app, ["cancel", str(alert.id), "--reason", " "])
    assert isinstance(refused.exception, Invalid)
    cancelled = runner.invoke(alert_app, ["cancel", str(alert.id), "--reason", "Väärä ryhmä"])
    assert cancelled.exit_code == 0 and "cancellation notice" in cancelled.output
    with database.session() as session:
        stored = session.get(Alert, alert.id)
        assert stored is not None and stored.status.value == "cancelled" and stored.cancel_reason == "Väärä ryhmä"
    shown = runner.invoke(alert_app, ["show", str(alert.id)], env={"COLUMNS": "200"})
    assert "Väärä ryhmä" in shown.output
