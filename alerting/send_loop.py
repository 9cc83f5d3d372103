"""The event loop a worker thread sends from, kept from one send job to the next with its provider connections.

``asyncio.run`` makes a new event loop per job, and with it a new HTTP connection pool to the provider (in
production a TLS handshake with api.twilio.com) and a new Redis connection for the shared rate limit. A worker that
runs its jobs itself (RQ's ``SimpleWorker``, the in-process queue's threads) keeps instead one loop per thread and the
channels made in it (issue 24). A job that raises out of the loop closes the loop with its channels, as
``asyncio.run`` would have: the next job starts afresh. Changed settings (tests) make new channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from alerting.channels import SmsSender, VoiceCaller, open_sms_sender, open_voice_caller
from alerting.ratelimit import RateLimiter, open_call_rate_limiter, open_sms_rate_limiter
from alueturva.queue import at_worker_thread_exit
from alueturva.settings import Settings, get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class WarmChannels:
    """The provider channels of one loop, each made when a job first needs it (inside the running loop)."""

    settings: Settings
    _sms: tuple[SmsSender, RateLimiter] | None = field(default=None, init=False)
    _voice: tuple[VoiceCaller, RateLimiter] | None = field(default=None, init=False)

    def sms(self) -> tuple[SmsSender, RateLimiter]:
        if self._sms is None:
            self._sms = open_sms_sender(connections=self.settings.send_concurrency), open_sms_rate_limiter()
        return self._sms

    def voice(self) -> tuple[VoiceCaller, RateLimiter]:
        if self._voice is None:
            self._voice = open_voice_caller(connections=self.settings.send_concurrency), open_call_rate_limiter()
        return self._voice

    async def close(self) -> None:
        for pair in (self._sms, self._voice):
            for channel in pair or ():
                await channel.close()
        self._sms = self._voice = None


class _ThreadLoop(threading.local):
    runner: asyncio.Runner | None = None
    channels: WarmChannels | None = None


_thread = _ThreadLoop()


def close_send_loop() -> None:
    """Close this thread's loop and its channels (best effort: the loop may have been interrupted)."""
    runner, channels = _thread.runner, _thread.channels
    _thread.runner = _thread.channels = None
    if runner is None:
        return
    if channels is not None:
        with contextlib.suppress(Exception):
            runner.run(channels.close())
    runner.close()


at_worker_thread_exit(close_send_loop)


def run_with_channels(job: Callable[[WarmChannels], Coroutine[Any, Any, T]]) -> T:
    """Run ``job(channels)`` to its end in this thread's send loop."""
    settings = get_settings()
    if _thread.channels is not None and _thread.channels.settings is not settings:
        close_send_loop()
    if _thread.runner is None:
        _thread.runner, _thread.channels = asyncio.Runner(), WarmChannels(settings)
    assert _thread.channels is not None
    try:
        return _thread.runner.run(job(_thread.channels))
    except BaseException:
        close_send_loop()
        raise
