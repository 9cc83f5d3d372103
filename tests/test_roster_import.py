from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from alueturva.audit.models import AuditEvent
from alueturva.auth.models import Role
from alueturva.db import Database
from contacts.models import Membership, Person
from tests.conftest import auth

HEADER = "organisation;name;title;mobile;email;language;group;role;deputy_of;order\n"
GOOD = (
    HEADER
    + "Kokkola;Aino Esimerkki;Valmiuspäällikkö;040 100 0001;aino@kokkola.example;sv;alueturva;preparedness_contact;;1\n"
    + "Kokkola;Aino Esimerkki;Valmiuspäällikkö;040 100 0001;aino@kokkola.example;sv;alueturva;"
    "civil_defence_contact;;1\n"
    + "0179377-8;Eero Esimerkki;Tekninen johtaja;+358401000002;eero@kokkola.example;;alueturva;preparedness_contact;"
    "Aino Esimerkki;2\n"
    + "Kannus;Helmi Harjoitus;Kaupunginjohtaja;050 100 0003;helmi@kannus.example;fi;valmiusjohtoryhma;"
    "valmiusjohtoryhma_member;;\n" + "Perho;Ilmari Malli;Kunnanjohtaja;0401000004;;fi;;;;\n"
)


def _state(database: Database) -> tuple[int, int, int]:
    with database.session() as session:
        return (
            session.scalar(select(func.count(Person.id))) or 0,
            session.scalar(select(func.count(Membership.id))) or 0,
            session.scalar(select(func.count(AuditEvent.id))) or 0,
        )


def _import(
    client: TestClient, key: str, body: bytes | str, dry_run: bool = False, replace: bool = False
) -> tuple[int, dict]:
    data = body.encode() if isinstance(body, str) else body
    response = client.post(
        "/api/v1/rosters/import",
        params={"dry_run": str(dry_run).lower(), "replace": str(replace).lower()},
        content=data,
        headers=auth(key) | {"Content-Type": "text/csv"},
    )
    return response.status_code, response.json()


@pytest.fixture
def admin_key(keys: dict[Role, str]) -> str:
    return keys[Role.admin]


def test_import_creates_people_and_memberships(client: TestClient, admin_key: str, database: Database) -> None:
    status, report = _import(client, admin_key, GOOD)
    assert status == 200, report
    assert (report["people_created"], report["memberships_added"], report["applied"]) == (4, 4, True)
    with database.session() as session:
        eero = session.scalar(select(Person).where(Person.name == "Eero Esimerkki"))
        assert eero is not None
        assert eero.mobile == "+358401000002" and eero.language == "fi"
        aino = session.scalar(select(Person).where(Person.name == "Aino Esimerkki"))
        assert aino is not None and aino.language == "sv"
        roles = sorted(m.role_key for m in aino.memberships)
        assert roles == ["civil_defence_contact", "preparedness_contact"]
        deputy = next(m for m in eero.memberships)
        assert deputy.deputy_of is not None and deputy.deputy_of.person_id == aino.id
        assert deputy.deputy_of.role_key == "preparedness_contact"
    events = client.get("/api/v1/audit", params={"action": "roster.import"}, headers=auth(admin_key)).json()
    assert events["total"] == 1


def test_the_same_file_twice_changes_nothing(client: TestClient, admin_key: str, database: Database) -> None:
    assert _import(client, admin_key, GOOD)[0] == 200
    before = _state(database)
    status, report = _import(client, admin_key, GOOD)
    assert status == 200
    assert report["changed"] is False
    assert _state(database) == before


def test_export_round_trips(client: TestClient, admin_key: str, database: Database) -> None:
    assert _import(client, admin_key, GOOD)[0] == 200
    exported = client.get("/api/v1/rosters/export", headers=auth(admin_key))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.content.startswith(b"\xef\xbb\xbf")
    lines = exported.content.decode("utf-8-sig").splitlines()
    assert lines[0] == HEADER.strip()
    assert len(lines) == 6
    before = _state(database)
    status, report = _import(client, admin_key, exported.content)
    assert status == 200 and report["changed"] is False
    assert _state(database) == before
    assert client.get("/api/v1/rosters/export", headers=auth(admin_key)).content == exported.content


def test_comma_separated_file_with_bom(client: TestClient, admin_key: str) -> None:
    body = "\ufeff" + GOOD.replace(";", ",").replace("Valmiuspäällikkö", '"Valmiuspäällikkö, vs."')
    status, report = _import(client, admin_key, body.encode("utf-8"))
    assert status == 200, report
    assert report["people_created"] == 4


def _group(report: dict, key: str) -> dict:
    return next(group for group in report["groups"] if group["group"] == key)


def _names(members: list[dict]) -> list[str]:
    return [member["name"] for member in members]


