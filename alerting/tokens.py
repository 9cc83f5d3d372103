"""Acknowledgement link tokens: signed (itsdangerous), bound to one recipient of one alert, single-purpose, expiring.

A token carries the recipient's random ``link_nonce`` (stored with the recipient) besides the alert and recipient
ids: those are small integers, so with the secret key alone anyone could sign them; the nonce cannot be guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from alueturva.settings import get_settings

_SALT = "alueturva.alerting.ack-link.v2"


class TokenExpired(Exception):
    pass


class TokenInvalid(Exception):
    pass


@dataclass(frozen=True)
class AckToken:
    alert_id: int
    recipient_id: int
    nonce: str


class LinkHolder(Protocol):
    """A recipient, as far as its link is concerned."""

    @property
    def id(self) -> int: ...

    @property
    def alert_id(self) -> int: ...

    @property
    def link_nonce(self) -> str: ...


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key.get_secret_value(), salt=_SALT)


def make_ack_token(*, alert_id: int, recipient_id: int, nonce: str) -> str:
    return _serializer().dumps([alert_id, recipient_id, nonce])


def read_ack_token(token: str) -> AckToken:
    """The recipient a token stands for; raises ``TokenExpired`` or ``TokenInvalid`` (tampered, wrong purpose).
    The caller compares ``nonce`` with the recipient's own."""
    try:
        payload = _serializer().loads(token, max_age=get_settings().ack_token_max_age_seconds)
    except SignatureExpired as exc:
        raise TokenExpired from exc
    except BadSignature as exc:
        raise TokenInvalid from exc
    if not isinstance(payload, list) or len(payload) != 3:
        raise TokenInvalid
    alert_id, recipient_id, nonce = payload
    ids_ok = all(isinstance(part, int) and not isinstance(part, bool) for part in (alert_id, recipient_id))
    if not ids_ok or not isinstance(nonce, str):
        raise TokenInvalid
    return AckToken(alert_id=alert_id, recipient_id=recipient_id, nonce=nonce)


def ack_path(recipient: LinkHolder) -> str:
    token = make_ack_token(alert_id=recipient.alert_id, recipient_id=recipient.id, nonce=recipient.link_nonce)
    return f"/ack/{token}"


def ack_url(recipient: LinkHolder) -> str:
    return get_settings().public_base_url.rstrip("/") + ack_path(recipient)
