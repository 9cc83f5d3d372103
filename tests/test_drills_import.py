"""An exercise run elsewhere, imported from its logs (issue 12): the 2025 exercise's SMS gateway export (Windows-1252
CSV, read through a mapping file) and its sheet of phone calls (.xlsx), checked figure by figure against what the
sample holds; all or nothing with row-level errors (clock changes reported, not guessed); never twice; a dry run;
a drill's own event log read back; objectives afterwards; the next exercise compared with the imported one."""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from alueturva.auth.models import Role
from alueturva.db import Database
from contacts.demo import load_demo_roster
from drills.demo import load_demo_drill
from drills.models import Drill, DrillImport, ImportedEvent
from drills.report.people import whole_seconds_between
from tests.conftest import auth
from tests.support.exercise_log import MAPPING, STRANGERS, Sample, Truth, make_sample, roster_people
from tests.support.web import sign_in

IMPORT = "/api/v1/drills/import"


@pytest.fixture
def sample(database: Database) -> Sample:
    load_demo_roster()
    with database.session() as session:
        return make_sample(roster_people(session))


def _import(
    client: TestClient, key: str, filename: str, data: bytes, *, mapping: str | None = None, **form: Any
) -> Any:
    files: dict[str, Any] = {"file": (filename, data)}
    if mapping is not None:
        files["mapping"] = ("mapping.yaml", mapping.encode())
    return client.post(IMPORT, files=files, data={k: str(v) for k, v in form.items()}, headers=auth(key))


