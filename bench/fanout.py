"""Fan-out benchmark (issues 3 and 24): how fast one alert reaches the SMS provider, against a naive sending loop
and, in the same run, with each worker model.

Starts the whole stack itself (its own PostgreSQL database, a private Redis, four `alueturva worker` processes, the
scheduler, an API server, and the fake Twilio answering after 50 ms in its own process), sends an alert to 1,000
and then 10,000 people with ``POST /api/v1/alerts`` and prints, for each: the time from the POST to the first and
to the last provider request, deliveries per second and each worker's peak memory. It does so twice, on a stack
whose workers fork a work horse per job (``alueturva worker --fork``) and on one whose workers run jobs themselves
(the default), and compares them. Then it sends the same 1,000 messages with a naive loop of
``client.messages.create`` (the real SDK against the same fake) for comparison.

    python -m bench.fanout [--sizes 1000 10000] [--naive 1000] [--rate 1000] [--models fork simple]

Targets on the 2-core reference machine (issue 24): 1,000 all sent within 1 s (at least 15x the naive loop),
10,000 within 8 s, the first SMS within 0.2 s of the POST, each worker under 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select

from bench.stack import (
    TWILIO_FROM,
    NoQueue,
    Stack,
    add_people,
    api_key,
    bench_database,
    cpu_seconds,
    database_cpu,
    database_cpu_seconds,
    megabytes,
    mobile_number,
    running_stack,
    wait_until,
)
from loopback.processes import PeakMemory
from loopback.twilio_server import loopback_client

RESULTS_DIR = Path(__file__).parent / "results"
SETTLED_TIMEOUT = 180.0


@dataclass
class FanoutResult:
    recipients: int
    post_seconds: float
    first_request_seconds: float
    last_request_seconds: float
    all_recorded_seconds: float
    deliveries_per_second: float
    provider_requests: int
    accepted: int
    duplicates: int
    not_sent: int
    worker_peak_mb: list[float]
    worker_cpu_ms_per_delivery: float
    api_cpu_seconds: float
    cpu_by_part: dict[str, float]
    first_job_enqueued_seconds: float | None
    first_job_started_seconds: float | None


def open_deliveries(database_url: str, alert_id: int) -> int:
    from alerting.models import Delivery, DeliveryState

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.scalar(
                    select(func.count(Delivery.id)).where(
                        Delivery.alert_id == alert_id,
                        Delivery.state.in_([DeliveryState.queued, DeliveryState.sending]),
                    )
                )
                or 0
            )
    finally:
        engine.dispose()


def deliveries_by_state(database_url: str, alert_id: int) -> dict[str, int]:
    from alerting.models import Delivery

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Delivery.state, func.count(Delivery.id))
                .where(Delivery.alert_id == alert_id)
                .group_by(Delivery.state)
            ).all()
            return {str(state): int(count) for state, count in rows}
    finally:
        engine.dispose()


def first_job_times(stack: Stack, since: float) -> tuple[float | None, float | None]:
    """When the first send job of this run was enqueued and started (RQ's own records), in ``time.time()``."""
    from redis import Redis
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    connection = Redis.from_url(stack.redis.url)
    try:
        registry = FinishedJobRegistry(stack.env["ALUETURVA_QUEUE_NAME"], connection=connection)
        jobs = [job for job in Job.fetch_many(registry.get_job_ids(), connection=connection) if job is not None]
        enqueued = [job.enqueued_at.timestamp() for job in jobs if job.enqueued_at]
        started = [job.started_at.timestamp() for job in jobs if job.started_at]
        first_enqueued = min((t for t in enqueued if t >= since), default=None)
        first_started = min((t for t in started if t >= since), default=None)
        return first_enqueued, first_started
    finally:
        connection.close()


def run_fanout(stack: Stack, key: str, people: list[int]) -> FanoutResult:
    stack.fake.reset()
    memory = PeakMemory([worker.pid for worker in stack.workers]).start()
    cpu_before = [cpu_seconds(worker.pid) for worker in stack.workers]
    api_cpu_before = cpu_seconds(stack.api.pid)
    parts_before = cpu_by_part(stack)
    database_before = database_cpu(stack.database_url)
    body = {
        "title": "Benchmark",
        "message": "HARJOITUS: tämä on kuormitustesti. Ei toimenpiteitä.",
        "targets": {"people": people},
        "channels": ["sms"],
        "exercise": True,
        "idempotency_key": f"bench-{uuid.uuid4().hex}",
    }
    with httpx.Client(base_url=stack.api.url, timeout=120) as http:
        posted_at = time.time()
        response = http.post("/api/v1/alerts", json=body, headers={"Authorization": f"Bearer {key}"})
        answered_at = time.time()
    response.raise_for_status()
    alert_id = int(response.json()["id"])
    count = len(people)

    wait_until(
        lambda: stack.fake.stats()["accepted"] >= count,
        timeout=SETTLED_TIMEOUT,
        every=0.05,
        what=f"{count} messages accepted by the provider",
    )
    recorded_at = wait_until(
        lambda: open_deliveries(stack.database_url, alert_id) == 0,
        timeout=SETTLED_TIMEOUT,
        what="every delivery recorded",
    )
    peaks = memory.stop()
    parts = {part: cpu - parts_before[part] for part, cpu in cpu_by_part(stack).items()}
    parts["PostgreSQL"] = database_cpu_seconds(stack.database_url, database_before)
    worker_cpu = sum(cpu_seconds(w.pid) - before for w, before in zip(stack.workers, cpu_before, strict=True))
    stats = stack.fake.stats()
    states = deliveries_by_state(stack.database_url, alert_id)
    job_enqueued, job_started = first_job_times(stack, posted_at)
    last = stats["last_request_at"] - posted_at
    return FanoutResult(
        recipients=count,
        post_seconds=answered_at - posted_at,
        first_request_seconds=stats["first_request_at"] - posted_at,
        last_request_seconds=last,
        all_recorded_seconds=recorded_at - posted_at,
        deliveries_per_second=count / last if last > 0 else float("inf"),
        provider_requests=stats["request_count"],
        accepted=stats["accepted"],
        duplicates=stats["accepted"] - stats["distinct_to"],
        not_sent=count - states.get("sent", 0) - states.get("delivered", 0),
        worker_peak_mb=[round(megabytes(peaks[worker.pid]), 1) for worker in stack.workers],
        worker_cpu_ms_per_delivery=worker_cpu * 1000 / count,
        api_cpu_seconds=cpu_seconds(stack.api.pid) - api_cpu_before,
        cpu_by_part=parts,
        first_job_enqueued_seconds=None if job_enqueued is None else job_enqueued - posted_at,
        first_job_started_seconds=None if job_started is None else job_started - posted_at,
    )


def cpu_by_part(stack: Stack) -> dict[str, float]:
    """CPU seconds so far of each part of the stack on these cores (the database's: ``database_cpu``)."""
    parts = {
        "workers": sum(cpu_seconds(worker.pid) for worker in stack.workers),
        "API server": cpu_seconds(stack.api.pid),
        "loopback provider": cpu_seconds(stack.fake.pid),
        "Redis": cpu_seconds(stack.redis.pid),
    }
    if stack.scheduler is not None:
        parts["scheduler"] = cpu_seconds(stack.scheduler.pid)
    return parts


def run_naive_loop(stack: Stack, count: int) -> float:
    """The same messages sent one after another with the SDK, as a simple script would; its duration."""
    client = loopback_client(stack.fake.base_url)
    callback = stack.env["ALUETURVA_PUBLIC_BASE_URL"] + "/webhooks/twilio/status"
    started = time.perf_counter()
    for n in range(count):
        client.messages.create(
            to=mobile_number(n),
            from_=TWILIO_FROM,
            body="HARJOITUS: tämä on kuormitustesti. Ei toimenpiteitä.",
            status_callback=callback,
        )
    return time.perf_counter() - started


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def print_result(result: FanoutResult, rate: float) -> None:
    n = result.recipients
    target_last = 1.0 if n <= 1000 else 8.0
    print(f"\n== fan-out to {n:,} recipients ==")
    print(f"  POST answered after            {result.post_seconds:8.3f} s")
    if result.first_job_enqueued_seconds is not None and result.first_job_started_seconds is not None:
        print(f"  first send job enqueued after  {result.first_job_enqueued_seconds:8.3f} s (alert committed)")
        print(f"  first send job started after   {result.first_job_started_seconds:8.3f} s")
    print(
        f"  first provider request after   {result.first_request_seconds:8.3f} s   "
        f"(target < 0.2 s: {verdict(result.first_request_seconds < 0.2)})"
    )
    print(
        f"  last provider request after    {result.last_request_seconds:8.3f} s   "
        f"(target < {target_last:.0f} s: {verdict(result.last_request_seconds < target_last)})"
    )
    print(f"  the SMS rate limit alone       {(n - 1) / rate:8.3f} s   (the first to the last of {n:,} at {rate:g}/s)")
    print(f"  every delivery recorded after  {result.all_recorded_seconds:8.3f} s")
    print(f"  deliveries per second          {result.deliveries_per_second:8.1f}")
    print(
        f"  provider requests {result.provider_requests}, accepted {result.accepted}, "
        f"duplicates {result.duplicates}, not sent {result.not_sent}"
    )
    print(f"  worker CPU per delivery        {result.worker_cpu_ms_per_delivery:8.2f} ms (all workers together)")
    print(f"  API server CPU for the POST    {result.api_cpu_seconds:8.3f} s")
    total = sum(result.cpu_by_part.values())
    print(
        f"  CPU until every delivery was recorded: {total:.1f} s in {result.all_recorded_seconds:.1f} s "
        f"({total / result.all_recorded_seconds:.2f} of {os.cpu_count()} cores busy)"
    )
    for part, seconds in sorted(result.cpu_by_part.items(), key=lambda item: -item[1]):
        print(f"    {part:<20} {seconds:7.2f} s  {seconds * 1000 / n:6.2f} ms per delivery")
    for number, peak in enumerate(result.worker_peak_mb, start=1):
        print(f"  worker {number} peak memory         {peak:8.1f} MB   (target < 200 MB: {verdict(peak < 200)})")


WORKER_MODELS = {"fork": "forked work horse per job (RQ Worker, --fork)", "simple": "jobs in the worker (SimpleWorker)"}


def run_model(
    url: str, key: str, people: list[int], args: argparse.Namespace, model: str, *, naive: int
) -> tuple[list[FanoutResult], float | None]:
    """Every size on a fresh stack whose workers follow ``model`` (``fork`` or ``simple``), then ``naive``
    messages with the naive loop against the same fake provider (0: none)."""
    print(f"\n#### workers: {WORKER_MODELS[model]} (load average now {os.getloadavg()[0]:.2f})")
    results: list[FanoutResult] = []
    with running_stack(
        url,
        workers=args.workers,
        forking_workers=model == "fork",
        twilio_latency=args.latency,
        sms_rate_per_second=args.rate,
    ) as stack:
        run_fanout(stack, key, people[: args.warmup])  # a running service is warm: not measured
        if args.profile:
            profile_send_job(stack, people[-1000:], args.profile)
        for size in args.sizes:
            result = run_fanout(stack, key, people[:size])
            print_result(result, args.rate)
            results.append(result)
        return results, run_naive_loop(stack, naive) if naive else None


def profile_send_job(stack: Stack, people: list[int], top: int) -> None:
    """One send job of ``len(people)`` SMS in this process under cProfile, against the stack's fake provider and
    database (the alert made and its chunks written first, not profiled): the job's CPU per delivery and its
    costliest functions by their own time. A worker runs the same code; py-spy could not read the workers here."""
    import cProfile
    import pstats

    from alerting.audience import add_audience
    from alerting.dispatch import send_batch
    from alerting.flows import create_alert
    from alerting.models import Delivery
    from alerting.schemas import AlertCreate
    from alerting.send_loop import close_send_loop
    from alueturva.db import Database, set_database
    from alueturva.queue import set_queue
    from alueturva.settings import get_settings

    os.environ.update(stack.env)
    get_settings.cache_clear()
    database = Database(stack.database_url)
    set_database(database)
    set_queue(NoQueue())  # type: ignore[arg-type]
    request = AlertCreate(title="Profile", message="HARJOITUS", targets={"people": people}, channels=["sms"])
    alert_id = create_alert(request, actor="bench").alert_id
    add_audience(alert_id)
    with database.session() as session:
        ids = list(session.scalars(select(Delivery.id).where(Delivery.alert_id == alert_id)))
    send_batch(ids[:20])  # the job's loop, connections and statements warm, as in a running worker
    profiler = cProfile.Profile(time.process_time)  # CPU, not wall time: the job's threads wait on each other
    cpu = time.process_time()
    profiler.runcall(send_batch, ids[20:])
    cpu_ms = (time.process_time() - cpu) * 1000 / (len(ids) - 20)
    print(f"\n== one send job of {len(ids) - 20:,} SMS under cProfile: {cpu_ms:.2f} ms of CPU per delivery ==")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)
    close_send_loop()
    set_queue(None)
    set_database(None)


