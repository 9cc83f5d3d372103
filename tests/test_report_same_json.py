"""A report's JSON is byte for byte what it was before issue 24 made it faster: for a drill made as ``bench.report``
makes one (small, at fixed times, with phone calls, a deputy and a previous drill of the same kind) and for the 2025
exercise imported from its logs (phases, calls, people the roster does not know), in three variants each.

Compared with the documents in ``tests/data/report/`` (gzipped), written by the code before the change, one set per
database (the drill's people are spread over the organisations in the order each database lists them). Only what
changes from run to run is left out: when the report was made and its logs imported. To write them anew, from code
known to be right: ``ALUETURVA_WRITE_EXPECTED=1``.

The PostgreSQL documents of the 2025 exercise were written anew once since: a person's roles had been listed in the
order PostgreSQL happened to keep their rows in, and are now listed in the order they were given (the same as on
SQLite). Nothing else changed: the two databases' documents of the exercise are now the same."""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from alerting.models import AckMethod, Channel, Delivery, DeliveryKind, DeliveryState, Recipient
from alueturva.auth.models import Role
from alueturva.db import Database
from bench.report import add_region, settle, start_drill
from contacts.demo import load_demo_roster
from contacts.models import Person
from drills import service
from drills.report import render
from drills.report.assemble import build_report
from tests.conftest import BACKEND, auth
from tests.support.exercise_log import MAPPING, make_sample, roster_people

EXPECTED = Path(__file__).parent / "data" / "report"
WRITE = os.environ.get("ALUETURVA_WRITE_EXPECTED") == "1"
HELD = datetime(2026, 10, 5, 6, 0, tzinfo=UTC)  # the previous drill; the one reported on, a week later
VARIANTS: dict[str, dict[str, Any]] = {
    "fi-full": {"language": "fi"},
    "sv-redacted": {"language": "sv", "redact": True},
    "en-no-contacts": {"language": "en", "contact_details": False},
}
# What changes from run to run: when the report was made and its log files imported, and the spreadsheet's hash (the
# file holds the time it was written).
OF_THE_RUN = re.compile(rb'"(generated_at|imported_at|sha256)": "[^"]*"')


def _timed_calls(alert_id: int, silent: Sequence[Any], at: datetime) -> list[dict[str, Any]]:
    """Two calls to each of three people who did not answer: the first unanswered, the second answered and timed."""
    calls = []
    for n, row in enumerate(silent[:3]):
        called = at + timedelta(minutes=12, seconds=17 * n)
        base = {"alert_id": alert_id, "recipient_id": row.id, "channel": Channel.voice, "address": "+358500000001",
                "kind": DeliveryKind.reminder, "attempts": 1, "created_at": called, "enqueued_at": called}  # fmt: skip
        unanswered = {"round": 1, "state": DeliveryState.failed, "sent_at": called, "error_code": "no-answer"}
        calls.append(base | unanswered | {"failed_at": called + timedelta(seconds=30)})
        answered = called + timedelta(minutes=2, microseconds=250_000 * n)
        calls.append(
            base | {"round": 2, "state": DeliveryState.delivered, "sent_at": answered,
                    "delivered_at": answered + timedelta(seconds=9), "duration_seconds": 41 + n}
        )  # fmt: skip
    return calls


def _calls_and_a_deputy(database: Database, drill_id: int, at: datetime) -> None:
    """Calls to three who did not answer, and a deputy alerted for a fourth (a name JSON must escape)."""
    with database.session() as session:
        (alert_id,) = service.measured_alert_ids(session, drill_id=drill_id)
        silent = session.execute(
            select(Recipient.id, Recipient.organisation_id)
            .where(Recipient.alert_id == alert_id, Recipient.acknowledged_at.is_(None))
            .order_by(Recipient.id)
        ).all()
        session.execute(insert(Delivery), _timed_calls(alert_id, silent, at))
        deputy = Person(name='Åsa "Vara" Öberg', organisation_id=silent[3].organisation_id, mobile="+358401112222",
                        language="sv", active=True)  # fmt: skip
        session.add(deputy)
        session.flush()
        added = at + timedelta(minutes=20)
        recipient = Recipient(
            alert_id=alert_id, person_id=deputy.id, organisation_id=deputy.organisation_id, language="sv",
            link_nonce="deputy", deputy_for_id=silent[3].id, added_at=added, ack_method=AckMethod.sms, response=1,
            acknowledged_at=added + timedelta(minutes=3, seconds=2, microseconds=999_999),
        )  # fmt: skip
        session.add(recipient)
        session.flush()
        session.add(
            Delivery(
                alert_id=alert_id, recipient_id=recipient.id, channel=Channel.sms, kind=DeliveryKind.alert,
                address="+358401112222", state=DeliveryState.delivered, attempts=1, created_at=added,
                enqueued_at=added, sent_at=added, delivered_at=added + timedelta(seconds=4),
            )
        )  # fmt: skip


def _compare(database: Database, drill_id: int, name: str) -> None:
    for variant, options in VARIANTS.items():
        with database.session() as session:
            document = render.export(build_report(session, drill_id=drill_id, **options), "json").body
        document = OF_THE_RUN.sub(rb'"\1": ""', document)
        expected = EXPECTED / f"{name}-{variant}-{BACKEND}.json.gz"
        if WRITE:
            expected.parent.mkdir(parents=True, exist_ok=True)
            expected.write_bytes(gzip.compress(document, mtime=0))
        _assert_same(document, gzip.decompress(expected.read_bytes()), expected.name)


def _assert_same(document: bytes, expected: bytes, name: str) -> None:
    """The same bytes; otherwise where they first differ, with some of each around it."""
    if document == expected:
        return
    at = next((n for n, (a, b) in enumerate(zip(document, expected, strict=False)) if a != b), len(expected))
    raise AssertionError(
        f"{name} differs at byte {at} of {len(expected)} (now {len(document)}):\n"
        f"now:      {document[max(0, at - 80) : at + 80]!r}\nexpected: {expected[max(0, at - 80) : at + 80]!r}"
    )


def test_the_json_of_a_drill_run_here_is_what_it_was(database_url: str, database: Database) -> None:
    add_region(database_url, 60)
    previous = start_drill(HELD)
    settle(previous, HELD)
    held = HELD + timedelta(days=7)
    drill_id = start_drill(held)
    settle(drill_id, held)
    _calls_and_a_deputy(database, drill_id, held)
    _compare(database, drill_id, "bench-drill")


def test_the_json_of_an_imported_exercise_is_what_it_was(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    load_demo_roster()
    with database.session() as session:
        sample = make_sample(roster_people(session))
    operator = auth(keys[Role.operator])
    files = {"file": ("tekstiviestipalvelu.csv", sample.gateway_csv()), "mapping": ("mapping.yaml", MAPPING.encode())}
    gateway = client.post("/api/v1/drills/import", files=files, data={"name": "Harjoitus 2025"}, headers=operator)
    assert gateway.status_code == 201, gateway.text
    drill_id = gateway.json()["drill_id"]
    calls = client.post(
        "/api/v1/drills/import",
        files={"file": ("puhelut.xlsx", sample.calls_xlsx)},
        data={"drill_id": str(drill_id)},
        headers=operator,
    )
    assert calls.status_code == 201, calls.text
    _compare(database, drill_id, "exercise-2025")
