"""Call-event fan-out to operator sockets through real daphne and Redis (prints JSON lines).

For each socket count N: N authenticated operators, each on a line of their own, hold a real
WebSocket (the ``websockets`` library) to ``/ws/cti/`` on ``--procs`` real daphne processes
(socket i on process i % P) with the Redis channel layer; a publisher does what the worker
does, one ``group_send`` of a call event per line per ``--period`` seconds (default 1),
spread evenly over the period and stamped with its send time. The delay runs from
just before ``group_send`` to the client's receipt; loss is counted per line from the
sequence numbers. ``bare_*`` is the same fan-out through ``bench/bare_asgi.py`` (no auth, no
database) in the same run. ``kb_per_idle_socket`` is the servers' resident memory growth from
opening the sockets, divided by their number. Prints, never asserts.

The servers and the publisher use the project's settings, so the channel layer is the one
production runs: channels-redis's pub/sub layer (ADR 0002). ``--layer core`` runs all three on
channels-redis's core layer instead (``bench/settings_core.py``), which drops a message
silently when the receiving channel already holds ``capacity`` messages (``--capacity``). All
sockets of a daphne process share one such channel, and the *sender's* capacity setting is the
one checked. Either way the per-line sequence numbers make a drop visible as ``lost``
(``lost_by_second`` shows when).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
CONNECT_CONCURRENCY = 50


@dataclass
class Line:
    """One socket's line and what arrived on it."""

    group: str
    url: str
    cookie: str | None
    published: int = 0
    seqs: set[int] = field(default_factory=set)
    delays: list[float] = field(default_factory=list)


