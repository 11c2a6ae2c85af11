"""Connect storm: N operator sockets at once on P daphne processes, then a restart of every
process and the panels' own reconnect logic bringing them back (prints one JSON line).

Each socket is a real WebSocket client (the ``websockets`` library) of an operator with a line
of their own, logged in by session cookie, aimed at process ``i % P``. It behaves like the panel
(``static/telephony/js/socket.js``): it counts as back when its hello arrives, and after any
close waits as ``backoff.js`` says (full jitter, longer after 4503) before it tries again.

- ``connected`` / ``failed``: sockets with / without a hello ``--window`` seconds after all were
  opened at once; ``hello_p50_ms`` / ``hello_p99_ms``: from the first attempt to the hello.
- ``all_back_s``: from the restart (SIGTERM to every process) until every socket had a new
  hello (``null`` when some had not after ``--window`` seconds; ``not_back`` counts them).
- ``restart_s``: how long the processes took to stop and listen again (part of ``all_back_s``).
- ``probe_hello_p50_ms`` / ``probe_hello_p99_ms``: during the storm (until every socket had its
  hello), other users open a socket every ``--probe-every`` seconds and time its hello (no
  retries; a refusal, also while the servers restart, counts as ``probe_refused``);
  ``probe_back_hello_p99_ms`` the same while the sockets come back after the restart.
- ``probe_command_p99_ms`` / ``_max_ms``: during the storm, a command (``MakeCall``) every
  0.2 s on an open socket of another user, answered by a stand-in worker on the channel layer:
  the command path must not wait behind the storm's hellos.
- ``shed``: closes with 4503 (come back later) the clients saw.
- ``rss_mb``: the daphne processes' resident memory with every socket open.

``bare_*``: the same storm through ``bench/bare_asgi.py`` (no auth, no database; "hello" is
the accepted handshake) in the same run. Prints, never asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.fanout import prepare_database, raise_file_limit, server_env  # noqa: E402

# static/telephony/js/backoff.js, in Python.
CLOSE_TRY_LATER = 4503
FINAL = {4401, 4403, 4409}
BASE_MS, CAP_MS, BUSY_MIN_MS, BUSY_BASE_MS = 500, 10000, 2000, 2000
PROBES = 20


def retry_delay(attempt: int, code: int | None) -> float:
    """Seconds to wait, as the panel does."""
    step = min(max(0, attempt), 30)
    if code == CLOSE_TRY_LATER:
        ceiling = min(CAP_MS - BUSY_MIN_MS, BUSY_BASE_MS * 2**step)
        return float(BUSY_MIN_MS + random.random() * ceiling) / 1000
    return float(random.random() * min(CAP_MS, BASE_MS * 2**step)) / 1000


@dataclass
class Client:
    url: str
    origin: str
    cookie: str | None
    hellos: list[float] = field(default_factory=list)  # monotonic time of each hello
    first_try: float | None = None
    first_latency: float | None = None
    shed: int = 0


async def _open_once(client: Client) -> tuple[Any, float]:
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    headers = {"Cookie": f"sessionid={client.cookie}"} if client.cookie else {}
    started = time.monotonic()
    socket = await connect(
        client.url,
        origin=Origin(client.origin),
        additional_headers=headers,
        open_timeout=30,
        ping_interval=None,
        max_queue=None,
    )
    if client.cookie:
        try:
            message = json.loads(await socket.recv())
        except BaseException:
            await socket.close()
            raise
        if message.get("type") != "hello":
            await socket.close()
            raise RuntimeError(message)
    return socket, started


async def keep_open(client: Client, stop: asyncio.Event) -> None:
    """The panel's loop: open, wait for the hello, read until closed, back off, again."""
    from websockets.exceptions import ConnectionClosed, InvalidHandshake

    attempt = 0
    while not stop.is_set():
        code: int | None = None
        if client.first_try is None:
            client.first_try = time.monotonic()
        try:
            socket, _ = await _open_once(client)
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else 1006
        except (OSError, InvalidHandshake, TimeoutError, RuntimeError):
            code = 1006
        else:
            now = time.monotonic()
            client.hellos.append(now)
            if client.first_latency is None:
                client.first_latency = now - client.first_try
            attempt = 0
            try:
                async for _ in socket:
                    pass
            except ConnectionClosed:
                pass
            code = socket.close_code
        if code == CLOSE_TRY_LATER:
            client.shed += 1
        if code in FINAL:
            return
        await asyncio.sleep(retry_delay(attempt, code))
        attempt += 1


@dataclass
class Probe:
    hello_ms: list[tuple[float, float]] = field(default_factory=list)  # (when, ms)
    command_ms: list[tuple[float, float]] = field(default_factory=list)
    refused: int = 0