def _nearest_rank(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return round(ordered[math.ceil(percent * len(ordered) / 100) - 1], 1)


def _import_2025(client: TestClient, keys: dict[Role, str], sample: Sample, **form: Any) -> int:
    operator = keys[Role.operator]
    gateway = _import(
        client, operator, "tekstiviestipalvelu.csv", sample.gateway_csv(), mapping=MAPPING,
        name="Paikallispuolustusharjoitus 2025", **form,
    )  # fmt: skip
    assert gateway.status_code == 201, gateway.text
    result = gateway.json()
    assert (result["mapping"], result["encoding"], result["rows"]) == (
        "tekstiviestipalvelu", "windows-1252", len(sample.gateway_rows),
    )  # fmt: skip
    calls = _import(client, operator, "puhelut.xlsx", sample.calls_xlsx, drill_id=result["drill_id"])
    assert calls.status_code == 201, calls.text
    assert (calls.json()["mapping"], calls.json()["events"]) == ("plain", len(sample.call_rows))
    return int(result["drill_id"])


def _reached(truth: Truth) -> bool:
    return any(message.state in ("sent", "delivered") for message in truth.messages)


def test_the_2025_exercise_is_reported_figure_by_figure_from_its_two_logs(
    client: TestClient, keys: dict[Role, str], database: Database, sample: Sample
) -> None:
    drill_id = _import_2025(client, keys, sample)
    again = _import(client, keys[Role.operator], "puhelut.xlsx", sample.calls_xlsx, drill_id=drill_id)
    assert again.status_code == 200 and again.json()["already_imported"]  # never twice
    report = client.get(f"/api/v1/drills/{drill_id}/report", headers=auth(keys[Role.operator])).json()
    # Each person counts once, from their first alert of the exercise; each phase has its own figures.
    firsts: dict[str, Truth] = {}
    for truth in sorted(sample.truth.values(), key=lambda t: t.alert_at):
        firsts.setdefault(truth.name, truth)
    truths = list(firsts.values())
    assert len(truths) < len(sample.truth)  # people were alerted in several phases
    acks = [t.ack_seconds for t in truths if t.ack_seconds is not None]

    assert report["drill"]["kind"] == "exercise" and report["drill"]["state"] == "ended"
    assert report["drill"]["started_at"].startswith("2025-11-05T07:00:00")  # 9.00 Finnish time
    assert [phase["name"] for phase in report["phases"]] == ["1 Myrsky", "2 Väestönsuojelu", "3 Jälkihoito"]

    def counts_of(group: list[Truth]) -> dict[str, int]:
        return {
            "targeted": len(group),
            "sent": sum(_reached(t) for t in group),
            "delivered": sum(any(m.state == "delivered" for m in t.messages) for t in group),
            "no_receipt": sum(  # reached, but only through channels that report no delivery (email)
                _reached(t)
                and not any(m.state == "delivered" for m in t.messages)
                and not any(m.channel == "sms" and m.state in ("sent", "delivered") for m in t.messages)
                for t in group
            ),
            "failed": sum(not _reached(t) for t in group),
            "acknowledged": sum(t.acknowledged_at is not None for t in group),
            "late": 0,
        }

    assert report["counts"] == counts_of(truths)
    assert report["ack_seconds"] == {
        "count": len(acks), "median": _nearest_rank(acks, 50), "p90": _nearest_rank(acks, 90), "max": max(acks),
    }  # fmt: skip
    names = {phase["name"]: phase["number"] for phase in report["phases"]}
    by_phase = {row["phase"]: {key: row[key] for key in counts_of([])} for row in report["by_phase"]}
    assert by_phase == {names[name]: counts_of([t for t in sample.truth.values() if t.phase == name]) for name in names}
    by_organisation = {o["organisation"]: (o["targeted"], o["acknowledged"]) for o in report["by_organisation"]}
    expected = Counter(t.organisation for t in truths)
    acked = Counter(t.organisation for t in truths if t.acknowledged_at)
    assert by_organisation == {name: (count, acked[name]) for name, count in expected.items()}
    assert sum(count for count, _ in by_organisation.values()) == len(truths)  # Halsua's people once each
    channels = Counter(m.channel for t in sample.truth.values() for m in t.messages)
    assert {c["channel"]: c["messages"] for c in report["by_channel"]} == dict(channels)
    assert {p["answer"]: p["count"] for p in report["poll"]} == dict(Counter(t.answer for t in truths if t.answer))

    phase_names = {phase["number"]: phase["name"] for phase in report["phases"]}
    people = {(p["name"], phase_names[p["phase"]]): p for p in report["people"]}
    assert set(people) == set(sample.truth)
    for key, truth in sample.truth.items():
        person = people[key]
        assert person["on_roster"] is truth.on_roster, key
        # whole seconds between the times as the report shows them (9.00.00 to 9.09.13 is 9 min 13 s)
        expected_seconds = whole_seconds_between(truth.alert_at, truth.acknowledged_at)
        assert (person["ack_seconds"], person["answer"]) == (expected_seconds, truth.answer), key

    fixes = {(f["code"], f["person"]) for f in report["roster_fixes"]}
    strangers = {name for name, *_ in STRANGERS}
    assert {person for code, person in fixes if code == "not_on_roster"} == strangers
    every = list(sample.truth.values())
    refused = {t.name for t in every if any(m.state == "failed" and m.channel == "sms" for m in t.messages)}
    assert {person for code, person in fixes if code == "sms_refused"} == refused and len(refused) == 2
    missed = {t.name for t in every if any(m.state == "failed" and m.channel == "phone" for m in t.messages)}
    assert {person for code, person in fixes if code == "call_failed"} == missed and len(missed) == 1

    files = report["imported"]["files"]
    assert [(f["source"], f["sha256"]) for f in files] == [
        ("tekstiviestipalvelu.csv", hashlib.sha256(sample.gateway_csv()).hexdigest()),
        ("puhelut.xlsx", hashlib.sha256(sample.calls_xlsx).hexdigest()),
    ]
    assert report["imported"]["mapping"] == "tekstiviestipalvelu"
    page = client.get(f"/api/v1/drills/{drill_id}/report?format=html", headers=auth(keys[Role.viewer])).text
    assert "Tuotu lokista" in page and files[0]["sha256"] in page and "Björn Lindqvist" in page


BAD_LOG = (
    "time;name;number;organisation;channel;event;answer;phase\n"
    "5.11.2025 9.00;Aino Esimerkki;+46701740605;Pelastuslaitos;sms;lähetetty;;\n"
    "32.11.2025 9.00;Aino Esimerkki;+46701740605;Pelastuslaitos;sms;sent;;\n"
    "26.10.2025 3.30;Aino Esimerkki;+46701740605;Pelastuslaitos;sms;delivered;;\n"
    "30.3.2025 3.30;Aino Esimerkki;+46701740605;Pelastuslaitos;sms;delivered;;\n"
    "5.11.2025 9.05;;;Kannus;sms;acknowledged;;\n"
    "5.11.2025 9.06;Eero Esimerkki;+46701740606;Pelastuslaitos;sms;answered;;\n"
    "5.11.2025 9.07;Eero Esimerkki;+46701740606;Pelastuslaitos;fax;sent;;\n"
)


def test_a_wrong_row_stores_nothing_and_every_problem_is_named(
    client: TestClient, keys: dict[Role, str], database: Database, sample: Sample
) -> None:
    answer = _import(client, keys[Role.operator], "huono.csv", BAD_LOG.encode(), name="Huono")
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    problems = {(e["row"], e["column"]): e["message"] for e in detail["errors"]}
    assert "'lähetetty' is not a known event" in problems[(2, "event")]
    assert "not a date and time" in problems[(3, "time")]
    assert "happens twice in Finnish time" in problems[(4, "time")]  # the clock went back: reported, not guessed
    assert "does not exist in Finnish time" in problems[(5, "time")]  # the clock went forward
    assert "recipient" in problems[(6, "name")]
    assert "answer" in problems[(7, "answer")]
    assert "'fax' is not a known channel" in problems[(8, "channel")]
    assert detail["errors_total"] == 7 and "nothing was imported" in detail["message"]
    with database.session() as session:
        assert session.scalar(select(func.count(Drill.id)).where(Drill.origin == "import")) == 0
        assert session.scalar(select(func.count(DrillImport.id))) == 0


def test_a_dry_run_reports_and_stores_nothing_and_a_plain_log_needs_no_mapping(
    client: TestClient, keys: dict[Role, str], database: Database, sample: Sample
) -> None:
    plain = (
        "\ufefftime,name,number,organisation,channel,event,answer,phase\n"
        "2025-11-05 09:00,Aino Esimerkki,+46701740605,Pelastuslaitos,sms,sent,,\n"
        "2025-11-05 09:00:20,Aino Esimerkki,+46701740605,Pelastuslaitos,sms,delivered,,\n"
        "2025-11-05 09:00:20,Aino Esimerkki,+46701740605,Pelastuslaitos,sms,delivered,,\n"
        "2025-11-05T09:03:00+02:00,Aino Esimerkki,+46701740605,Pelastuslaitos,sms,answered,Tulen paikalle,\n"
        "2025-11-05 09:10,Eero Esimerkki,,Pelastuslaitos,phone,called,,\n"
    ).encode()
    dry = _import(client, keys[Role.operator], "loki.csv", plain, name="Koe", dry_run=True)
    assert dry.status_code == 200, dry.text
    result = dry.json()
    assert (result["dry_run"], result["drill_id"], result["mapping"], result["encoding"]) == (
        True,
        None,
        "plain",
        "utf-8",
    )
    assert (result["events"], result["repeated_rows"], result["recipients"]) == (4, 1, 2)
    assert result["matched"] == {"number": 1, "email": 0, "name": 1}
    with database.session() as session:
        assert session.scalar(select(func.count(ImportedEvent.id))) == 0
        assert session.scalar(select(func.count(Drill.id)).where(Drill.origin == "import")) == 0
    stored = _import(client, keys[Role.operator], "loki.csv", plain, name="Koe")
    assert stored.status_code == 201 and stored.json()["events"] == 4


def test_only_operators_import_and_read_event_logs(
    client: TestClient, keys: dict[Role, str], database: Database, sample: Sample
) -> None:
    answer = _import(client, keys[Role.viewer], "x.csv", BAD_LOG.encode(), name="x")
    assert answer.status_code == 403
    load_demo_drill()
    with database.session() as session:
        drill_id = session.scalar(select(Drill.id))
    assert client.get(f"/api/v1/drills/{drill_id}/events.csv", headers=auth(keys[Role.viewer])).status_code == 403
    assert client.get(f"/api/v1/drills/{drill_id}/events.csv", headers=auth(keys[Role.operator])).status_code == 200


def test_a_drill_run_here_is_read_back_from_its_own_event_log(
    client: TestClient, keys: dict[Role, str], database: Database, sample: Sample
) -> None:
    load_demo_drill()
    with database.session() as session:
        original_id = session.scalar(select(Drill.id).where(Drill.origin == "service"))
    operator = auth(keys[Role.operator])
    log = client.get(f"/api/v1/drills/{original_id}/events.csv", headers=operator)
    assert log.headers["content-type"].startswith("text/csv")
    imported = _import(
        client, keys[Role.operator], "demo.csv", log.content, name="Takaisin luettu", kind="management_group_test"
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["mapping"] == "alueturva" and imported.json()["unmatched"] == []
    before = client.get(f"/api/v1/drills/{original_id}/report", headers=operator).json()
    after = client.get(f"/api/v1/drills/{imported.json()['drill_id']}/report", headers=operator).json()
    for figure in ("targeted", "delivered", "failed", "acknowledged"):
        assert after["counts"][figure] == before["counts"][figure], figure
    assert [(o["organisation"], o["targeted"], o["acknowledged"]) for o in after["by_organisation"]] == [
        (o["organisation"], o["targeted"], o["acknowledged"]) for o in before["by_organisation"]
    ]
    assert {p["answer"]: p["count"] for p in after["poll"]} == {p["answer"]: p["count"] for p in before["poll"]}


def test_objectives_are_set_afterwards_and_the_next_exercise_is_compared_with_the_imported_one(
    client: TestClient, keys: dict[Role, str], database: Database, sample: Sample
) -> None:
    objectives = [
        {"kind": "ack_share_within", "percent": 80, "minutes": 15},
        {"kind": "every_area_within", "minutes": 30},
        {"kind": "manual", "text": "Väestönsuojelumuodostelmat perustettiin"},
    ]
    drill_id = _import_2025(client, keys, sample, objectives=json.dumps(objectives))
    operator = auth(keys[Role.operator])
    drill = client.get(f"/api/v1/drills/{drill_id}", headers=operator).json()
    firsts: dict[str, Truth] = {}  # each person once, from their first alert, as the report counts them
    for truth in sorted(sample.truth.values(), key=lambda t: t.alert_at):
        firsts.setdefault(truth.name, truth)
    truths = list(firsts.values())
    within = sum(1 for t in truths if t.ack_seconds is not None and t.ack_seconds <= 15 * 60)
    share = round(100 * within / len(truths), 1)
    first = drill["objectives"][0]
    assert first["value"] == {"targeted": len(truths), "acknowledged_within": within, "percent": share}
    assert first["met"] is (share >= 80)
    assert drill["objectives"][1]["met"] is True and drill["objectives"][2]["met"] is None
    changed = client.patch(f"/api/v1/drills/{drill_id}", json={"objectives": objectives[:1]}, headers=operator)
    assert changed.status_code == 200 and len(changed.json()["objectives"]) == 1
    refused = client.patch(f"/api/v1/drills/{drill_id}", json={"channels": ["sms"]}, headers=operator)
    assert refused.status_code == 409 and "come from its log" in refused.text

    next_year = (
        b"time;name;number;organisation;channel;event;answer;phase\n"
        b"2026-11-04 09:00;Aino Esimerkki;+46701740605;Pelastuslaitos;sms;sent;;\n"
        b"2026-11-04 09:01;Aino Esimerkki;+46701740605;Pelastuslaitos;sms;acknowledged;;\n"
    )
    later = _import(client, keys[Role.operator], "2026.csv", next_year, name="Harjoitus 2026")
    report = client.get(f"/api/v1/drills/{later.json()['drill_id']}/report", headers=operator).json()
    assert report["previous"]["id"] == drill_id
    assert {row["figure"] for row in report["comparison"]} >= {"acknowledged_share", "ack_median"}


def test_the_command_line_imports_with_a_mapping_file_and_writes_an_event_log(
    database: Database, sample: Sample, tmp_path: Any
) -> None:
    from drills.cli import drill_app

    (tmp_path / "loki.csv").write_bytes(sample.gateway_csv())
    (tmp_path / "kartta.yaml").write_text(MAPPING, encoding="utf-8")
    runner = CliRunner()
    arguments = ["import", str(tmp_path / "loki.csv"), "--mapping", str(tmp_path / "kartta.yaml")]
    dry = runner.invoke(drill_app, [*arguments, "--name", "Harjoitus", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run, nothing stored" in dry.output and "Björn Lindqvist" in dry.output
    done = runner.invoke(drill_app, [*arguments, "--name", "Harjoitus", "--objective", "ack_share_within:80:15"])
    assert done.exit_code == 0, done.output
    with database.session() as session:
        drill_id = session.scalar(select(Drill.id).where(Drill.origin == "import"))
    written = runner.invoke(drill_app, ["events", str(drill_id), "-o", str(tmp_path / "events.csv")])
    assert written.exit_code == 0, written.output
    header = (tmp_path / "events.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == "time;name;mobile;email;organisation;channel;event;answer;phase;error"
    wrong = runner.invoke(drill_app, [*arguments, "--name", "x", "--objective", "ack_share_within:120:15"])
    assert wrong.exit_code != 0


def test_the_web_console_shows_an_imported_drill_with_its_log_and_report(
    client: TestClient, keys: dict[Role, str], database: Database, sample: Sample, accounts: dict[Role, int]
) -> None:
    drill_id = _import_2025(client, keys, sample)
    sign_in(client, Role.viewer)
    page = client.get(f"/drills/{drill_id}")
    assert page.status_code == 200
    assert "Tuotu lokista" in page.text and "tekstiviestipalvelu.csv, puhelut.xlsx" in page.text
    assert f'href="/drills/{drill_id}/report.html' in page.text
    report = client.get(f"/drills/{drill_id}/report.html")
    assert report.status_code == 200 and "Tuotu lokista" in report.text and "+4670174" not in report.text
