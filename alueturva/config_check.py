"""Every setting checked together before the service starts (`alueturva check-config`, also run by `serve`,
`worker`, `scheduler` and `up`): a list of what is wrong, each naming its variable, instead of the first error or a
service that starts and is unsafe.

The development secret key, or a short one, is accepted only by the local demo: a loopback public address with the
console SMS and email backends. Anywhere else anyone who knows the key could sign acknowledgement links.
"""

from __future__ import annotations

import ipaddress
import math
from collections import Counter
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from alueturva.settings import DEVELOPMENT_SECRET_KEY, Settings

MIN_SECRET_KEY_LENGTH = 32
# What the key's own characters show of its randomness (its length times the Shannon entropy of their frequencies):
# 32 random hex characters show about 120 bits, 32 spaces none, "password" four times 88.
MIN_SECRET_KEY_BITS = 96
MIN_METRICS_TOKEN_LENGTH = 16


def _variable(name: str) -> str:
    return f"ALUETURVA_{name.upper()}"


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_local_demo(settings: Settings) -> bool:
    """Served to this machine only, and nothing leaves it: a loopback public address, console SMS and email."""
    loopback = is_loopback_host(urlsplit(settings.public_base_url).hostname)
    consoles = settings.sms_backend == settings.email_backend == settings.voice_backend == "console"
    return loopback and consoles


def _secret_key_problems(settings: Settings) -> list[str]:
    if is_local_demo(settings):
        return []
    key = settings.secret_key.get_secret_value()
    if key == DEVELOPMENT_SECRET_KEY:
        return [
            "ALUETURVA_SECRET_KEY: the built-in development key is allowed only for the local demo (loopback "
            "address, console SMS, email and voice); with it anyone can sign acknowledgement links. Set at least "
            f"{MIN_SECRET_KEY_LENGTH} random characters, e.g. $(openssl rand -hex 32)"
        ]
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return [
            f"ALUETURVA_SECRET_KEY: {len(key)} characters is too short outside the local demo; "
            f"use at least {MIN_SECRET_KEY_LENGTH} random characters"
        ]
    if (bits := shown_randomness(key)) < MIN_SECRET_KEY_BITS:
        return [
            f"ALUETURVA_SECRET_KEY: its characters repeat too much to be random (about {bits:.0f} bits, at least "
            f"{MIN_SECRET_KEY_BITS} needed); use $(openssl rand -hex 32)"
        ]
    return []


def shown_randomness(key: str) -> float:
    """Bits of randomness a key's characters show at most: its length times the Shannon entropy of their
    frequencies (a key of one repeated character shows none)."""
    counts = Counter(key)
    return -sum(count * math.log2(count / len(key)) for count in counts.values())


def _public_url_problems(settings: Settings) -> list[str]:
    parts = urlsplit(settings.public_base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        return ["ALUETURVA_PUBLIC_BASE_URL: give the service's address as http(s)://host[:port][/path]"]
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        return ["ALUETURVA_PUBLIC_BASE_URL: a public address must be https (links carry tokens, Twilio signs it)"]
    return []


def _twilio_problems(settings: Settings) -> list[str]:
    token = settings.twilio_auth_token
    problems = []
    if token is not None and not token.get_secret_value():
        problems.append("ALUETURVA_TWILIO_AUTH_TOKEN: empty; leave it unset (every webhook is refused either way)")
    if settings.sms_backend != "twilio":
        return problems
    if not settings.twilio_account_sid:
        problems.append("ALUETURVA_TWILIO_ACCOUNT_SID: needed by SMS_BACKEND=twilio")
    if token is None:
        problems.append("ALUETURVA_TWILIO_AUTH_TOKEN: needed by SMS_BACKEND=twilio")
    if not (settings.twilio_from or settings.twilio_messaging_service_sid):
        problems.append(
            "ALUETURVA_TWILIO_FROM or ALUETURVA_TWILIO_MESSAGING_SERVICE_SID: SMS_BACKEND=twilio needs a sender"
        )
    return problems


def _voice_problems(settings: Settings) -> list[str]:
    if settings.voice_backend != "twilio":
        return []
    problems = []
    if not settings.twilio_account_sid:
        problems.append("ALUETURVA_TWILIO_ACCOUNT_SID: needed by VOICE_BACKEND=twilio")
    if settings.twilio_auth_token is None:
        problems.append("ALUETURVA_TWILIO_AUTH_TOKEN: needed by VOICE_BACKEND=twilio")
    if not (settings.twilio_voice_from or settings.twilio_from):
        problems.append(
            "ALUETURVA_TWILIO_VOICE_FROM or ALUETURVA_TWILIO_FROM: VOICE_BACKEND=twilio needs the number calls "
            "come from"
        )
    return problems


def _address_problems(settings: Settings) -> list[str]:
    problems = []
    try:
        backend = make_url(settings.database_url).get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            problems.append(f"ALUETURVA_DATABASE_URL: '{backend}' is neither sqlite nor postgresql")
    except ArgumentError:
        problems.append("ALUETURVA_DATABASE_URL: not a database URL (sqlite:///… or postgresql+psycopg://…)")
    if settings.redis_url and urlsplit(settings.redis_url).scheme not in ("redis", "rediss", "unix"):
        problems.append("ALUETURVA_REDIS_URL: not a Redis URL (redis://host:6379/0)")
    if "@" not in settings.email_from:
        problems.append("ALUETURVA_EMAIL_FROM: not an email address")
    if settings.metrics_token is not None and len(settings.metrics_token.get_secret_value()) < MIN_METRICS_TOKEN_LENGTH:
        problems.append(f"ALUETURVA_METRICS_TOKEN: use at least {MIN_METRICS_TOKEN_LENGTH} random characters")
    return problems


def settings_problems(settings: Settings) -> list[str]:
    """What is wrong with these settings taken together; empty when the service may start."""
    return [
        *_secret_key_problems(settings),
        *_public_url_problems(settings),
        *_twilio_problems(settings),
        *_voice_problems(settings),
        *_address_problems(settings),
    ]


def load_problems() -> tuple[Settings | None, list[str]]:
    """The settings from the environment (and ``.env``), and every problem: values that cannot be read at all
    (named with their variable), then what ``settings_problems`` finds among the rest (the unreadable ones taken
    at their defaults for that), so that one run lists everything."""
    unreadable: dict[str, str] = {}
    try:
        settings = Settings()
    except ValidationError as exc:
        unreadable = {str(error["loc"][0]): error["msg"] for error in exc.errors() if error["loc"]}
        defaults = {name: Settings.model_fields[name].default for name in unreadable if name in Settings.model_fields}
        try:
            settings = Settings(**defaults)
        except ValidationError:
            return None, [f"{_variable(name)}: {message}" for name, message in unreadable.items()]
    problems = [f"{_variable(name)}: {message}" for name, message in unreadable.items()]
    return (None if unreadable else settings), problems + settings_problems(settings)
