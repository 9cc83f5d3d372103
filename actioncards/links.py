"""A person's task link: signed (itsdangerous), single-purpose (its own salt), expiring, bound to one message of one
activation and to that message's random nonce (ids alone could be signed by anyone holding the secret key)."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from alueturva.settings import get_settings

_SALT = "alueturva.actioncards.task-link.v1"


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


@dataclass(frozen=True)
class TaskLink:
    message_id: int
    nonce: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key.get_secret_value(), salt=_SALT)


def make_token(*, message_id: int, nonce: str) -> str:
    return str(_serializer().dumps([message_id, nonce]))


def read_token(token: str) -> TaskLink:
    try:
        payload = _serializer().loads(token, max_age=get_settings().ack_token_max_age_seconds)
    except SignatureExpired as exc:
        raise LinkExpired from exc
    except BadSignature as exc:
        raise LinkInvalid from exc
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int)):
        raise LinkInvalid
    return TaskLink(message_id=payload[0], nonce=str(payload[1]))


def task_url(*, message_id: int, nonce: str) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/tasks/{make_token(message_id=message_id, nonce=nonce)}"
