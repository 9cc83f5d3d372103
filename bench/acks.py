"""Acknowledgement benchmark (issues 3 and 14): signed inbound SMS replies, or acknowledgement links, at 32
concurrent connections.

Starts the stack (its own PostgreSQL database, a private Redis, two workers, an API server process, the fake
Twilio), sends one alert to N people, waits until it is out, then has every one of them acknowledge, 32 requests at
a time (aiohttp client), and prints the throughput, the p50/p90/p99/max latency, the HTTP statuses (a 429 would be
a rate limit refusing a legitimate burst) and whether every acknowledgement was recorded.

- ``--via sms`` (default): each replies "OK" through ``POST /webhooks/twilio/sms`` with a valid
  ``X-Twilio-Signature`` (all from one address, as Twilio's requests come from its own range);
- ``--via link``: each presses the button of their acknowledgement link, ``POST /ack/{token}``, all from one
  address (the worst case for the per-address limits: a mobile operator's NAT puts every phone behind one).

    python -m bench.acks [--replies 3000] [--concurrency 32] [--api-workers 2] [--via sms|link]

Targets on the 2-core reference machine (issue 24): at least 600 acknowledgements per second, p99 at most 80 ms, at
most 3 ms of API CPU per acknowledgement, every acknowledgement recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import os
import pstats
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx
from sqlalchemy import create_engine, func, select

from bench.fanout import open_deliveries
from bench.stack import (
    Stack,
    add_people,
    api_key,
    bench_database,
    cpu_seconds,
    database_cpu,
    database_cpu_seconds,
    mobile_number,
    percentile,
    running_stack,
    wait_until,
)
from loopback.twilio_server import FakeTwilio

RESULTS_DIR = Path(__file__).parent / "results"
PROFILED_REPLIES = 600


def send_alert(stack: Stack, key: str, people: list[int]) -> int:
    body = {
        "title": "Kuittausharjoitus",
        "message": "HARJOITUS: kuittaa vastaamalla OK.",
        "targets": {"people": people},
        "channels": ["sms"],
        "exercise": True,
        "idempotency_key": f"bench-acks-{uuid.uuid4().hex}",
    }
    response = httpx.post(
        f"{stack.api.url}/api/v1/alerts", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=120
    )
    response.raise_for_status()
    alert_id = int(response.json()["id"])
    wait_until(lambda: open_deliveries(stack.database_url, alert_id) == 0, timeout=300, what="the alert sent")
    return alert_id


Request = tuple[str, dict[str, str], dict[str, str]]  # path, form, headers
SMS_PATH = "/webhooks/twilio/sms"


def signed_replies(stack: Stack, senders: list[str], body: str) -> list[Request]:
    """Each sender's reply, signed as Twilio signs them (an unstarted FakeTwilio signs)."""
    signer = FakeTwilio(account_sid=stack.fake.account_sid, auth_token=stack.fake.auth_token, port=0)
    url = f"{stack.env['ALUETURVA_PUBLIC_BASE_URL']}{SMS_PATH}"
    replies = []
    for sender in senders:
        params = signer.inbound_sms_params(from_=sender, body=body)
        replies.append((SMS_PATH, params, signer.signed(url, params)))
    return replies


def link_presses(stack: Stack, alert_id: int) -> list[Request]:
    """Each recipient's acknowledgement link, pressed (signed with the stack's secret key, as the emails are)."""
    from alerting.models import Recipient
    from alerting.tokens import ack_path
    from alueturva.settings import get_settings

    os.environ["ALUETURVA_SECRET_KEY"] = stack.env["ALUETURVA_SECRET_KEY"]
    get_settings.cache_clear()
    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            recipients = conn.execute(
                select(Recipient.id, Recipient.alert_id, Recipient.link_nonce)
                .where(Recipient.alert_id == alert_id)
                .order_by(Recipient.id)
            ).all()
    finally:
        engine.dispose()
    return [(ack_path(recipient), {"response": ""}, {}) for recipient in recipients]


async def post_all(
    base_url: str, replies: list[Request], concurrency: int, *, method: str = "POST"
) -> tuple[float, list[float], list[int]]:
    """POST every reply over ``concurrency`` connections; (wall seconds, latencies, status codes).

    The client is aiohttp: on a 2-core machine the load generator shares the CPU with the server, and httpx's
    AsyncClient costs about as much CPU per request as the server does, which would measure the client.
    """
    pending = list(reversed(replies))
    latencies: list[float] = []
    statuses: list[int] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base_url, connector=connector) as session:

        async def connection() -> None:
            while pending:
                path, form, headers = pending.pop()
                started = time.perf_counter()
                async with session.request(method, path, data=form, headers=headers) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                statuses.append(response.status)

        started = time.perf_counter()
        await asyncio.gather(*(connection() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies, statuses


def recorded(database_url: str, alert_id: int, method: str) -> tuple[int, int]:
    """(recipients of the alert acknowledged by ``method``, inbound messages recorded as acknowledgements)."""
    from alerting.models import AckMethod, InboundMessage, Recipient

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            acknowledged = conn.scalar(
                select(func.count(Recipient.id)).where(
                    Recipient.alert_id == alert_id,
                    Recipient.acknowledged_at.is_not(None),
                    Recipient.ack_method == AckMethod(method),
                )
            )
            inbound = conn.scalar(select(func.count(InboundMessage.id)).where(InboundMessage.outcome == "acknowledged"))
            return int(acknowledged or 0), int(inbound or 0)
    finally:
        engine.dispose()


def _asgi_call(path: str, form: dict[str, str], headers: dict[str, str]) -> tuple[dict[str, object], bytes]:
    """The ASGI scope and body of one signed reply, as uvicorn hands it to the application."""
    body = urlencode(form).encode()
    raw_headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in headers.items()),
    ]
    scope: dict[str, object] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    return scope, body


