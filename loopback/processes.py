"""Real service processes for tests and benchmarks: a private redis-server, `alueturva worker` (RQ workers),
`alueturva serve` (uvicorn API servers) and `alueturva scheduler`.

Every process writes its output to a log file, so that a failing test can show what a worker said; use
``ServiceProcess.log_tail()``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import httpx

from loopback.ports import free_port, wait_for_port

REPO_ROOT = Path(__file__).resolve().parents[1]


def alueturva_command(*args: str) -> list[str]:
    """``alueturva ARGS`` from the same environment as this interpreter."""
    script = Path(sys.executable).with_name("alueturva")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from alueturva.app.cli import main; main()", *args]


def service_env(
    *,
    database_url: str | None = None,
    redis_url: str | None = None,
    queue_name: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """This process's environment (with its ``ALUETURVA_*`` settings) plus the given overrides."""
    env = dict(os.environ)
    overrides = {
        "ALUETURVA_DATABASE_URL": database_url,
        "ALUETURVA_REDIS_URL": redis_url,
        "ALUETURVA_QUEUE_NAME": queue_name,
    }
    env.update({key: value for key, value in overrides.items() if value is not None})
    env.update(extra or {})
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def terminate(process: subprocess.Popen[bytes] | None, *, timeout: float = 10) -> None:
    """Stop a child process politely, then firmly if it has not gone within ``timeout`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class RedisServer:
    """A private ``redis-server`` on a free loopback port, without persistence (safe to FLUSHALL or kill)."""

    def __init__(self, *, port: int | None = None, workdir: Path | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._workdir = workdir or Path(tempfile.mkdtemp(prefix="alueturva-redis-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None, "redis-server is not running"
        return self._process.pid

    def start(self) -> RedisServer:
        command = [
            "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self._workdir),
            "--logfile", str(self._workdir / "redis.log"),
        ]  # fmt: skip
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, timeout=10, process=self._process)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        from redis import Redis
        from redis.exceptions import BusyLoadingError, ConnectionError

        client = Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except (ConnectionError, BusyLoadingError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
        finally:
            client.close()

    def flushall(self) -> None:
        from redis import Redis

        client = Redis.from_url(self.url)
        try:
            client.flushall()
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL the server: everything it held is gone and its port refuses connections."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._process = None

    def restart(self) -> RedisServer:
        """Kill the server and start an empty one on the same port."""
        self.kill()
        return self.start()

    def stop(self) -> None:
        terminate(self._process)
        self._process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class ServiceProcess:
    """One ``alueturva ...`` subprocess with its own log file."""

    def __init__(self, args: list[str], env: Mapping[str, str], log_path: Path, name: str) -> None:
        self.args = args
        self.name = name
        self.log_path = log_path
        self._env = dict(env)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                alueturva_command(*self.args),
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO_ROOT,
                start_new_session=True,
            )
        return self

    @property
    def process(self) -> subprocess.Popen[bytes]:
        assert self._process is not None, f"{self.name} was not started"
        return self._process

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def kill9(self) -> None:
        """SIGKILL the process and every process it started, as when its machine dies: no cleanup at all.

        An RQ worker's work horse runs in a session of its own (RQ calls ``setsid``), so the family is found
        through the process tree: the parent is stopped first so that it cannot fork while it is collected.
        """
        if not self.alive():
            return
        import psutil

        os.kill(self.pid, signal.SIGSTOP)
        try:
            family = psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            family = []
        os.killpg(self.pid, signal.SIGKILL)
        for child in family:
            with contextlib.suppress(psutil.Error):
                child.kill()
        self.process.wait()
        psutil.wait_procs(family, timeout=5)

    def terminate(self, timeout: float = 15) -> None:
        """SIGTERM (an RQ worker finishes its current job first), then SIGKILL after ``timeout``."""
        if not self.alive():
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


class WorkerProcess(ServiceProcess):
    """A real ``alueturva worker``: an RQ worker with its scheduler, on the environment's queue (``fork``: a work
    horse forked per job, ``alueturva worker --fork``)."""

    def __init__(self, env: Mapping[str, str], log_path: Path, name: str = "worker", *, fork: bool = False) -> None:
        super().__init__(["worker", "--fork"] if fork else ["worker"], env, log_path, name)

    def wait_registered(self, redis_url: str, queue_name: str, timeout: float = 30) -> None:
        """Wait until RQ lists this worker on the queue (it is then taking jobs)."""
        from redis import Redis
        from rq import Queue, Worker

        client = Redis.from_url(redis_url)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
                workers = Worker.all(queue=Queue(queue_name, connection=client))
                if any(worker.pid == self.pid for worker in workers):
                    return
                time.sleep(0.05)
        finally:
            client.close()
        raise TimeoutError(f"{self.name} did not register within {timeout} s:\n{self.log_tail()}")


class SchedulerProcess(ServiceProcess):
    """``alueturva scheduler``: the periodic sweepers of ``wiring.periodic_tasks()``."""

    def __init__(self, env: Mapping[str, str], log_path: Path, name: str = "scheduler") -> None:
        super().__init__(["scheduler"], env, log_path, name)


class ApiServer(ServiceProcess):
    """``alueturva serve`` (uvicorn) on a free loopback port; ``url`` is its base URL."""

    def __init__(self, env: Mapping[str, str], log_path: Path, *, workers: int = 1, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        env = {**env, "ALUETURVA_PUBLIC_BASE_URL": env.get("ALUETURVA_PUBLIC_BASE_URL", self.url)}
        super().__init__(args, env, log_path, "api")

    def start(self) -> ApiServer:
        super().start()
        self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"API server exited:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"API server not healthy within {timeout} s:\n{self.log_tail()}")


class EmbeddedServer(ApiServer):
    """``alueturva up``: the API, one in-process worker and the scheduler in one process (the embedded default)."""

    def __init__(self, env: Mapping[str, str], log_path: Path, *, port: int | None = None) -> None:
        super().__init__(env, log_path, port=port)
        self.args = ["up", "--host", "127.0.0.1", "--port", str(self.port)]
        self.name = "up"


class PeakMemory:
    """Samples the resident memory of processes and their children in a thread; ``peak``: bytes per pid.

    An RQ worker forks a work horse per job: a worker's figure is the larger of its own and its
    children's RSS.
    """

    def __init__(self, pids: list[int], *, every: float = 0.05) -> None:
        self.pids = pids
        self.peak: dict[int, int] = dict.fromkeys(pids, 0)
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="peak-memory", daemon=True)

    def _rss(self, pid: int) -> int:
        import psutil

        try:
            process = psutil.Process(pid)
            total = process.memory_info().rss
            for child in process.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total = max(total, child.memory_info().rss)
            return int(total)
        except psutil.Error:
            return 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], self._rss(pid))
            self._stop.wait(self._every)

    def start(self) -> PeakMemory:
        self._thread.start()
        return self

    def stop(self) -> dict[int, int]:
        self._stop.set()
        self._thread.join(timeout=5)
        return self.peak
