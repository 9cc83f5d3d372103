"""Exercise-log imports that try to exhaust the service (issue 18): a workbook that unzips to too much, millions of
empty rows, thousands of columns, a huge shared string, a DOCTYPE or entity, broken XML, a NUL byte in a CSV: each
gets a quick 422 with a small answer saying what is wrong, stores nothing, and is refused before the database is touched
(so an acknowledgement never waits behind it). Errors quote at most about 200 characters of a cell."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from alueturva.auth.models import Role
from alueturva.db import Database
from drills.imports.reading import MAX_CELL_CHARACTERS, MAX_COLUMNS, MAX_ROWS
from drills.models import Drill, DrillImport
from tests.conftest import auth

IMPORT = "/api/v1/drills/import"
HEADER = ["time", "name", "number", "organisation", "channel", "event", "answer", "phase"]
GOOD_ROW = ["2025-11-05 09:00", "Aino Esimerkki", "+46701740605", "Pelastuslaitos", "sms", "sent", "", ""]
SHEET = "xl/worksheets/sheet1.xml"
SMALL_ANSWER = 4_000  # bytes


def _workbook(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEADER, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _patched(data: bytes, part: str, change: Callable[[bytes], bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            content = source.read(member)
            target.writestr(member.filename, change(content) if member.filename == part else content)
    return out.getvalue()


def _rows_xml(count: int, first: int = 2) -> bytes:
    return b"".join(b'<row r="%d"/>' % n for n in range(first, first + count))


def _empty_rows() -> bytes:
    """Far more empty rows than the cap, the sheet's dimension saying so (each one a row to read)."""
    return _patched(
        _workbook([GOOD_ROW]),
        SHEET,
        lambda xml: xml.replace(b'ref="A1:H2"', b'ref="A1:H2000000"').replace(
            b"</sheetData>", _rows_xml(MAX_ROWS + 10, first=3) + b"</sheetData>"
        ),
    )


def _wide() -> bytes:
    """A dimension of every column Excel has, and a value past the column cap."""
    return _patched(
        _workbook([GOOD_ROW]),
        SHEET,
        lambda xml: xml.replace(b'ref="A1:H2"', b'ref="A1:XFD1048576"').replace(
            b"</row></sheetData>", b'<c r="CW2" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
        ),
    )


def _bomb() -> bytes:
    """A few hundred kilobytes that unzip to more than the cap (whitespace compresses a thousandfold)."""
    return _patched(
        _workbook([GOOD_ROW]), SHEET, lambda xml: xml.replace(b"<sheetData>", b" " * (60 << 20) + b"<sheetData>")
    )