async def _through_application(app: Any, replies: list[Request], concurrency: int) -> None:
    """Each reply through the whole application (middleware, routing, form, the route and its database thread),
    ``concurrency`` at a time, without an HTTP server."""
    pending = list(reversed(replies))

    async def one(scope: dict[str, object], body: bytes) -> None:
        delivered = False
        started: list[dict[str, Any]] = []

        async def receive() -> dict[str, object]:
            nonlocal delivered
            if delivered:
                await asyncio.Event().wait()  # the client never disconnects
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.append(message)

        await app(scope, receive, send)
        assert started and started[0]["status"] == 200, started

    async def lane() -> None:
        while pending:
            await one(*_asgi_call(*pending.pop()))

    await asyncio.gather(*(lane() for _ in range(concurrency)))


def _print_profile(title: str, profiler: cProfile.Profile, top: int) -> None:
    print(f"-- {title}: by own time --")
    pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(top)
    print(f"-- {title}: by time with callees --", flush=True)
    pstats.Stats(profiler).strip_dirs().sort_stats("cumulative").print_stats(top)


def _cpu_ms_each(run: Callable[[list[Request]], object], replies: list[Request]) -> float:
    """CPU of this process (every thread) per reply while ``run`` handles ``replies``."""
    before = time.process_time()
    run(replies)
    return (time.process_time() - before) * 1000 / len(replies)


