"""The service as a new user meets it: migrations, configuration checks, API keys and `alueturva up --demo`."""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from typer.testing import CliRunner

from alueturva.app.wiring import metadata
from alueturva.auth.models import Role
from alueturva.config import ConfigError, load_yaml
from alueturva.db import Database
from alueturva.errors import DomainError
from alueturva.settings import Settings
from contacts.catalogue import OrganisationsFile, RolesFile, business_id_is_valid


def test_migrations_create_exactly_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata())
    assert differences == []


def test_the_wiring_alone_knows_every_table(database: Database) -> None:
    """In a fresh interpreter (where nothing else has imported a domain), ``metadata()`` has every migrated table."""
    program = "from alueturva.app.wiring import metadata; print(' '.join(sorted(metadata().tables)))"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    with database.engine.connect() as connection:
        migrated = set(inspect(connection).get_table_names()) - {"alembic_version"}
    assert set(result.stdout.split()) == migrated


def test_business_id_check_digit() -> None:
    assert business_id_is_valid("0179377-8")
    assert business_id_is_valid("3221325-4")
    assert not business_id_is_valid("0179377-7")
    assert not business_id_is_valid("179377-8")


def test_a_broken_config_file_names_the_line_and_key(tmp_path: Path) -> None:
    broken = tmp_path / "roles.yaml"
    broken.write_text(
        "roles:\n"
        "  - key: preparedness_contact\n"
        "    names: {fi: a, sv: b, en: c}\n"
        "    required: {per: municipality, kinds: [municipality]}\n"
        "    group: alueturva\n"
        "groups:\n"
        "  - key: alueturva\n"
        "    names: {fi: a, sv: b, en: c}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        load_yaml(broken, RolesFile)
    assert f"{broken}:4: roles.0.required.per:" in str(raised.value)


def test_a_wrong_business_id_in_config_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "organisations.yaml"
    broken.write_text(
        "organisations:\n  - key: x\n    short_name: X\n    name: X\n    name_sv: X\n    name_en: X\n"
        "    business_id: 0179377-7\n    kind: municipality\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"organisations.yaml:7: organisations.0.business_id: .*Y-tunnus"):
        load_yaml(broken, OrganisationsFile)


def test_the_duty_officers_number_is_checked_and_written_as_people_read_it() -> None:
    assert Settings(duty_officer_phone="06 828 9100").duty_officer_phone == "+358 6 8289100"
    assert Settings(duty_officer_phone="").duty_officer_phone is None
    with pytest.raises(ValueError, match="not a valid phone number"):
        Settings(duty_officer_phone="123")


def test_twilio_backend_needs_its_credentials() -> None:
    from alueturva.config_check import settings_problems

    key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    problems = settings_problems(Settings(sms_backend="twilio", secret_key=key))
    assert any(problem.startswith("ALUETURVA_TWILIO_ACCOUNT_SID") for problem in problems)


def test_apikey_create_prints_the_key_once_and_stores_a_hash(database: Database) -> None:
    from alueturva.app.cli import app
    from alueturva.auth.models import ApiKey

    result = CliRunner().invoke(app, ["apikey", "create", "--role", "operator", "--name", "duty officer"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("alt_") and len(key) > 40
    with database.session() as session:
        stored = session.query(ApiKey).one()
        assert stored.role == Role.operator
        assert key not in (stored.key_hash, stored.prefix)
    refused = CliRunner().invoke(app, ["apikey", "create", "--role", "emperor", "--name", "x"])
    assert refused.exit_code != 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_up(tmp_path: Path, env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """`alueturva up --demo` as a new user runs it; returns once it answers."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "alueturva", "up", "--demo", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "alueturva up did not answer within 60 s"
        time.sleep(0.2)


def test_up_with_demo_serves_the_whole_region(tmp_path: Path) -> None:
    """The README's first steps, as a new user takes them: embedded SQLite, in-process queue, the demo roster, the
    admin key and web console account made on the first start (started without a terminal: written to a file only
    its owner reads, never into the log), an exercise alert, the outbox, a reply by `sms
    reply`, and the demo's past drill."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALUETURVA_")}
    env |= {"ALUETURVA_DATABASE_URL": f"sqlite:///{tmp_path / 'alueturva.db'}"}  # no secret key: `up --demo` makes one
    process = _start_up(tmp_path, env, port, tmp_path / "up.log")
    base = f"http://127.0.0.1:{port}"
    try:
        printed = (tmp_path / "up.log").read_text()
        assert "created the database" in printed and "up to date" not in printed
        first_start = tmp_path / "alueturva-first-admin.txt"
        assert f"are in {first_start}" in printed and stat.S_IMODE(first_start.stat().st_mode) == 0o600
        kept = first_start.read_text()
        key = next(line.split("=", 1)[1].strip() for line in kept.splitlines() if "export KEY=" in line)
        assert key not in printed and "with the password" not in printed
        headers = {"Authorization": f"Bearer {key}"}
        _sign_in_with_the_printed_password(base, kept)
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok", "database": "ok", "queue": "ok"}
        assert "ALUETURVA_SECRET_KEY=" in (tmp_path / ".env").read_text()
        people = httpx.get(f"{base}/api/v1/people", headers=headers).json()
        assert people["total"] >= 30
        assert all(p["mobile"].startswith("+4670174") for p in people["items"])
        compliance = httpx.get(f"{base}/api/v1/rosters/compliance", headers=headers).json()
        assert compliance["total"] - compliance["met"] == 1
        (past,) = httpx.get(f"{base}/api/v1/drills", headers=headers).json()["items"]
        drill = httpx.get(f"{base}/api/v1/drills/{past['id']}", headers=headers).json()
        assert drill["state"] == "ended" and drill["kind"] == "management_group_test"
        acknowledged = drill["objectives"][0]["value"]["acknowledged_within"]
        assert 0 < acknowledged < drill["objectives"][0]["value"]["targeted"]  # most answered, not everyone
        body = {
            "title": "Hälytysharjoitus",
            "message": "Kokoontuminen klo 14.",
            "targets": {"groups": ["valmiusjohtoryhma"]},
            "exercise": True,
        }
        alert = httpx.post(f"{base}/api/v1/alerts", json=body, headers=headers).json()
        deadline = time.monotonic() + 30
        while (outbox := httpx.get(f"{base}/api/v1/outbox", headers=headers).json())["total"] < 12:
            assert time.monotonic() < deadline, outbox
            time.sleep(0.2)
        email = next(item for item in outbox["items"] if item["channel"] == "email")
        assert f"{base}/ack/" in email["body"]  # --port is the links' base
        number = next(item["to"] for item in outbox["items"] if item["channel"] == "sms")
        reply = subprocess.run(
            [sys.executable, "-m", "alueturva", "sms", "reply", "--from", number, f"ok {alert['short_code']}"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert reply.stdout.startswith("acknowledged: ")
        status = httpx.get(f"{base}/api/v1/alerts/{alert['id']}", headers=headers).json()
        assert status["counts"]["acknowledged"] == 1
    finally:
        process.terminate()
        process.wait(timeout=20)
    again = _start_up(tmp_path, env, port, tmp_path / "again.log")
    again.terminate()
    again.wait(timeout=20)
    printed = (tmp_path / "again.log").read_text()
    assert "the database is up to date" in printed and "export KEY=" not in printed and "password" in printed


def _sign_in_with_the_printed_password(base: str, printed: str) -> None:
    password = re.search(r"with the password (\S+)", printed)
    assert password is not None, printed
    with httpx.Client(base_url=base) as browser:
        token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text)
        assert token is not None
        form = {"email": "admin@localhost", "password": password[1], "next": "/", "csrf_token": token[1]}
        assert browser.post("/login", data=form).status_code == 303
        assert "Tilannekuva" in browser.get("/").text


def test_apikey_list_and_revoke(database: Database) -> None:
    from alueturva.app.cli import app

    runner = CliRunner()
    key = (
        runner.invoke(app, ["apikey", "create", "--role", "viewer", "--name", "kiosk"]).stdout.strip().splitlines()[-1]
    )
    listed = runner.invoke(app, ["apikey", "list"])
    assert "kiosk" in listed.output and key not in listed.output
    assert runner.invoke(app, ["apikey", "revoke", "1"]).exit_code == 0
    from alueturva.auth.service import principal_for_key

    with database.session() as session:
        assert principal_for_key(session, key=key) is None
    missing = runner.invoke(app, ["apikey", "revoke", "99"])
    assert isinstance(missing.exception, DomainError) and "no API key with id 99" in str(missing.exception)


def test_readme_documents_every_setting_and_command() -> None:
    from alueturva.app.cli import _register_domain_commands, app

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    missing = [
        f"ALUETURVA_{name.upper()}" for name in Settings.model_fields if f"ALUETURVA_{name.upper()}`" not in readme
    ]
    assert missing == []
    _register_domain_commands()
    commands = [c.name or c.callback.__name__ for c in app.registered_commands if c.callback]
    commands += [g.name for g in app.registered_groups if g.name]
    assert [c for c in commands if f"alueturva {c}" not in readme] == []


def _documented_default(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_readme_settings_table_shows_the_real_defaults() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    rows = {
        cells[1].strip("` ").removeprefix("ALUETURVA_"): cells[2].strip()
        for line in readme.splitlines()
        if line.startswith("| `ALUETURVA_") and len(cells := line.split("|")) > 3
    }
    wrong = {}
    for name, field in Settings.model_fields.items():
        if name == "secret_key":
            continue
        documented = rows[name.upper()].strip().strip("`")
        if documented != _documented_default(field.default):
            wrong[name] = (documented, field.default)
    assert wrong == {}