async def probe_hellos(
    clients: list[Client], every: float, probe: Probe, stop: asyncio.Event
) -> None:
    """Other users open a fresh socket in turn and time its hello; no retries."""
    index = 0
    pending: set[asyncio.Task[None]] = set()

    async def one(client: Client) -> None:
        try:
            socket, started = await _open_once(client)
        except Exception:
            probe.refused += 1
            return
        probe.hello_ms.append((started, (time.monotonic() - started) * 1000))
        await socket.close()

    while not stop.is_set():
        task = asyncio.create_task(one(clients[index % len(clients)]))
        pending.add(task)
        task.add_done_callback(pending.discard)
        index += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
    await asyncio.gather(*pending, return_exceptions=True)


async def probe_commands(client: Client, every: float, probe: Probe, stop: asyncio.Event) -> None:
    """One more user's open socket sends a command now and then and times the result."""
    while not stop.is_set():
        try:
            socket, _ = await _open_once(client)
        except Exception:
            await asyncio.sleep(0.5)
            continue
        try:
            number = 0
            while not stop.is_set():
                number += 1
                started = time.monotonic()
                await socket.send(
                    json.dumps({"id": number, "command": "MakeCall", "targetAddress": "100"})
                )
                while json.loads(await socket.recv()).get("type") != "result":
                    pass
                probe.command_ms.append((started, (time.monotonic() - started) * 1000))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), every)
        except Exception:  # the restart: open again
            await asyncio.sleep(0.5)
        finally:
            await socket.close()


