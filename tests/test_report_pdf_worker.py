"""Drill report PDFs are built by a worker, on both queues (issue 18): asking for one answers 202 with where to ask
again (the console: a page that says it is being prepared and reloads), then the file; it is kept and served again
without building until the drill changes; a build never takes a worker thread from alerts while another build runs."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from alerting import flows as alerting_flows
from alerting.schemas import AlertCreate
from alueturva.auth.models import Role
from alueturva.db import Database
from alueturva.queue import InProcessQueue
from contacts.demo import load_demo_roster
from drills.demo import load_demo_drill
from drills.models import Drill, ReportFile
from drills.report import files
from tests.conftest import auth
from tests.support.roster import make_people, settled, wait_until
from tests.support.web import sign_in


def _held_drill(database: Database) -> int:
    load_demo_roster()
    load_demo_drill()
    with database.session() as session:
        return session.scalars(select(Drill.id)).one()


def _built(database: Database, drill_id: int) -> list[tuple[str, object]]:
    with database.session() as session:
        rows = session.scalars(select(ReportFile).where(ReportFile.drill_id == drill_id).order_by(ReportFile.variant))
        return [(row.variant, row.built_at) for row in rows]


def test_the_api_answers_202_then_the_file_kept_until_the_drill_changes(
    client: TestClient, database: Database, queue: InProcessQueue, keys: dict[Role, str]
) -> None:
    drill_id = _held_drill(database)
    viewer, url = auth(keys[Role.viewer]), f"/api/v1/drills/{drill_id}/report?format=pdf&language=sv"
    first = client.get(url, headers=viewer)
    assert (
        first.status_code == 202 and first.headers["Location"].endswith(url) and int(first.headers["Retry-After"]) >= 1
    )
    assert queue.join()
    ready = client.get(url, headers=viewer)
    assert ready.status_code == 200 and ready.content.startswith(b"%PDF")
    assert ready.headers["content-disposition"].startswith("attachment")
    built = _built(database, drill_id)
    assert [variant for variant, _ in built] == ["sv:names"]  # a viewer's: names, no contact details
    again = client.get(url, headers=viewer)
    assert again.content == ready.content and _built(database, drill_id) == built  # kept: not built again
    words = {"summary": {"sv": "Alla kvitterade i tid."}}  # the demo's report is approved: its words change it
    assert (
        client.patch(f"/api/v1/drills/{drill_id}/report", json=words, headers=auth(keys[Role.operator])).status_code
        == 200
    )
    assert client.get(url, headers=viewer).status_code == 202  # the report changed: built again
    assert queue.join()
    changed = client.get(url, headers=viewer)
    assert changed.status_code == 200 and changed.content != ready.content
    assert client.get(f"/api/v1/drills/{drill_id + 1}/report?format=pdf", headers=viewer).status_code == 404


def test_the_console_says_it_is_being_prepared_and_reloads_until_the_file_is_ready(
    client: TestClient, database: Database, queue: InProcessQueue, accounts: dict[Role, int]
) -> None:
    drill_id = _held_drill(database)
    sign_in(client, Role.viewer)
    preparing = client.get(f"/drills/{drill_id}/report.pdf")
    assert preparing.status_code == 202 and int(preparing.headers["Refresh"]) >= 1
    assert "Raporttia valmistellaan" in preparing.text and "HARJOITUS" not in preparing.text
    assert queue.join()
    ready = client.get(f"/drills/{drill_id}/report.pdf")
    assert ready.headers["content-type"] == "application/pdf" and ready.content.startswith(b"%PDF")
    assert client.get("/drills/999999/report.pdf").status_code == 404


def test_a_build_waiting_for_another_holds_no_worker_thread_from_alerts(
    client: TestClient, database: Database, queue: InProcessQueue, keys: dict[Role, str]
) -> None:
    drill_id = _held_drill(database)
    url = f"/api/v1/drills/{drill_id}/report?format=pdf"
    assert files._builds.acquire(blocking=False)  # another build is running in this process
    try:
        for language in ("fi", "sv", "en"):  # more builds waiting than the queue has worker threads
            assert client.get(f"{url}&language={language}", headers=auth(keys[Role.viewer])).status_code == 202
        body = {"title": "Myrsky", "message": "M", "targets": {"people": make_people(database, 3)}, "channels": ["sms"]}
        alert_id = alerting_flows.create_alert(AlertCreate.model_validate(body), actor="test").alert_id
        assert wait_until(lambda: settled(database, alert_id))
        assert all(built is None for _, built in _built(database, drill_id))
    finally:
        files._builds.release()
    assert wait_until(lambda: all(built is not None for _, built in _built(database, drill_id)), timeout=180)


def test_with_rq_a_worker_process_builds_the_pdf(
    rq_client: TestClient, rq_workers: object, database: Database, keys: dict[Role, str]
) -> None:
    drill_id = _held_drill(database)
    rq_workers(1)  # type: ignore[operator]
    url, viewer = f"/api/v1/drills/{drill_id}/report?format=pdf", auth(keys[Role.viewer])
    assert rq_client.get(url, headers=viewer).status_code == 202
    assert wait_until(lambda: rq_client.get(url, headers=viewer).status_code == 200, timeout=180, interval=0.5)
    assert rq_client.get(url, headers=viewer).content.startswith(b"%PDF")
