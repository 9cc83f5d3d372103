"""`alueturva drill …` and the confirmation `alueturva situation decide` asks before a real decision alerts people."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from alerting.models import Alert
from alueturva.app.bootstrap import boot
from alueturva.db import Database
from alueturva.errors import Invalid
from alueturva.queue import InProcessQueue
from contacts.demo import load_demo_roster
from drills.cli import drill_app
from drills.models import Drill, DrillState
from drills.service import get_drill
from situation.cli import situation_app
from situation.models import ReadinessDecision
from tests.support.roster import Roster, delivery_states, make_roster

runner = CliRunner()


@pytest.fixture
def roster(database: Database) -> Roster:
    boot()  # what every `alueturva` command does first: reactions alert, the picture knows drills
    load_demo_roster()
    return make_roster(database)


def _drill(database: Database, drill_id: int) -> Drill:
    with database.session() as session:
        return get_drill(session, drill_id=drill_id)  # with its objectives and phases


def _count(database: Database, model: type) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_plan_start_observe_rate_and_end_a_drill_from_the_command_line(
    roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    planned = runner.invoke(
        drill_app,
        [
            "plan", "--name", "Viestiliikennekoe", "--kind", "communication_test", "--group", "test_group",
            "--title", "Viestiliikennekoe", "--title-sv", "Sambandsprov", "--message", "Kuittaa.",
            "--message-sv", "Kvittera.", "--channel", "sms", "--objective", "ack_share_within:80:15",
            "--objective", "manual:Viesti ymmärrettiin", "--at", "2030-01-15T09:00",
        ],
    )  # fmt: skip
    assert planned.exit_code == 0, planned.output
    assert "planned" in planned.output and "15 Jan 2030 09:00" in planned.output  # the command line's English
    drill = _drill(database, 1)
    assert drill.title == {"fi": "Viestiliikennekoe", "sv": "Sambandsprov"} and drill.objectives[1].kind == "manual"
    assert drill.start_at is not None and drill.start_at.hour == 7  # 09:00 in Helsinki in January is 07:00 UTC

    started = runner.invoke(drill_app, ["start", "1"])
    assert started.exit_code == 0, started.output and "running" in started.output
    (alert_id,) = _alert_ids(database)
    assert set(delivery_states(database, alert_id)) == {"sent"}  # sent before the command returned

    observed = runner.invoke(drill_app, ["observe", "1", "Kannus vastasi heti", "--author", "Arvioija"])
    assert observed.exit_code == 0, observed.output
    rated = runner.invoke(drill_app, ["rate", "1", "2", "s", "--note", "yksi kysymys"])
    assert rated.exit_code == 0 and "met" in rated.output
    ended = runner.invoke(drill_app, ["end", "1"])
    assert ended.exit_code == 0 and _drill(database, 1).state is DrillState.ended
    shown = runner.invoke(drill_app, ["show", "1", "--language", "sv"], env={"COLUMNS": "160"})
    assert "avslutad" in shown.output and "Arvioija: Kannus vastasi heti" in shown.output
    listed = runner.invoke(drill_app, ["list", "--language", "en"], env={"COLUMNS": "160"})
    assert "communication test" in listed.output and "ended" in listed.output
    watched = runner.invoke(drill_app, ["watch", "1", "--timeout", "0.1"], env={"COLUMNS": "160"})
    assert watched.exit_code == 0 and "total" in watched.output and "Kannus" in watched.output


def _alert_ids(database: Database) -> list[int]:
    with database.session() as session:
        return list(session.scalars(select(Alert.id).order_by(Alert.id)))


def test_an_exercise_is_planned_from_a_file_and_bad_options_are_refused(
    roster: Roster, database: Database, tmp_path: Path, queue: InProcessQueue
) -> None:
    plan_file = tmp_path / "harjoitus.yaml"
    plan_file.write_text(
        "name: Paikallispuolustusharjoitus\n"
        "kind: exercise\n"
        "description: Myrsky ja sähkökatko.\n"
        "targets: {areas: [Kokkola]}\n"
        "phases:\n"
        "  - {name: Myrsky, title: Vaihe 1, message: Kokoontukaa., snapshot: true}\n"
        "  - {name: Muodostelmat, snapshot: true}\n",
        encoding="utf-8",
    )
    planned = runner.invoke(drill_app, ["plan", "--file", str(plan_file)])
    assert planned.exit_code == 0, planned.output
    assert [phase.name for phase in _drill(database, 1).phases] == ["Myrsky", "Muodostelmat"]
    assert runner.invoke(drill_app, ["start", "1"]).exit_code == 0
    assert runner.invoke(drill_app, ["phase", "1", "1"]).exit_code == 0
    assert _drill(database, 1).phases[0].snapshot_id is not None and len(_alert_ids(database)) == 1

    wrong = runner.invoke(drill_app, ["plan", "--name", "x", "--kind", "communication_test", "--objective", "fast:1"])
    assert isinstance(wrong.exception, Invalid) and "the kind is one of" in str(wrong.exception)
    wrong = runner.invoke(drill_app, ["plan", "--name", "x", "--kind", "communication_test", "--group", "nope"])
    assert isinstance(wrong.exception, Invalid) and "--group 'nope'" in str(wrong.exception)
    assert _count(database, Drill) == 1


def test_a_real_decision_that_alerts_people_asks_first(
    roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    args = ["decide", "kokkola", "tehostettu_valmius", "--reason", "Sähkökatko laajenee"]
    declined = runner.invoke(situation_app, args, input="n\n")
    assert declined.exit_code == 1, declined.output
    assert "A real decision" in declined.output and "johtoryhma_kokkola" in declined.output
    assert _count(database, ReadinessDecision) == 0 and _count(database, Alert) == 0

    confirmed = runner.invoke(situation_app, args, input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert "alerts sent: 1" in confirmed.output
    with database.session() as session:
        assert session.scalars(select(Alert)).one().exercise is False

    lowered = runner.invoke(situation_app, ["decide", "kokkola", "perusvalmius", "--reason", "Ohi", "--yes"])
    assert lowered.exit_code == 0 and "A real decision" not in lowered.output  # --yes: no question


def test_a_decision_in_a_drill_is_an_exercise_and_asks_nothing(
    roster: Roster, database: Database, queue: InProcessQueue
) -> None:
    planned = runner.invoke(drill_app, ["plan", "--name", "Harjoitus", "--kind", "exercise", "--group", "test_group"])
    assert planned.exit_code == 0, planned.output
    assert runner.invoke(drill_app, ["start", "1"]).exit_code == 0
    decided = runner.invoke(
        situation_app, ["decide", "perho", "tehostettu_valmius", "--reason", "Harjoitus", "--drill", "1"]
    )
    assert decided.exit_code == 0, decided.output
    assert "(exercise, drill 1)" in decided.output and "A real decision" not in decided.output
    with database.session() as session:
        alert = session.scalars(select(Alert)).one()
        assert alert.exercise and session.scalars(select(ReadinessDecision)).one().drill_id == 1
