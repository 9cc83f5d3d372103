"""Rate limits on what an attacker repeats: failed API-key authentications, failed console sign-ins, invalid
acknowledgement links, webhooks with a bad signature (docs/security.md). 429 with ``Retry-After``.

Failures are counted, and past the limit a failure is answered 429 instead of 401, 400 or 403; a valid key, link or
signature always goes through. Addresses are shared (a mobile operator's NAT in front of many phones, Twilio's
addresses in front of every Twilio customer's webhooks), so an attacker's noise must never lock out the people
acknowledging an alert. Legitimate requests therefore cost no limiter call at all.

Events are counted in a moving window of one minute per (limit, key) with the ``limits`` library: in Redis when
``ALUETURVA_REDIS_URL`` is set (so every API process shares the count), otherwise in this process's memory. A
limiter that cannot reach Redis lets requests through (and logs it): the limits guard against abuse, and an
outage of Redis must not lock out the people acknowledging an alert.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import weakref
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from alueturva.settings import get_settings

log = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class Limit:
    """At most ``per_minute`` events of this kind per key (a client address, a link) in any minute."""

    name: str
    per_minute: int


class Throttle:
    """Counts events per key; made inside the event loop that uses it (Redis connections belong to one loop)."""

    def __init__(self, redis_url: str | None, *, prefix: str) -> None:
        storage: Storage
        if redis_url:
            storage = RedisStorage(
                "async+" + redis_url,
                implementation="redispy",
                wrap_exceptions=True,
                key_prefix=prefix,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
            )
        else:
            storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(storage)

    async def _retry_after(self, item: Any, limit: Limit, key: str) -> float:
        stats = await self._limiter.get_window_stats(item, limit.name, key)
        return max(1.0, stats.reset_time - time.time())

    async def hit(self, limit: Limit, key: str) -> float | None:
        """Count one event; seconds until ``key`` may try again if this one went over the limit, else None."""
        item = RateLimitItemPerMinute(limit.per_minute)
        try:
            if await self._limiter.hit(item, limit.name, key):
                return None
            return await self._retry_after(item, limit, key)
        except Exception as exc:
            log.warning("rate limit not counted", extra={"limit": limit.name, "error": type(exc).__name__})
            return None

    async def blocked(self, limit: Limit, key: str) -> float | None:
        """Without counting: seconds until ``key`` may try again if it is already at the limit, else None (asked
        before costly work, such as checking a password, that a refused request must not cost)."""
        item = RateLimitItemPerMinute(limit.per_minute)
        try:
            if await self._limiter.test(item, limit.name, key):
                return None
            return await self._retry_after(item, limit, key)
        except Exception as exc:
            log.warning("rate limit not read", extra={"limit": limit.name, "error": type(exc).__name__})
            return None


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(math.ceil(seconds))}


def throttle_for(state: Any) -> Throttle:
    """The application's throttle for the running event loop, kept on the application's ``state`` (one loop per
    API process; a test may serve one application from several)."""
    throttles: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Throttle] | None = getattr(state, "throttles", None)
    if throttles is None:
        throttles = state.throttles = weakref.WeakKeyDictionary()
    loop = asyncio.get_running_loop()
    if loop not in throttles:
        settings = get_settings()
        throttles[loop] = Throttle(settings.redis_url, prefix=f"{settings.queue_name}:limits")
    return throttles[loop]


def client_address(scope: Any) -> str:
    """The client's address (behind a trusted proxy, the one it forwarded: ``ALUETURVA_FORWARDED_ALLOW_IPS``)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def auth_failures() -> Limit:
    return Limit("auth-failures", get_settings().auth_failures_per_minute)


def link_attempts() -> Limit:
    return Limit("link-attempts", get_settings().link_attempts_per_minute)


def link_failures() -> Limit:
    return Limit("link-failures", get_settings().link_failures_per_minute)


def login_failures() -> Limit:
    """Failed console sign-ins per client address."""
    return Limit("login-failures", get_settings().login_failures_per_minute)


def login_account_failures() -> Limit:
    """Failed console sign-ins per email and client address."""
    return Limit("login-account-failures", get_settings().login_account_failures_per_minute)


def login_account_slowdown() -> Limit:
    """Failed console sign-ins per email from every address; past it, each sign-in to that email waits a while."""
    return Limit("login-account-slowdown", get_settings().login_account_slowdown_per_minute)


def webhook_failures() -> Limit:
    return Limit("webhook-failures", get_settings().webhook_failures_per_minute)