def test_adding_one_person_to_a_group_keeps_the_others_and_names_everyone(
    client: TestClient, admin_key: str, database: Database
) -> None:
    assert _import(client, admin_key, GOOD)[0] == 200
    one_more = HEADER + "Kokkola;Oona Uusi;;0401000005;oona@kokkola.example;fi;alueturva;preparedness_contact;;3\n"
    for dry_run in (True, False):
        status, report = _import(client, admin_key, one_more, dry_run=dry_run)
        assert status == 200, report
        assert (report["memberships_added"], report["memberships_removed"]) == (1, 0)
        alueturva = _group(report, "alueturva")
        assert _names(alueturva["added"]) == ["Oona Uusi"] and alueturva["removed"] == []
        assert sorted(_names(alueturva["kept_absent"])) == ["Aino Esimerkki", "Aino Esimerkki", "Eero Esimerkki"]
        assert _names(report["people_created_names"]) == ["Oona Uusi"]
        # a dry run's new person has no id yet; the import's has
        assert (report["people_created_names"][0]["person_id"] is None) is dry_run
    with database.session() as session:
        members = session.scalars(select(Membership).join(Person).where(Person.name == "Eero Esimerkki")).all()
        assert len(members) == 1


def test_replace_removes_the_members_the_file_does_not_name_and_names_them(
    client: TestClient, admin_key: str, database: Database
) -> None:
    assert _import(client, admin_key, GOOD)[0] == 200
    without_eero = "".join(line for line in GOOD.splitlines(keepends=True) if "Eero" not in line)
    status, report = _import(client, admin_key, without_eero, replace=True)
    assert status == 200
    assert report["replace"] is True and report["memberships_removed"] == 1 and report["people_created"] == 0
    removed = _group(report, "alueturva")["removed"]
    assert [(m["name"], m["role"], m["change"]) for m in removed] == [
        ("Eero Esimerkki", "preparedness_contact", "removed")
    ]
    with database.session() as session:
        eero = session.scalar(select(Person).where(Person.name == "Eero Esimerkki"))
        assert eero is not None and eero.memberships == []
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "roster.import")).all()[-1]
        assert event.details["groups"]["alueturva"] == {"removed": [eero.id]}  # ids in the audit log, no names


def test_changed_people_and_memberships_are_named(client: TestClient, admin_key: str) -> None:
    assert _import(client, admin_key, GOOD)[0] == 200
    changed = GOOD.replace("eero@kokkola.example", "eero.e@kokkola.example").replace(
        "Aino Esimerkki;2", "Aino Esimerkki;5"
    )
    status, report = _import(client, admin_key, changed, dry_run=True)
    assert status == 200
    assert report["people_updated_names"] == [
        {"person_id": report["people_updated_names"][0]["person_id"], "name": "Eero Esimerkki", "fields": ["email"]}
    ]
    assert [(m["name"], m["change"]) for m in _group(report, "alueturva")["changed"]] == [("Eero Esimerkki", "changed")]


def test_dry_run_reports_and_changes_nothing(client: TestClient, admin_key: str, database: Database) -> None:
    before = _state(database)
    status, report = _import(client, admin_key, GOOD, dry_run=True)
    assert status == 200
    assert (report["dry_run"], report["applied"], report["people_created"], report["memberships_added"]) == (
        True,
        False,
        4,
        4,
    )
    assert _state(database) == before


@pytest.mark.parametrize(
    ("bad_row", "column", "message"),
    [
        ("Kokkola;A;;06 8287111;a@x.example;fi;;;;", "mobile", "landline"),
        ("Kokkola;A;;;not-an-email;fi;;;;", "email", "not a valid email"),
        ("Narnia;A;;0401000009;;fi;;;;", "organisation", "unknown organisation 'Narnia'"),
        ("Kokkola;A;;0401000009;;fi;alueturva;king;;", "role", "unknown role 'king'"),
        ("Kokkola;A;;0401000009;;fi;secret_club;preparedness_contact;;", "group", "unknown group 'secret_club'"),
        ("Kokkola;A;;0401000009;;fi;alueturva;;;", "role", "needs a role"),
        ("Kokkola;A;;0401000009;;de;;;;", "language", "unknown language"),
        ("Kokkola;A;;0401000009;;fi;alueturva;preparedness_contact;;first", "order", "not a whole number"),
        ("Kokkola;A;;0401000009;;fi;alueturva;preparedness_contact;Nobody;", "deputy_of", "not in the same group"),
        ("Kokkola;A;;;;fi;;;;", "mobile", "needs a mobile number or an email"),
        (f"Kokkola;{'x' * 201};;0401000009;;fi;;;;", "name", "longer than 200"),
        ("Kokkola;A;;0401000009;;fi", None, "has 6 fields"),
        # the same mobile number under another name: one number, one person
        ("Kokkola;Someone Else;;0401000001;;fi;;;;", "mobile", "duplicate person"),
        # the same person as row 2 with another organisation
        (
            "Kannus;Aino Esimerkki;Valmiuspäällikkö;040 100 0001;aino@kokkola.example;sv;;;;",
            "organisation",
            "conflicts with row 2",
        ),
        # the same person, group and role twice
        (
            "Kokkola;Aino Esimerkki;Valmiuspäällikkö;040 100 0001;aino@kokkola.example;sv;alueturva;"
            "preparedness_contact;;1",
            "role",
            "duplicate",
        ),
    ],
)
def test_each_bad_row_is_reported_and_nothing_is_imported(
    client: TestClient, admin_key: str, database: Database, bad_row: str, column: str | None, message: str
) -> None:
    before = _state(database)
    status, body = _import(client, admin_key, GOOD + bad_row + "\n")
    assert status == 422
    detail = body["detail"]
    assert "nothing was imported" in detail["message"]
    assert any(e["row"] == 7 and e["column"] == column and message in e["message"] for e in detail["errors"]), detail
    assert _state(database) == before


