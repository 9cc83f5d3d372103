"""Acknowledgement link tokens: signed (itsdangerous), bound to one recipient of one alert, single-purpose, expiring."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from alueturva.settings import get_settings

_SALT = "alueturva.alerting.ack-link.v1"


class TokenExpired(Exception):
    pass


class TokenInvalid(Exception):
    pass


@dataclass(frozen=True)
class AckToken:
    alert_id: int
    recipient_id: int


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key.get_secret_value(), salt=_SALT)


def make_ack_token(*, alert_id: int, recipient_id: int) -> str:
    return _serializer().dumps([alert_id, recipient_id])


def read_ack_token(token: str) -> AckToken:
    """The recipient a token stands for; raises ``TokenExpired`` or ``TokenInvalid`` (tampered, wrong purpose)."""
    try:
        payload = _serializer().loads(token, max_age=get_settings().ack_token_max_age_seconds)
    except SignatureExpired as exc:
        raise TokenExpired from exc
    except BadSignature as exc:
        raise TokenInvalid from exc
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not all(isinstance(part, int) and not isinstance(part, bool) for part in payload)
    ):
        raise TokenInvalid
    return AckToken(alert_id=payload[0], recipient_id=payload[1])


def ack_url(*, alert_id: int, recipient_id: int) -> str:
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}/ack/{make_ack_token(alert_id=alert_id, recipient_id=recipient_id)}"