def print_comparison(by_model: dict[str, list[FanoutResult]]) -> None:
    if set(by_model) != set(WORKER_MODELS):
        return
    print("\n== forked work horse per job against jobs in the worker, same run ==")
    print(f"  {'recipients':>10}  {'first SMS fork/simple':>24}  {'last SMS fork/simple':>24}  {'CPU/delivery':>22}")
    for fork, simple in zip(by_model["fork"], by_model["simple"], strict=True):
        print(
            f"  {fork.recipients:>10,}  {fork.first_request_seconds:9.3f} / {simple.first_request_seconds:6.3f} s"
            f"  {fork.last_request_seconds:9.3f} / {simple.last_request_seconds:6.3f} s"
            f"  {fork.worker_cpu_ms_per_delivery:6.2f} / {simple.worker_cpu_ms_per_delivery:5.2f} ms"
            f"   last SMS {fork.last_request_seconds / simple.last_request_seconds:.2f}x sooner"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], help="recipients per alert")
    parser.add_argument("--naive", type=int, default=1000, help="messages in the naive loop (0 to skip)")
    parser.add_argument("--workers", type=int, default=4, help="alueturva worker processes")
    parser.add_argument(
        "--models", nargs="+", choices=list(WORKER_MODELS), default=["fork", "simple"], help="worker models, in order"
    )
    parser.add_argument("--latency", type=float, default=0.05, help="fake Twilio answer latency, seconds")
    parser.add_argument("--warmup", type=int, default=20, help="recipients of a first, unmeasured alert")
    parser.add_argument("--rate", type=float, default=1000.0, help="ALUETURVA_SMS_RATE_PER_SECOND for the run")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="profile one send job of 1,000 SMS: its N costliest functions",
    )
    args = parser.parse_args()

    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} CPUs, load average before the run {load:.2f}")
    print(
        f"stack: PostgreSQL, private Redis, {args.workers} workers, scheduler, 1 API server, fake Twilio "
        f"answering after {args.latency * 1000:.0f} ms; SMS rate limit {args.rate:g}/s"
    )
    by_model: dict[str, list[FanoutResult]] = {}
    naive_seconds: float | None = None
    with bench_database() as url:
        people = add_people(url, max([*args.sizes, args.warmup]))
        key = api_key(url)
        for model in args.models:
            naive = args.naive if model == args.models[-1] else 0
            by_model[model], naive_seconds = run_model(url, key, people, args, model, naive=naive)
    print_comparison(by_model)

    summary: dict[str, object] = {
        "results": {model: [asdict(r) for r in results] for model, results in by_model.items()},
        "rate": args.rate,
        "load": load,
        "workers": args.workers,
    }
    if naive_seconds is not None:
        print(f"\n== naive loop of client.messages.create, {args.naive:,} messages ==")
        print(f"  took                            {naive_seconds:8.3f} s ({args.naive / naive_seconds:.1f}/s)")
        same = next((r for r in by_model[args.models[-1]] if r.recipients == args.naive), None)
        if same is not None:
            ratio = naive_seconds / same.last_request_seconds
            print(f"  stack is {ratio:.1f}x faster      (target >= 15x: {verdict(ratio >= 15)})")
            summary["naive_ratio"] = ratio
        summary["naive_seconds"] = naive_seconds
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"fanout-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(summary, indent=2))
    print(f"\nfigures saved to {out}")


if __name__ == "__main__":
    main()
