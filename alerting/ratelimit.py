"""One SMS send rate for all workers together (``ALUETURVA_SMS_RATE_PER_SECOND``).

A GCRA (generic cell rate algorithm) in reservation form: each caller reserves the next free send slot and sleeps
until it. With Redis configured the slot counter lives in Redis (one Lua script, Redis' own clock), so every worker
on every host shares it; otherwise it is a counter in this process.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from alueturva.settings import get_settings

# KEYS[1] the slot key; ARGV[1] the emission interval in microseconds. Returns the wait in microseconds.
_RESERVE_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', math.floor((wait + interval) / 1000) + 1000)
return wait
"""


class RateLimiter(Protocol):
    def acquire(self) -> None:
        """Block until this caller may send one message."""


class LocalRateLimiter:
    def __init__(self, rate_per_second: float) -> None:
        self._interval = 1.0 / rate_per_second
        self._next_slot = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(self._next_slot, now)
            self._next_slot = slot + self._interval
        if slot > now:
            time.sleep(slot - now)


class RedisRateLimiter:
    def __init__(self, redis_url: str, key: str, rate_per_second: float) -> None:
        from redis import Redis

        self._redis = Redis.from_url(redis_url)
        self._key = key
        self._interval_us = max(1, round(1_000_000 / rate_per_second))
        self._script = self._redis.register_script(_RESERVE_SLOT)

    def acquire(self) -> None:
        wait_us = int(self._script(keys=[self._key], args=[self._interval_us]))
        if wait_us > 0:
            time.sleep(wait_us / 1_000_000)


_limiter: tuple[tuple[object, ...], RateLimiter] | None = None
_limiter_lock = threading.Lock()


def sms_rate_limiter() -> RateLimiter:
    """The process' limiter for the current settings (Redis-backed when ``ALUETURVA_REDIS_URL`` is set)."""
    global _limiter
    settings = get_settings()
    key = (settings.redis_url, settings.queue_name, settings.sms_rate_per_second)
    with _limiter_lock:
        if _limiter is None or _limiter[0] != key:
            limiter: RateLimiter
            if settings.redis_url:
                limiter = RedisRateLimiter(
                    settings.redis_url, f"{settings.queue_name}:sms-rate", settings.sms_rate_per_second
                )
            else:
                limiter = LocalRateLimiter(settings.sms_rate_per_second)
            _limiter = (key, limiter)
        return _limiter[1]
