"""The job queue: RQ on Redis in production, an in-process queue in the embedded default.

Both run the same job functions, given as importable module-level callables with JSON-friendly arguments.
The database stays the source of truth: a job that is lost (Redis flushed, worker killed) is found again by the
sweepers, so the queue only needs to be fast, not durable.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from alueturva.db import utcnow

log = logging.getLogger(__name__)

Job = Callable[..., Any]


class JobQueue(Protocol):
    def enqueue(self, func: Job, *args: Any, job_id: str | None = None, delay: timedelta | None = None) -> None:
        """Run ``func(*args)`` on a worker, after ``delay`` if given. A job id already queued is not queued again."""

    def enqueue_many(self, func: Job, args_list: list[tuple[Any, ...]]) -> None:
        """Run ``func(*args)`` for each ``args`` now; queued together (one round trip where the queue allows)."""

    def ping(self) -> bool: ...

    def close(self) -> None: ...


# RQ keeps a finished job's record briefly and a failed one for a day (for `rq info` and post-mortems).
_RQ_JOB_OPTIONS: dict[str, Any] = {"result_ttl": 60, "failure_ttl": 24 * 3600}


class RQQueue:
    def __init__(self, redis_url: str, name: str) -> None:
        from redis import Redis
        from rq import Queue

        self.redis = Redis.from_url(redis_url)
        self.queue = Queue(name, connection=self.redis)

    def enqueue(self, func: Job, *args: Any, job_id: str | None = None, delay: timedelta | None = None) -> None:
        options: dict[str, Any] = {"job_id": job_id, **_RQ_JOB_OPTIONS}
        if delay is not None and delay > timedelta(0):
            self.queue.enqueue_in(delay, func, *args, **options)
        else:
            self.queue.enqueue(func, *args, **options)

    def enqueue_many(self, func: Job, args_list: list[tuple[Any, ...]]) -> None:
        """Queue many jobs in one round trip (a fan-out of thousands)."""
        from rq import Queue

        self.queue.enqueue_many([Queue.prepare_data(func, args=args, **_RQ_JOB_OPTIONS) for args in args_list])

    def ping(self) -> bool:
        try:
            return bool(self.redis.ping())
        except Exception:
            return False

    def close(self) -> None:
        self.redis.close()


class InProcessQueue:
    """Worker threads and a timer heap inside this process (embedded default and single-process tests)."""

    def __init__(self, workers: int = 4) -> None:
        self._heap: list[tuple[datetime, int, Job, tuple[Any, ...], str | None]] = []
        self._queued_ids: set[str] = set()
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._running = 0
        self._threads = [
            threading.Thread(target=self._work, name=f"alueturva-worker-{n}", daemon=True) for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def enqueue(self, func: Job, *args: Any, job_id: str | None = None, delay: timedelta | None = None) -> None:
        due = utcnow() + (delay or timedelta(0))
        with self._cond:
            if job_id is not None:
                if job_id in self._queued_ids:
                    return
                self._queued_ids.add(job_id)
            heapq.heappush(self._heap, (due, next(self._counter), func, args, job_id))
            self._cond.notify()

    def enqueue_many(self, func: Job, args_list: list[tuple[Any, ...]]) -> None:
        for args in args_list:
            self.enqueue(func, *args)

    def _next_job(self) -> tuple[Job, tuple[Any, ...]] | None:
        with self._cond:
            while not self._closed:
                if self._heap:
                    wait = (self._heap[0][0] - utcnow()).total_seconds()
                    if wait <= 0:
                        _, _, func, args, job_id = heapq.heappop(self._heap)
                        if job_id is not None:
                            self._queued_ids.discard(job_id)
                        self._running += 1
                        return func, args
                    self._cond.wait(timeout=wait)
                else:
                    self._cond.wait()
            return None

    def _work(self) -> None:
        while (job := self._next_job()) is not None:
            func, args = job
            try:
                func(*args)
            except Exception:
                log.exception("job failed", extra={"job": f"{func.__module__}.{func.__qualname__}"})
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()
        worker_thread_exiting()

    def join(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is due or running (tests); delayed jobs further in the future are not waited for."""
        deadline = utcnow() + timedelta(seconds=timeout)
        with self._cond:
            while self._running or (self._heap and self._heap[0][0] <= utcnow()):
                remaining = (deadline - utcnow()).total_seconds()
                if remaining <= 0:
                    return False
                self._cond.wait(timeout=min(remaining, 0.05))
        return True

    def ping(self) -> bool:
        return not self._closed

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)