async def stand_in_worker(layer: Any, connector_id: int, stop: asyncio.Event) -> None:
    """Answers every ``command.run`` at once, as a healthy worker would."""
    from telephony.groups import worker_group

    channel = await layer.new_channel()
    await layer.group_add(worker_group(connector_id), channel)
    while not stop.is_set():
        receive = asyncio.ensure_future(layer.receive(channel))
        stopped = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({receive, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if receive not in done:
            receive.cancel()
            break
        message = receive.result()
        reply = {"type": "command.result", "request_id": message["request_id"], "ok": True}
        await layer.send(message["reply_to"], reply)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _percentile(values: list[float], percent: int) -> float | None:
    if len(values) < 2:
        return round(values[0], 1) if values else None
    return round(statistics.quantiles(values, n=100, method="inclusive")[percent - 1], 1)


async def _wait_until(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


@contextlib.contextmanager
def servers(env: dict[str, str], procs: int, application: str | None) -> Iterator[list[Any]]:
    from tests.support.daphne import start_daphne

    options: dict[str, Any] = {}
    if application:
        options = {"application": application, "ready_path": None}
    started = [start_daphne(env, **options) for _ in range(procs)]
    holder = [started]
    try:
        yield holder
    finally:
        for server in holder[0]:
            server.stop()


async def storm(
    clients: list[Client],
    *,
    holder: list[Any],
    restart: Any,
    window: float,
    probes: list[Client],
    commander: Client | None,
    connector_id: int | None,
    probe_every: float,
) -> dict[str, Any]:
    stop = asyncio.Event()
    probe = Probe()
    background: list[asyncio.Task[Any]] = []
    layer = None
    if commander is not None and connector_id is not None:
        from channels.layers import channel_layers

        layer = channel_layers.make_backend("default")
        background.append(asyncio.create_task(stand_in_worker(layer, connector_id, stop)))
        background.append(asyncio.create_task(probe_commands(commander, 0.2, probe, stop)))
    if probes:
        background.append(asyncio.create_task(probe_hellos(probes, probe_every, probe, stop)))
    await asyncio.sleep(1.0)  # the probes' baseline before the storm
    storm_at = time.monotonic()
    tasks = [asyncio.create_task(keep_open(client, stop)) for client in clients]
    await _wait_until(lambda: all(client.hellos for client in clients), window)
    stormed_at = time.monotonic()
    connected = sum(1 for client in clients if client.hellos)
    latencies = [c.first_latency * 1000 for c in clients if c.first_latency is not None]
    await asyncio.sleep(1.0)
    rss = round(sum(_rss_mb(server.process.pid) for server in holder[0]), 1)
    restarted_at = time.monotonic()
    await asyncio.to_thread(restart)
    restart_s = time.monotonic() - restarted_at

    def back() -> bool:
        return all(any(t > restarted_at for t in client.hellos) for client in clients)

    all_back = await _wait_until(back, window)
    firsts_after = [
        min(t for t in client.hellos if t > restarted_at)
        for client in clients
        if any(t > restarted_at for t in client.hellos)
    ]
    last_back = max(firsts_after, default=restarted_at)
    not_back = sum(1 for c in clients if not any(t > restarted_at for t in c.hellos))
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    if layer is not None:
        await layer.flush()
    result: dict[str, Any] = {
        "connected": connected,
        "failed": len(clients) - connected,
        "hello_p50_ms": _percentile(latencies, 50),
        "hello_p99_ms": _percentile(latencies, 99),
        "all_back_s": round(last_back - restarted_at, 2) if all_back else None,
        "restart_s": round(restart_s, 2),
        "not_back": not_back,
        "shed": sum(client.shed for client in clients),
        "rss_mb": rss,
    }

    def during(samples: list[tuple[float, float]], start: float, end: float) -> list[float]:
        return [ms for when, ms in samples if start <= when <= end]

    if probes:
        in_storm = during(probe.hello_ms, storm_at, stormed_at)
        back_phase = during(probe.hello_ms, restarted_at + restart_s, last_back)
        result.update(
            probe_hello_p50_ms=_percentile(in_storm, 50),
            probe_hello_p99_ms=_percentile(in_storm, 99),
            probe_hellos=len(in_storm),
            probe_back_hello_p99_ms=_percentile(back_phase, 99),
            probe_back_hellos=len(back_phase),
            probe_refused=probe.refused,
        )
    if commander is not None:
        in_storm = during(probe.command_ms, storm_at, stormed_at)
        back_phase = during(probe.command_ms, restarted_at + restart_s, last_back)
        result.update(
            probe_command_p99_ms=_percentile(in_storm, 99),
            probe_command_max_ms=round(max(in_storm), 1) if in_storm else None,
            probe_commands=len(in_storm),
            probe_back_command_max_ms=round(max(back_phase), 1) if back_phase else None,
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--window", type=float, default=60.0, help="seconds to wait per phase")
    parser.add_argument("--probe-every", type=float, default=0.1)
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    parser.add_argument("--skip-bare", action="store_true")
    args = parser.parse_args()
    files = raise_file_limit()

    workdir = tempfile.mkdtemp(prefix="bench-storm-")
    env = server_env(args.database_url or None, os.path.join(workdir, "db.sqlite3"), 1000)
    env["DJANGO_SETTINGS_MODULE"] = "ctiproject.settings"
    os.environ.update(env)
    import django

    django.setup()
    from telephony.groups import line_group
    from tests.support.daphne import start_daphne

    connector_id, accounts = prepare_database(args.sockets + PROBES + 1)
    storm_accounts = accounts[: args.sockets]
    probe_accounts = accounts[args.sockets : args.sockets + PROBES]
    commander_account = accounts[-1]

    def restarter(holder: list[Any], options: dict[str, Any]) -> Any:
        def restart() -> None:
            old = holder[0]
            for server in old:
                server.process.terminate()
            for server in old:
                server.stop()
            holder[0] = [start_daphne(env, port=server.port, **options) for server in old]

        return restart

    line: dict[str, Any] = {"sockets": args.sockets, "procs": args.procs}
    with servers(env, args.procs, None) as holder:
        ports = holder[0]

        def aimed(index: int, cookie: str) -> Client:
            server = ports[index % len(ports)]
            return Client(server.ws_url(), server.origin, cookie)

        clients = [aimed(i, cookie) for i, (_, cookie) in enumerate(storm_accounts)]
        probes = [aimed(i, cookie) for i, (_, cookie) in enumerate(probe_accounts)]
        commander = aimed(0, commander_account[1])
        result = asyncio.run(
            storm(
                clients,
                holder=holder,
                restart=restarter(holder, {}),
                window=args.window,
                probes=probes,
                commander=commander,
                connector_id=connector_id,
                probe_every=args.probe_every,
            )
        )
        line.update(result)
    if not args.skip_bare:
        bare_options = {"application": "bench.bare_asgi:application", "ready_path": None}
        with servers(env, args.procs, bare_options["application"]) as holder:
            ports = holder[0]
            clients = []
            for i, (number, _) in enumerate(storm_accounts):
                server = ports[i % len(ports)]
                group = line_group(connector_id, number)
                clients.append(Client(server.ws_url(f"/ws/bare/{group}/"), server.origin, None))
            result = asyncio.run(
                storm(
                    clients,
                    holder=holder,
                    restart=restarter(holder, bare_options),
                    window=args.window,
                    probes=[],
                    commander=None,
                    connector_id=None,
                    probe_every=args.probe_every,
                )
            )
            line.update({f"bare_{key}": value for key, value in result.items()})
    line.update(
        database="postgresql" if args.database_url else "sqlite",
        open_files_limit=files,
        load_average=os.getloadavg()[0],
    )
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