def profile_in_process(stack: Stack, replies: list[Request], top: int) -> None:
    """The SMS-reply path run in this process (the API server's processes cannot be profiled from here):

    - a quarter of ``replies`` through the whole application (``create_app()``: middleware, routing, form, the route,
      its database thread; no HTTP server), the first 20 to warm up, the rest measured: CPU per reply;
    - a quarter through the webhook's own path alone (signature, fields, ``inbound.handle_inbound_sms``, the TwiML
      answer), measured the same way;
    - the other half: the whole application under cProfile (its event loop's thread; the database part runs in a
      worker thread that the profiler does not see), then the webhook's own path under cProfile. Both profilers
      count each thread's CPU time (``time.thread_time``), not waiting. The ``top`` functions are printed."""
    from alerting import inbound
    from alerting.channels import sms_webhooks
    from alueturva.app.bootstrap import boot
    from alueturva.app.http import create_app
    from alueturva.db import set_database
    from alueturva.settings import get_settings

    os.environ.update(stack.env)
    get_settings.cache_clear()
    set_database(None)
    boot()
    logging.disable(logging.INFO)  # the server logs to a file; here its lines would flood the figures
    app = create_app()
    [provider] = sms_webhooks()
    base = get_settings().public_base_url.rstrip("/")

    def through_application(batch: list[Request]) -> None:
        asyncio.run(_through_application(app, batch, concurrency=4))

    def webhook_path(batch: list[Request]) -> None:
        for path, form, headers in batch:
            provider.verify(url=base + path, params=form, headers=headers)
            result = inbound.handle_inbound_sms(message=provider.inbound_sms(form))
            provider.reply(result.reply)

    quarter = len(replies) // 4
    warm, application, alone = replies[:20], replies[20:quarter], replies[quarter : 2 * quarter]
    profiled_application, profiled_alone = replies[2 * quarter : 3 * quarter], replies[3 * quarter :]
    through_application(warm)
    application_ms = _cpu_ms_each(through_application, application)
    alone_ms = _cpu_ms_each(webhook_path, alone)
    print(f"\n== SMS acknowledgements in this process, CPU per reply (no profiler; load {os.getloadavg()[0]:.2f}) ==")
    print(f"  whole application (ASGI, no HTTP server) {application_ms:6.2f} ms  ({len(application)} replies)")
    print(f"  the webhook's own path alone             {alone_ms:6.2f} ms  ({len(alone)} replies)")
    print(f"  the rest: middleware, routing, form      {application_ms - alone_ms:6.2f} ms")
    profiler = cProfile.Profile(time.thread_time)
    profiler.runcall(through_application, profiled_application)
    _print_profile(f"whole application, event loop thread ({len(profiled_application)} replies)", profiler, top)
    profiler = cProfile.Profile(time.thread_time)
    profiler.runcall(webhook_path, profiled_alone)
    _print_profile(f"the webhook's own path ({len(profiled_alone)} replies)", profiler, top)
    logging.disable(logging.NOTSET)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replies", type=int, default=3000, help="people who acknowledge, one reply each")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent connections")
    parser.add_argument("--api-workers", type=int, default=2, help="API server processes (uvicorn --workers)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed requests first (unknown senders; pages)")
    parser.add_argument("--via", choices=("sms", "link"), default="sms", help="SMS replies or link presses")
    parser.add_argument("--profile", type=int, default=0, help="SMS: 600 replies in-process first; top N")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    with bench_database() as url:
        people = add_people(url, args.replies)
        key = api_key(url)
        with running_stack(url, api_workers=args.api_workers, twilio_latency=0.0) as stack:
            alert_id = send_alert(stack, key, people)
            if args.via == "sms":
                unknown = [f"+35840{9_000_000 + n:07d}" for n in range(args.warmup)]  # not in the roster
                warmup = signed_replies(stack, unknown, "OK")
                replies = signed_replies(stack, [mobile_number(n) for n in range(args.replies)], "OK")
                asyncio.run(post_all(stack.api.url, warmup, args.concurrency))
                if args.profile:
                    replies, profiled = replies[:-PROFILED_REPLIES], replies[-PROFILED_REPLIES:]
                    profile_in_process(stack, profiled, args.profile)
            else:
                replies = link_presses(stack, alert_id)
                asyncio.run(post_all(stack.api.url, replies[: args.warmup], args.concurrency, method="GET"))
            api_cpu_before = cpu_seconds(stack.api.pid)
            database_cpu_before = database_cpu(url)
            client_cpu_before = time.process_time()
            seconds, latencies, statuses = asyncio.run(post_all(stack.api.url, replies, args.concurrency))
            client_cpu_ms = (time.process_time() - client_cpu_before) * 1000 / len(replies)
            api_cpu_ms = (cpu_seconds(stack.api.pid) - api_cpu_before) * 1000 / len(replies)
            database_cpu_ms = database_cpu_seconds(url, database_cpu_before) * 1000 / len(replies)
            acknowledged, inbound = recorded(url, alert_id, args.via)
            if args.via == "sms" and args.profile:
                acknowledged, inbound = acknowledged - PROFILED_REPLIES, inbound - PROFILED_REPLIES

    throughput = len(replies) / seconds
    p50, p90, p99 = (percentile(latencies, share) * 1000 for share in (0.5, 0.9, 0.99))
    status_counts = {str(code): statuses.count(code) for code in sorted(set(statuses))}
    print(f"machine: {os.cpu_count()} CPUs, load average before the run {load_before:.2f}")
    print(
        f"stack: PostgreSQL, {args.api_workers} API server processes, {args.concurrency} concurrent connections; "
        + (f'{len(replies):,} signed replies "OK"' if args.via == "sms" else f"{len(replies):,} link presses")
        + ", one per recipient, all from one address"
    )
    print(f"  throughput          {throughput:8.1f} acknowledgements/s  (target >= 600: {verdict(throughput >= 600)})")
    print(f"  latency p50         {p50:8.1f} ms")
    print(f"  latency p90         {p90:8.1f} ms")
    print(f"  latency p99         {p99:8.1f} ms   (target <= 80 ms: {verdict(p99 <= 80)})")
    print(f"  latency max         {max(latencies) * 1000:8.1f} ms")
    cpu_verdict = verdict(api_cpu_ms <= 3)
    print(f"  API CPU per request {api_cpu_ms:8.2f} ms (all API processes together; target <= 3 ms: {cpu_verdict})")
    print(f"  client CPU per request {client_cpu_ms:5.2f} ms (the load generator, on the same cores)")
    print(f"  PostgreSQL CPU per request {database_cpu_ms:5.2f} ms (the backends of this database, on the same cores)")
    print(f"  HTTP statuses       {status_counts}")
    every = acknowledged == len(replies) and (args.via == "link" or inbound == len(replies))
    print(
        f"  recorded            {acknowledged:,} recipients acknowledged, {inbound:,} inbound acknowledgements "
        f"(every one: {verdict(every)})"
    )
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"acks-{args.via}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(
        json.dumps(
            {
                "via": args.via,
                "replies": len(replies),
                "concurrency": args.concurrency,
                "api_workers": args.api_workers,
                "throughput": throughput,
                "p50_ms": p50,
                "p90_ms": p90,
                "p99_ms": p99,
                "max_ms": max(latencies) * 1000,
                "api_cpu_ms_per_request": api_cpu_ms,
                "client_cpu_ms_per_request": client_cpu_ms,
                "database_cpu_ms_per_request": database_cpu_ms,
                "load_average_before": load_before,
                "statuses": status_counts,
                "acknowledged": acknowledged,
                "inbound_acknowledgements": inbound,
            },
            indent=2,
        )
    )
    print(f"figures saved to {out}")


if __name__ == "__main__":
    main()
