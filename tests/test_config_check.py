"""Settings checked together before the service starts (issue 14): `alueturva check-config` lists every problem
(exit status 2), and `serve`, `worker`, `scheduler` and `up` refuse to start with them. The development secret key
or a short one is allowed only for the local demo (a loopback address, console SMS and email)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alueturva.settings import DEVELOPMENT_SECRET_KEY, get_settings

PUBLIC = "https://alueturva.example.fi"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No ALUETURVA_* settings but a database, run from an empty directory (no .env)."""
    for name in list(os.environ):
        if name.startswith("ALUETURVA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ALUETURVA_DATABASE_URL", f"sqlite:///{tmp_path / 'alueturva.db'}")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _check(monkeypatch: pytest.MonkeyPatch, **settings: str) -> tuple[int, str]:
    from alueturva.app.cli import app

    for name, value in settings.items():
        monkeypatch.setenv(f"ALUETURVA_{name.upper()}", value)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["check-config"])
    return result.exit_code, result.output


def test_check_config_lists_every_problem_together_with_exit_status_2(clean_env: pytest.MonkeyPatch) -> None:
    status, output = _check(
        clean_env, public_base_url="http://alueturva.example.fi", sms_backend="twilio", smtp_port="seventy"
    )
    assert status == 2, output
    for named in (
        "ALUETURVA_SECRET_KEY",  # the development value on a public address
        "ALUETURVA_PUBLIC_BASE_URL",  # http on a public address
        "ALUETURVA_TWILIO_ACCOUNT_SID",
        "ALUETURVA_TWILIO_AUTH_TOKEN",
        "ALUETURVA_TWILIO_FROM",
        "ALUETURVA_SMTP_PORT",
    ):
        assert named in output, named
    assert "Traceback" not in output


GOOD_KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # as `openssl rand -hex 32` writes


def test_the_local_demo_may_use_the_development_key(clean_env: pytest.MonkeyPatch) -> None:
    assert get_settings().secret_key.get_secret_value() == DEVELOPMENT_SECRET_KEY
    status, output = _check(clean_env)
    assert status == 0, output


@pytest.mark.parametrize(
    "settings",
    [
        {"public_base_url": PUBLIC},
        {"public_base_url": PUBLIC, "secret_key": "lyhyt-avain-1234"},
        {"public_base_url": PUBLIC, "secret_key": " " * 32},
        {"public_base_url": PUBLIC, "secret_key": "k" * 64},
        {"public_base_url": PUBLIC, "secret_key": "salasana" * 5},
        {"email_backend": "smtp"},
        {"sms_backend": "twilio", "twilio_account_sid": "AC1", "twilio_auth_token": "t" * 32, "twilio_from": "+3584"},
        {"voice_backend": "twilio", "twilio_account_sid": "AC1", "twilio_auth_token": "t" * 32, "twilio_from": "+3584"},
    ],
    ids=[
        "public address",
        "short key",
        "32 spaces",
        "one letter",
        "a word repeated",
        "real email",
        "real sms",
        "real calls",
    ],
)
def test_outside_the_local_demo_a_development_short_or_weak_key_is_refused(
    clean_env: pytest.MonkeyPatch, settings: dict[str, str]
) -> None:
    status, output = _check(clean_env, **settings)
    assert status == 2, output
    assert "ALUETURVA_SECRET_KEY" in output
    assert _check(clean_env, secret_key=GOOD_KEY)[0] == 0


def test_twilio_calls_need_the_account_and_a_number_to_call_from(clean_env: pytest.MonkeyPatch) -> None:
    status, output = _check(clean_env, voice_backend="twilio", secret_key=GOOD_KEY)
    assert status == 2, output
    for named in ("ALUETURVA_TWILIO_ACCOUNT_SID", "ALUETURVA_TWILIO_AUTH_TOKEN", "ALUETURVA_TWILIO_VOICE_FROM"):
        assert named in output, named
    ready = {"twilio_account_sid": "AC1", "twilio_auth_token": "t" * 32, "twilio_voice_from": "+358401234567"}
    assert _check(clean_env, **ready)[0] == 0


def test_an_empty_twilio_auth_token_is_named(clean_env: pytest.MonkeyPatch) -> None:
    status, output = _check(clean_env, twilio_auth_token="")
    assert status == 2 and "ALUETURVA_TWILIO_AUTH_TOKEN" in output


@pytest.mark.parametrize("command", ["serve", "worker", "scheduler", "up"])
def test_the_service_refuses_to_start_with_the_development_key_on_a_public_address(
    tmp_path: Path, command: str
) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("ALUETURVA_")}
    env |= {
        "ALUETURVA_DATABASE_URL": f"sqlite:///{tmp_path / 'alueturva.db'}",
        "ALUETURVA_PUBLIC_BASE_URL": PUBLIC,
        "ALUETURVA_REDIS_URL": "redis://127.0.0.1:1/0",
    }
    args = [sys.executable, "-m", "alueturva", command, "--port", "1"] if command in ("serve", "up") else []
    args = args or [sys.executable, "-m", "alueturva", command]
    try:
        result = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`alueturva {command}` started instead of refusing")
    assert result.returncode == 2, result.stderr
    assert "ALUETURVA_SECRET_KEY" in result.stderr


def test_up_demo_makes_a_random_key_once_and_keeps_it(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from alueturva.app.cli import keep_demo_secret_key

    keep_demo_secret_key()
    env_file = tmp_path / ".env"
    [line] = [line for line in env_file.read_text().splitlines() if line.startswith("ALUETURVA_SECRET_KEY=")]
    key = line.split("=", 1)[1]
    assert len(key) >= 48 and key != DEVELOPMENT_SECRET_KEY
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    get_settings.cache_clear()
    clean_env.delenv("ALUETURVA_SECRET_KEY", raising=False)
    assert get_settings().secret_key.get_secret_value() == key  # every later command here reads it
    keep_demo_secret_key()
    assert env_file.read_text().count("ALUETURVA_SECRET_KEY=") == 1