_queue: JobQueue | None = None
_queue_lock = threading.Lock()
_thread_exit_hooks: list[Callable[[], None]] = []


def at_worker_thread_exit(hook: Callable[[], None]) -> None:
    """Run ``hook`` in each thread that runs jobs as it stops (an in-process queue's thread, ``alueturva worker``):
    a domain closes what it keeps for the thread from one job to the next (alerting's send loop)."""
    if hook not in _thread_exit_hooks:
        _thread_exit_hooks.append(hook)


def worker_thread_exiting() -> None:
    for hook in _thread_exit_hooks:
        try:
            hook()
        except Exception:
            log.exception("closing a worker thread's resources failed")


def get_queue() -> JobQueue:
    global _queue
    with _queue_lock:
        if _queue is None:
            from alueturva.settings import get_settings

            settings = get_settings()
            _queue = RQQueue(settings.redis_url, settings.queue_name) if settings.redis_url else InProcessQueue()
        return _queue


def set_queue(queue: JobQueue | None) -> None:
    global _queue
    with _queue_lock:
        if _queue is not None and _queue is not queue:
            _queue.close()
        _queue = queue


REDIS_LOST_PAUSE_SECONDS = 2.0


def run_worker(*, burst: bool = False, fork: bool = False) -> None:
    """``alueturva worker``: an RQ worker on the configured queue (with RQ's scheduler for delayed jobs).

    It runs every job in its own process (RQ's ``SimpleWorker``), so the database pool, the imported modules and
    the compiled statements stay warm from one job to the next; a forked work horse per job (RQ's ``Worker``,
    ``fork=True``) costs 25–40 ms per job. A job's isolation comes from its own error handling (a send job that
    fails hands its unsent deliveries back, ``alerting.dispatch``), and RQ's job time-out works without a horse: an
    alarm signal in this process raises inside the job. A killed worker loses nothing either way: the database holds
    every claimed delivery, and the sweeper hands it on when its lease runs out.

    RQ retries its own dequeueing while Redis is away, but a connection that breaks at some other step ends
    ``work()``: by raising, or by returning after RQ logs "found an unhandled exception, quitting". Making a worker
    while Redis is away fails too. Unless it was asked to stop (SIGTERM/SIGINT) or runs in burst mode, the worker
    then starts again here (every ``REDIS_LOST_PAUSE_SECONDS``) instead of exiting. The database holds every
    delivery, so nothing depends on the record RQ could not write.
    """
    import signal
    import time

    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from rq import Queue, SimpleWorker, Worker
    from rq.worker import BaseWorker

    from alueturva.settings import get_settings

    class RemembersStop(BaseWorker):
        """Remembers whether a stop signal ended its loop (RQ's own flag is set only when a job is running)."""

        stop_signalled = False

        def request_stop(self, signum: Any, frame: Any) -> None:
            self.stop_signalled = True
            super().request_stop(signum, frame)

    class InProcessWorker(RemembersStop, SimpleWorker):
        pass

    class ForkingWorker(RemembersStop, Worker):
        pass

    worker_class = ForkingWorker if fork else InProcessWorker
    settings = get_settings()
    if not settings.redis_url:
        raise RuntimeError("ALUETURVA_REDIS_URL is not set; the embedded default runs its worker inside `up`")
    while True:
        redis = Redis.from_url(settings.redis_url)
        try:
            # making the worker talks to Redis already (it names its connection): inside the retry too
            worker = worker_class([Queue(settings.queue_name, connection=redis)], connection=redis)
            worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")
            if burst or worker.stop_signalled:
                worker_thread_exiting()
                return
            log.warning("the worker loop ended without a stop request; starting again")
        except RedisConnectionError as exc:
            log.warning("lost Redis while working; starting again", extra={"error": type(exc).__name__})
        finally:
            redis.close()
        # RQ's signal handlers need a live worker; nothing runs during the pause, so a stop signal ends it at once
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        time.sleep(REDIS_LOST_PAUSE_SECONDS)
