"""One SMS send rate for all workers together (``ALUETURVA_SMS_RATE_PER_SECOND``), and one rate of calls started
(``ALUETURVA_VOICE_CALLS_PER_SECOND``: Twilio's calls-per-second limit of the account).

A GCRA (generic cell rate algorithm) in reservation form: each sender reserves the next free send slot and sleeps
until it. With Redis configured the slot counter lives in Redis (one Lua script, Redis' own clock), so every worker
on every host shares it; otherwise it is a counter in this process, shared by all its threads and event loops.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import Protocol

from alueturva.settings import get_settings

# KEYS[1] the slot key; ARGV[1] the emission interval in microseconds; ARGV[2] how many slots to reserve.
# Returns the wait in microseconds for the first of them; each next one is an interval later.
_RESERVE_SLOTS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local after = tat + interval * count
redis.call('SET', KEYS[1], tostring(after), 'PX', math.floor((after - now) / 1000) + 1000)
return tat - now
"""


class RateLimiter(Protocol):
    async def wait_turn(self) -> None:
        """Return when the caller may send one message."""

    async def close(self) -> None: ...


class LocalRateLimiter:
    def __init__(self, rate_per_second: float) -> None:
        self._interval = 1.0 / rate_per_second
        self._next_slot = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Reserve the next slot; the seconds to wait for it."""
        with self._lock:
            now = time.monotonic()
            slot = max(self._next_slot, now)
            self._next_slot = slot + self._interval
        return slot - now

    async def wait_turn(self) -> None:
        wait = self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)

    async def close(self) -> None:
        return None


class RedisRateLimiter:
    """Bound to the event loop it is made in (``redis.asyncio``).

    Senders that ask while a reservation is on its way to Redis wait for the next one, which reserves a slot for
    each of them in one call: one connection and one round trip per group instead of one each.
    """

    def __init__(self, redis_url: str, key: str, rate_per_second: float) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(redis_url)
        self._key = key
        self._interval_us = max(1, round(1_000_000 / rate_per_second))
        self._script = self._redis.register_script(_RESERVE_SLOTS)
        self._waiting: list[asyncio.Future[float]] = []
        self._reserver: asyncio.Task[None] | None = None

    async def wait_turn(self) -> None:
        turn: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        if self._reserver is None or self._reserver.done():
            self._reserver = asyncio.create_task(self._reserve_for_waiting())
        wait = await turn
        if wait > 0:
            await asyncio.sleep(wait)

    async def _reserve_for_waiting(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                first_us = int(await self._script(keys=[self._key], args=[self._interval_us, len(group)]))
            except Exception as exc:  # each sender handles it like any failed send: retried later
                for turn in group:
                    if not turn.done():
                        turn.set_exception(exc)
                continue
            for position, turn in enumerate(group):
                if not turn.done():
                    turn.set_result((first_us + position * self._interval_us) / 1_000_000)

    async def close(self) -> None:
        if self._reserver is not None:
            self._reserver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reserver
        await self._redis.aclose()


_local: dict[str, tuple[float, LocalRateLimiter]] = {}
_local_lock = threading.Lock()


def _local_limiter(kind: str, rate_per_second: float) -> LocalRateLimiter:
    with _local_lock:
        if kind not in _local or _local[kind][0] != rate_per_second:
            _local[kind] = (rate_per_second, LocalRateLimiter(rate_per_second))
        return _local[kind][1]


def _open_rate_limiter(kind: str, rate_per_second: float) -> RateLimiter:
    settings = get_settings()
    if settings.redis_url:
        return RedisRateLimiter(settings.redis_url, f"{settings.queue_name}:{kind}-rate", rate_per_second)
    return _local_limiter(kind, rate_per_second)


def open_sms_rate_limiter() -> RateLimiter:
    """The SMS limiter for the running event loop: Redis-backed when ``ALUETURVA_REDIS_URL`` is set."""
    return _open_rate_limiter("sms", get_settings().sms_rate_per_second)


def open_call_rate_limiter() -> RateLimiter:
    """The limiter of calls started, for the running event loop: Redis-backed when ``ALUETURVA_REDIS_URL`` is set."""
    return _open_rate_limiter("voice", get_settings().voice_calls_per_second)
