"""The `alueturva` command line: help in plain words without loading the service, people, the links' base address
and what `db upgrade` says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alueturva.db import Database
from alueturva.settings import get_settings
from contacts.cli import people_app
from contacts.demo import load_demo_roster

runner = CliRunner()

# Builds the whole command tree as `alueturva` does, notes what that imported, then renders every command's help.
HELP_PROGRAM = r"""
import contextlib, io, json, sys
import typer
from alueturva.app import cli

cli._register_domain_commands()
command = typer.main.get_command(cli.app)
cli._plain(command)
heavy = sorted(name for name in ("sqlalchemy", "fastapi", "uvicorn", "alembic", "alerting.flows",
                                 "situation.reactions", "contacts.service", "twilio") if name in sys.modules)
paths = []

def walk(node, path):
    paths.append(path)
    for name, sub in (getattr(node, "commands", None) or {}).items():
        walk(sub, [*path, name])

walk(command, [])
helps = {}
for path in paths:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            command.main(args=[*path, "--help"], prog_name="alueturva")
        except SystemExit as exit:
            assert exit.code == 0, (path, exit.code)
    helps[" ".join(path)] = out.getvalue()
print(json.dumps({"heavy": heavy, "helps": helps}))
"""


def test_every_command_answers_help_in_plain_words_without_loading_the_service() -> None:
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
    result = subprocess.run([sys.executable, "-c", HELP_PROGRAM], capture_output=True, text=True, env=env, check=True)
    found = json.loads(result.stdout)
    assert found["heavy"] == []  # the database, web and domain layers load only when a command runs
    helps = found["helps"]
    assert {"", "alert send", "alert recipients", "alert cancel", "sms reply", "outbox", "people list",
            "roster check", "situation show"} <= set(helps)  # fmt: skip
    for path, text in helps.items():
        assert "Usage: alueturva" in text, path
        for python_type in ("<list[", "<str>", "<int>", "<bool>", "<float>", "<path>", "<Role"):
            assert python_type not in text, (path, python_type, text)
    assert "--group                     GROUP" in helps["alert send"]


def test_people_list_and_show(database: Database) -> None:
    load_demo_roster()
    listed = runner.invoke(people_app, ["list", "--organisation", "Karleby"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    assert "Valmiuspäällikkö" in listed.output and "+4670174" in listed.output and "Perho" not in listed.output
    person_id = next(line.split("│")[1].strip() for line in listed.output.splitlines() if "Valmiuspäällikkö" in line)
    shown = runner.invoke(people_app, ["show", person_id], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "preparedness_contact" not in shown.output  # role names, not keys
    assert "Preparedness and civil defence contact" in shown.output and "valmiusjohtoryhma" in shown.output
    missing = runner.invoke(people_app, ["show", "999999"])
    assert "no person with id 999999" in str(missing.exception)


def test_the_port_is_the_links_base_and_later_commands_know_it_unless_an_address_is_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from alueturva.app.cli import _public_base_url_from
    from alueturva.settings import Settings

    env_file = tmp_path / ".env"
    env_file.write_text("ALUETURVA_SECRET_KEY=kept\n", encoding="utf-8")
    monkeypatch.setattr(os, "environ", dict(os.environ))  # the function writes os.environ: on a copy, not leaked
    monkeypatch.delenv("ALUETURVA_PUBLIC_BASE_URL", raising=False)
    get_settings.cache_clear()
    _public_base_url_from("0.0.0.0", 8123, env_file=env_file)
    assert get_settings().public_base_url == "http://127.0.0.1:8123"
    # a later command in the directory (`alert link` in another shell) reads the same address from .env
    later = Settings(_env_file=env_file)  # type: ignore[call-arg]
    monkeypatch.delenv("ALUETURVA_PUBLIC_BASE_URL")
    assert Settings(_env_file=env_file).public_base_url == "http://127.0.0.1:8123"  # type: ignore[call-arg]
    _public_base_url_from("127.0.0.1", 9000, env_file=env_file)  # `up` on another port: its own line rewritten
    monkeypatch.delenv("ALUETURVA_PUBLIC_BASE_URL")
    assert Settings(_env_file=env_file).public_base_url == "http://127.0.0.1:9000"  # type: ignore[call-arg]
    assert env_file.read_text(encoding="utf-8").count("ALUETURVA_PUBLIC_BASE_URL=") == 1
    assert "ALUETURVA_SECRET_KEY=kept" in env_file.read_text(encoding="utf-8")
    assert later.public_base_url == "http://127.0.0.1:8123"

    mine = tmp_path / "own.env"
    mine.write_text("ALUETURVA_PUBLIC_BASE_URL=https://alueturva.example.fi\n", encoding="utf-8")
    _public_base_url_from("127.0.0.1", 8124, env_file=mine)  # someone's own setting is never touched
    assert mine.read_text(encoding="utf-8") == "ALUETURVA_PUBLIC_BASE_URL=https://alueturva.example.fi\n"
    monkeypatch.setenv("ALUETURVA_PUBLIC_BASE_URL", "https://alueturva.example.fi")
    get_settings.cache_clear()
    _public_base_url_from("127.0.0.1", 8124, env_file=env_file)
    assert get_settings().public_base_url == "https://alueturva.example.fi"
    get_settings.cache_clear()


def test_db_upgrade_says_what_it_did(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALUETURVA_")}
    env["ALUETURVA_DATABASE_URL"] = f"sqlite:///{tmp_path / 'new.db'}"
    command = [sys.executable, "-m", "alueturva", "db", "upgrade"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=tmp_path)
    assert "created the database" in first.stdout and "up to date" not in first.stdout
    again = subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=tmp_path)
    assert "the database is up to date" in again.stdout


@pytest.mark.parametrize(
    ("language", "words", "absent"),
    [
        ("sv", ["område", "Karleby", "förhöjd beredskap", "grundberedskap", "Perho ådal"], ["tehostettu_valmius"]),
        ("fi", ["alue", "Kokkola", "tehostettu valmius", "perusvalmius"], ["tehostettu_valmius", "decided"]),
    ],
)
def test_situation_show_names_areas_and_levels_in_the_chosen_language(
    database: Database, language: str, words: list[str], absent: list[str]
) -> None:
    from situation import decisions
    from situation.cli import situation_app
    from situation.schemas import DecisionIn

    payload = DecisionIn(area="kokkola", level="tehostettu_valmius", reason="Sähkökatko")
    decisions.decide(payload=payload, actor="test")
    shown = runner.invoke(situation_app, ["show", "--language", language], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    for word in words:
        assert word in shown.output, word
    for word in absent:
        assert word not in shown.output, word