def raise_file_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def server_env(database_url: str | None, sqlite_path: str, capacity: int) -> dict[str, str]:
    env = {
        "REDIS_URL": REDIS_URL,
        "CHANNEL_CAPACITY": str(capacity),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "DATABASE_CONN_MAX_AGE": "60",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.update({"DATABASE_URL": "", "SQLITE_PATH": sqlite_path})
    return env


def prepare_database(count: int) -> tuple[int, list[tuple[str, str]]]:
    """A connector, ``count`` operators with a line each and a session; (connector id,
    [(line, session cookie)])."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import transaction

    from telephony.models import Connector, ConnectorStatus, Extension

    call_command("migrate", verbosity=0, interactive=False)
    with transaction.atomic():
        Connector.objects.filter(name="bench-fanout").delete()
        User.objects.filter(username__startswith="bench-op-").delete()
        connector = Connector.objects.create(
            name="bench-fanout",
            host="127.0.0.1",
            username="cti",
            secret="unused",
        )
        ConnectorStatus.objects.create(connector=connector, connected=True)
        users = User.objects.bulk_create(
            User(username=f"bench-op-{n}", password=make_password(None)) for n in range(count)
        )
        users = list(User.objects.filter(username__startswith="bench-op-").order_by("pk"))
        lines = [str(10000 + n) for n in range(count)]
        Extension.objects.bulk_create(
            Extension(connector=connector, number=line, operator=user)
            for line, user in zip(lines, users, strict=True)
        )
        cookies = []
        for user in users:
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            cookies.append(str(session.session_key))
    return connector.pk, list(zip(lines, cookies, strict=True))


async def listen(line: Line, origin: str, ready: asyncio.Semaphore, opened: list[Any]) -> None:
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    headers = {"Cookie": f"sessionid={line.cookie}"} if line.cookie else {}
    async with ready:
        socket = await connect(
            line.url,
            origin=Origin(origin),
            additional_headers=headers,
            max_queue=None,
        )
        if line.cookie:
            hello = json.loads(await socket.recv())
            assert hello["type"] == "hello", hello  # noqa: S101 - a broken setup must stop here
    opened.append(socket)
    async for raw in socket:
        received = time.time()
        message = json.loads(raw)
        if message.get("type") != "call.event":
            continue
        event = message["event"]
        line.seqs.add(event["seq"])
        line.delays.append((received - event["sent_at"]) * 1000)


async def publish(
    layer: Any, lines: list[Line], connector_id: int, seconds: float, period: float = 1.0
) -> float:
    """One call event per line per ``period`` seconds, evenly spread; returns the achieved
    events/s."""
    count = len(lines)
    start = time.monotonic()
    sent = 0
    for tick in range(max(1, int(seconds / period))):
        for index, line in enumerate(lines):
            due = start + (tick + index / count) * period
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            line.published += 1
            event = {
                "event": "CallInfoChanged",
                "code": 17,
                "connector": str(connector_id),
                "line": line.group.rsplit(".", 1)[-1],
                "seq": line.published,
                "call_id": f"bench-{tick}",
                "direction": "incoming",
                "caller_number": "+15551230001",
                "state": "connected",
                "features": 8,
                "sent_at": time.time(),
            }
            # The worker's shape (publisher.py): a batch, here of one event.
            await layer.group_send(line.group, {"type": "call.events", "events": [event]})
            sent += 1
    return sent / (time.monotonic() - start)


def rss_kb(pids: list[int]) -> int:
    """The processes' resident memory (kB), from /proc."""
    total = 0
    for pid in pids:
        for row in Path(f"/proc/{pid}/status").read_text().splitlines():
            if row.startswith("VmRSS:"):
                total += int(row.split()[1])
    return total


async def run_phase(
    lines: list[Line],
    origin: str,
    connector_id: int,
    seconds: float,
    *,
    pids: list[int],
    period: float = 1.0,
) -> dict[str, Any]:
    from channels.layers import channel_layers

    # The publisher's layer is built from the same settings as the worker's (with the core
    # layer, capacity is checked with the *sender's* setting).
    layer = channel_layers.make_backend("default")
    opened: list[Any] = []
    ready = asyncio.Semaphore(CONNECT_CONCURRENCY)
    rss_before = rss_kb(pids)
    began = time.monotonic()
    listeners = [asyncio.create_task(listen(line, origin, ready, opened)) for line in lines]
    while len(opened) < len(lines):
        failed = [task for task in listeners if task.done()]
        if failed:
            failed[0].result()  # raises what went wrong
        await asyncio.sleep(0.05)
    connect_s = time.monotonic() - began
    await asyncio.sleep(1.0)  # group_add of the last sockets settles
    rss_open = rss_kb(pids)
    rate = await publish(layer, lines, connector_id, seconds, period)
    expected = sum(line.published for line in lines)
    deadline = time.monotonic() + 5
    # Polls the listeners' counters; an Event per line would cost more than it measures.
    while sum(len(line.seqs) for line in lines) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    for socket in opened:
        await socket.close()
    for task in listeners:
        task.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    await layer.flush()
    delays = sorted(delay for line in lines for delay in line.delays)
    delivered = sum(len(line.seqs) for line in lines)
    # Which second's events went missing: a backlog loses the last ones, a full channel any.
    lost_by_second = [
        sum(1 for line in lines if second <= line.published and second not in line.seqs)
        for second in range(1, max((line.published for line in lines), default=0) + 1)
    ]
    return {
        "events_per_s": round(rate, 1),
        "published": expected,
        "delivered": delivered,
        "lost": expected - delivered,
        "p50_ms": _percentile(delays, 50),
        "p99_ms": _percentile(delays, 99),
        "max_ms": round(delays[-1], 2) if delays else None,
        "connect_s": round(connect_s, 2),
        "rss_mb": round(rss_open / 1024, 1),
        "kb_per_idle_socket": round((rss_open - rss_before) / len(lines), 1),
        "lost_by_second": lost_by_second,
    }


def _percentile(values: list[float], percent: int) -> float | None:
    if len(values) < 2:
        return round(values[0], 2) if values else None
    return round(statistics.quantiles(values, n=100, method="inclusive")[percent - 1], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", default="10,100,1000", help="comma-separated counts")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--procs", type=int, default=1, help="daphne processes (sockets spread evenly)"
    )
    parser.add_argument(
        "--period", type=float, default=1.0, help="seconds between two events of a line"
    )
    parser.add_argument(
        "--capacity", type=int, default=1000, help="CHANNEL_CAPACITY (core layer only)"
    )
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    parser.add_argument(
        "--layer", choices=["pubsub", "core"], default="pubsub", help="channels-redis layer"
    )
    args = parser.parse_args()
    counts = [int(item) for item in args.sockets.split(",") if item.strip()]
    files = raise_file_limit()

    workdir = tempfile.mkdtemp(prefix="bench-fanout-")
    env = server_env(args.database_url or None, os.path.join(workdir, "db.sqlite3"), args.capacity)
    settings_module = "bench.settings_core" if args.layer == "core" else "ctiproject.settings"
    env["DJANGO_SETTINGS_MODULE"] = settings_module
    os.environ.update(env)
    import django

    django.setup()
    from telephony.groups import line_group
    from tests.support.daphne import running_daphne

    connector_id, accounts = prepare_database(max(counts))
    database = "postgresql" if args.database_url else "sqlite"
    with contextlib.ExitStack() as stack:
        ctis = [stack.enter_context(running_daphne(env)) for _ in range(args.procs)]
        bares = [
            stack.enter_context(
                running_daphne(env, application="bench.bare_asgi:application", ready_path=None)
            )
            for _ in range(args.procs)
        ]
        for count in counts:
            groups = [line_group(connector_id, line) for line, _ in accounts[:count]]
            ours = [
                Line(group, ctis[index % args.procs].ws_url(), cookie)
                for index, (group, (_, cookie)) in enumerate(
                    zip(groups, accounts[:count], strict=True)
                )
            ]
            pids = [server.process.pid for server in ctis]
            result = asyncio.run(
                run_phase(
                    ours, ctis[0].origin, connector_id, args.seconds, pids=pids, period=args.period
                )
            )
            bases = [
                Line(group, bares[index % args.procs].ws_url(f"/ws/bare/{group}/"), None)
                for index, group in enumerate(groups)
            ]
            pids = [server.process.pid for server in bares]
            baseline = asyncio.run(
                run_phase(
                    bases,
                    bares[0].origin,
                    connector_id,
                    args.seconds,
                    pids=pids,
                    period=args.period,
                )
            )
            line = {
                "sockets": count,
                "procs": args.procs,
                "period_s": args.period,
                "seconds": args.seconds,
                **result,
                **{f"bare_{key}": value for key, value in baseline.items()},
                "capacity": args.capacity if args.layer == "core" else None,
                "database": database,
                "layer": f"redis-{args.layer}",
                "open_files_limit": files,
            }
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
