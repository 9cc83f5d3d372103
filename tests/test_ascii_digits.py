"""Non-ASCII digits (issue 18): ``²`` (a digit to ``str.isdigit()``, not to ``int()``), ``١`` (Arabic-Indic) and
``１`` (full-width) are posted to every numeric field — and, to find every such field without a list that could fall
behind, to every field of every form the console shows an admin, to the API's targets, the roster file's ``order``
column and the business id. Each answer is a page or a 4xx saying what is wrong, never a 500; only ASCII digits are
read as numbers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from alueturva.auth.models import Role
from alueturva.db import Database
from alueturva.digits import ascii_int
from tests.conftest import auth
from tests.support.forms import console_forms, console_pages, console_world
from tests.support.web import sign_in

ODD_DIGITS = ("²", "١", "１", "1²", "１２")


def test_only_ascii_digits_are_numbers() -> None:
    assert [ascii_int(text) for text in ("7", " 42 ", "0")] == [7, 42, 0]
    assert [ascii_int(text) for text in (*ODD_DIGITS, "", "-1", "1.0", "9" * 19)] == [None] * 9


@pytest.fixture
def world(client: TestClient, database: Database) -> dict[str, int]:
    return console_world(database)


def test_every_console_form_answers_odd_digits_without_a_server_error(
    client: TestClient, world: dict[str, int], accounts: dict[Role, int]
) -> None:
    token = sign_in(client, Role.admin)
    forms = console_forms(client, console_pages(world))
    posted = list(forms)
    assert len(posted) >= 12, sorted(forms)
    refused = []
    for action in posted:
        for odd in ODD_DIGITS:
            data = {field: odd for field in forms[action] if field != "csrf_token"} | {"csrf_token": token}
            answer = client.post(action, data=data, follow_redirects=False)
            if answer.status_code >= 500:
                refused.append((action, odd, answer.status_code))
    assert refused == []
    for query in ("/alerts?page=²", "/drills?page=١", "/rosters/people?page=１&organisation=²", "/audit?page=²"):
        assert client.get(query).status_code < 500, query
    for path in ("/alerts/²", "/drills/١", "/rosters/people/１", f"/alerts/{world['alert']}/recipients/²/acknowledge"):
        assert client.get(path).status_code in (404, 405, 422), path


def test_acknowledging_for_someone_reads_no_odd_digit_as_a_poll_answer(
    client: TestClient, world: dict[str, int], accounts: dict[Role, int], keys: dict[Role, str]
) -> None:
    token = sign_in(client, Role.operator)
    path = f"/alerts/{world['alert']}/recipients/{world['recipient']}/acknowledge"
    answer = client.post(path, data={"response": "١", "note": "", "csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303
    status = client.get(f"/api/v1/alerts/{world['alert']}", headers=auth(keys[Role.operator])).json()
    assert status["counts"]["acknowledged"] == 1 and all(a["count"] == 0 for a in status.get("answers", []))


def test_the_api_refuses_odd_digits_with_a_422(
    client: TestClient, world: dict[str, int], keys: dict[Role, str]
) -> None:
    operator, admin = auth(keys[Role.operator]), auth(keys[Role.admin])
    organisation = {"key": "outo", "short_name": "Outo", "name": "Outo Oy", "kind": "unit", "business_id": "0000000-0"}
    for odd in ODD_DIGITS:
        body = {"title": "T", "message": "M", "targets": {"groups": [odd]}, "channels": ["sms"]}
        answer = client.post("/api/v1/alerts", json=body, headers=operator)
        assert answer.status_code == 422, (odd, answer.text)
        odd_id = organisation | {"business_id": f"{odd * 7}"[:7] + "-0"}
        assert client.post("/api/v1/organisations", json=odd_id, headers=admin).status_code == 422, odd
        assert client.get(f"/api/v1/groups/{odd}", headers=operator).status_code in (404, 422)
    assert client.post("/api/v1/organisations", json=organisation, headers=admin).status_code == 201
    # a length announced as "²" (latin-1, as HTTP headers are read) is no length: the body is measured as it comes
    odd_length = {"Content-Length": "²".encode("latin-1")}
    assert client.post("/api/v1/alerts", content=b"{}", headers=operator | odd_length).status_code < 500  # type: ignore[operator]


def test_a_roster_file_with_an_odd_digit_in_its_order_column_names_the_row(
    client: TestClient, world: dict[str, int], keys: dict[Role, str]
) -> None:
    export = client.get("/api/v1/rosters/export", headers=auth(keys[Role.admin]))
    lines = export.text.lstrip("\ufeff").splitlines()
    header = lines[0].split(";")
    row = lines[1].split(";")
    for odd in ODD_DIGITS:
        row[header.index("order")] = odd
        data = "\n".join([lines[0], ";".join(row)]).encode()
        headers = auth(keys[Role.admin]) | {"Content-Type": "text/csv"}
        answer = client.post("/api/v1/rosters/import", content=data, headers=headers)
        assert answer.status_code == 422, (odd, answer.text[:300])
        assert "order" in answer.text and "not a whole number" in answer.text