def _shared_string() -> bytes:
    """One shared string of a megabyte in 200 rows."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for _ in range(200):
        sheet.append(["x" * (1 << 20), *GOOD_ROW[1:]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _declaring(entity: bool) -> bytes:
    declaration = b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "Aino">]>' if entity else b"<!DOCTYPE w>"
    return _patched(
        _workbook([GOOD_ROW]), SHEET, lambda xml: declaration + xml.replace(b"<t>Aino Esimerkki<", b"<t>&a;<")
    )


HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty-rows": (_empty_rows, f"more than {MAX_ROWS:,} rows"),
    "wide": (_wide, f"more than {MAX_COLUMNS} columns"),
    "bomb": (_bomb, "unzips to more than"),
    "shared-string": (_shared_string, f"longer than {MAX_CELL_CHARACTERS:,} characters"),
    "doctype": (lambda: _declaring(False), "declares a DOCTYPE or an entity"),
    "entity": (lambda: _declaring(True), "declares a DOCTYPE or an entity"),
    "broken-xml": (lambda: _patched(_workbook([GOOD_ROW]), SHEET, lambda xml: xml[:-40]), "cannot be read as an Excel"),
    "not-a-zip": (lambda: b"PK\x03\x04" + b"\x00" * 100, "cannot be read as an Excel"),
}


@pytest.fixture
def connections(database: Database) -> Iterator[list[object]]:
    """Every connection the application takes from the pool while the test runs."""
    taken: list[object] = []

    def checkout(*args: Any) -> None:
        taken.append(args[0])

    event.listen(database.engine, "checkout", checkout)
    yield taken
    event.remove(database.engine, "checkout", checkout)


def _post(client: TestClient, key: str, filename: str, data: bytes) -> Any:
    files = {"file": (filename, data)}
    return client.post(IMPORT, files=files, data={"name": "Vihamielinen"}, headers=auth(key))


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_hostile_workbook_gets_a_small_422_before_the_database_is_touched(
    kind: str, client: TestClient, keys: dict[Role, str], database: Database, connections: list[object]
) -> None:
    make, reason = HOSTILE[kind]
    data = make()
    key = keys[Role.operator]
    client.get("/api/v1/drills", headers=auth(key))  # the key is looked up; from here on only the import counts
    connections.clear()
    answer = _post(client, key, f"{kind}.xlsx", data)
    assert answer.status_code == 422, answer.text[:500]
    assert reason in str(answer.json()["detail"]) and len(answer.content) < SMALL_ANSWER
    assert len(connections) == 1  # the API key's lookup; the import itself opened no session
    with database.session() as session:
        assert session.scalar(select(func.count(Drill.id)).where(Drill.origin == "import")) == 0
        assert session.scalar(select(func.count(DrillImport.id))) == 0


def _csv(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(row) for row in [HEADER, *rows]).encode()


def test_a_csv_log_is_bounded_the_same_way(
    client: TestClient, keys: dict[Role, str], connections: list[object]
) -> None:
    key = keys[Role.operator]
    cases = {
        "nul": (
            _csv([[GOOD_ROW[0], "Aino\x00Esimerkki", *GOOD_ROW[2:]]]),
            "control characters are not allowed (U+0000)",
        ),
        "empty-lines": (_csv([GOOD_ROW]) + b"\n" * (MAX_ROWS + 10), f"more than {MAX_ROWS:,} rows"),
        "long-cell": (_csv([[GOOD_ROW[0], "x" * (MAX_CELL_CHARACTERS + 1), *GOOD_ROW[2:]]]), "longer than"),
        "wide": (_csv([GOOD_ROW + ["x"] * MAX_COLUMNS]), f"more than {MAX_COLUMNS} columns"),
    }
    for name, (data, reason) in cases.items():
        client.get("/api/v1/drills", headers=auth(key))
        connections.clear()
        answer = _post(client, key, f"{name}.csv", data)
        assert answer.status_code == 422 and reason in str(answer.json()["detail"]), (name, answer.text[:500])
        assert len(answer.content) < SMALL_ANSWER and len(connections) == 1


def test_row_errors_quote_a_cell_briefly_and_are_listed_up_to_a_cap(
    client: TestClient, keys: dict[Role, str], database: Database
) -> None:
    rows = [["9" * MAX_CELL_CHARACTERS, *GOOD_ROW[1:]] for _ in range(1_000)]
    answer = _post(client, keys[Role.operator], "ajat.csv", _csv(rows))
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail["errors_total"] == 1_000 and len(detail["errors"]) == 100
    assert all(len(error["message"]) < 400 for error in detail["errors"])
    assert detail["errors"][0]["message"].startswith("'" + "9" * 200 + "…' is not a time")
    assert len(answer.content) < 50_000


def test_a_database_error_never_logs_a_row_s_values(database: Database, caplog: pytest.LogCaptureFixture) -> None:
    """The engine hides parameters: a failed statement's error (and its log) names no person."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    caplog.set_level(logging.DEBUG)
    with pytest.raises(SQLAlchemyError) as failure, database.session() as session:
        session.execute(text("INSERT INTO no_such_table (name) VALUES (:name)"), {"name": "Aino Esimerkki"})
    assert "Aino Esimerkki" not in str(failure.value) and "Aino Esimerkki" not in caplog.text