def test_a_stored_number_under_another_name_is_a_duplicate(
    client: TestClient, admin_key: str, database: Database
) -> None:
    assert _import(client, admin_key, GOOD)[0] == 200
    before = _state(database)
    status, body = _import(client, admin_key, HEADER + "Kokkola;Impostor;;0401000001;;fi;;;;\n")
    assert status == 422
    assert body["detail"]["errors"][0]["column"] == "mobile"
    assert _state(database) == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (GOOD.encode("latin-1"), "not UTF-8"),
        (b"", "empty"),
        (b"organisation;name;mobile\nKokkola;A;0401000001\n", "missing column(s): title, email"),
        (HEADER.replace("order", "name").encode(), "duplicate column(s) in the header: name"),
        (HEADER.replace("order", "order;nickname").encode(), "unknown column(s): nickname"),
    ],
)
def test_unreadable_files_are_refused(
    client: TestClient, admin_key: str, database: Database, body: bytes, message: str
) -> None:
    before = _state(database)
    status, answer = _import(client, admin_key, body)
    assert status == 422
    assert message in answer["detail"]
    assert _state(database) == before


@pytest.fixture
def cli(database: Database) -> Iterator[CliRunner]:
    from alueturva.app.cli import _register_domain_commands

    _register_domain_commands()
    yield CliRunner()


def test_cli_import_dry_run_export_and_errors(cli: CliRunner, database: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alueturva.app.cli import app

    roster_file = tmp_path / "roster.csv"
    roster_file.write_text(GOOD, encoding="utf-8")
    before = _state(database)
    dry = cli.invoke(app, ["roster", "import", str(roster_file), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would change: 4 people created" in dry.output
    assert "+ Eero Esimerkki (preparedness_contact) would be added" in dry.output
    assert _state(database) == before
    real = cli.invoke(app, ["roster", "import", str(roster_file)])
    assert real.exit_code == 0 and "changed: 4 people created" in real.output
    assert "+ Eero Esimerkki (preparedness_contact) was added" in real.output
    exported = cli.invoke(app, ["roster", "export"])
    assert exported.exit_code == 0
    assert exported.output.splitlines()[0] == HEADER.strip()
    bad_file = tmp_path / "bad.csv"
    bad_file.write_text(GOOD + "Narnia;A;;0401000009;;fi;;;;\n", encoding="utf-8")
    after_good = _state(database)
    bad = cli.invoke(app, ["roster", "import", str(bad_file)])
    assert bad.exit_code == 1
    assert "Narnia" in bad.output
    assert _state(database) == after_good


def test_cli_keeps_members_absent_from_the_file_unless_replace(cli: CliRunner, database: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alueturva.app.cli import app

    (tmp_path / "roster.csv").write_text(GOOD, encoding="utf-8")
    assert cli.invoke(app, ["roster", "import", str(tmp_path / "roster.csv")]).exit_code == 0
    only_eero = tmp_path / "eero.csv"
    only_eero.write_text(
        HEADER + "Kokkola;Eero Esimerkki;Tekninen johtaja;+358401000002;eero@kokkola.example;fi;alueturva;"
        "preparedness_contact;;2\n",
        encoding="utf-8",
    )
    kept = cli.invoke(app, ["roster", "import", str(only_eero)])
    assert kept.exit_code == 0 and "0 removed" in kept.output and "was removed" not in kept.output
    assert "not in the file, kept (use --replace to remove): Aino Esimerkki" in kept.output
    replaced = cli.invoke(app, ["roster", "import", str(only_eero), "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert "- Aino Esimerkki (civil_defence_contact) was removed" in replaced.output
    assert "- Aino Esimerkki (preparedness_contact) was removed" in replaced.output


def test_control_characters_and_broken_csv_are_refused(client: TestClient, admin_key: str, database: Database) -> None:
    before = _state(database)
    status, body = _import(client, admin_key, GOOD + "Kokkola;A\x07B;;0401000009;;fi;;;;\n")
    assert status == 422
    assert body["detail"]["errors"][0]["column"] == "name"
    assert "control characters" in body["detail"]["errors"][0]["message"]
    status, body = _import(client, admin_key, (GOOD + "Kokkola;A\x00B;;0401000009;;fi;;;;\n").encode())
    assert status == 422
    assert _state(database) == before
