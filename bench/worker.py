"""Worker throughput: real AMI over TCP -> parse -> call model -> PostgreSQL -> Redis layer.

The project's AMI test server streams the burst capture (200 concurrent answered calls from a
real Asterisk 22), repeated with fresh Uniqueids, as fast as TCP takes it into a real
``ConnectorRunner``. Prints one JSON line; never asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ctiproject.settings")
os.environ.setdefault("DATABASE_URL", "postgres://cti:cti@127.0.0.1:5432/cti_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def ensure_database(url: str) -> None:
    """Create the benchmark's PostgreSQL database if it is missing."""
    from urllib.parse import urlparse

    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("select 1 from pg_database where datname = %s", (name,))
        if exists.fetchone() is None:
            connection.execute(f'create database "{name}"')


def burst_repeated(events: int) -> tuple[bytes, int]:
    """The burst capture's body repeated with fresh ids until ``events`` events."""
    from tests.support.ami_peer import strip_greeting
    from tests.support.replay import load_capture

    body = strip_greeting(load_capture("asterisk-22/i_burst_200_calls"))
    per = body.count(b"\r\nEvent: ") + body.startswith(b"Event: ")
    repetitions = max(1, -(-events // per))
    parts = [body.replace(b"ctilab-", f"r{n}-".encode()) for n in range(repetitions)]
    return b"".join(parts), per * repetitions


async def run(events: int, rate: float | None = None) -> dict[str, object]:  # noqa: PLR0915 - one scenario, top to bottom
    from asgiref.sync import sync_to_async
    from channels.layers import get_channel_layer

    from telephony.connectors import connector_config
    from telephony.models import CallEvent, CallRecord, Connector, Extension
    from telephony.worker.leadership import FileLease
    from telephony.worker.runner import ConnectorRunner
    from tests.support.ami_peer import AmiPeer, event_list

    def setup(port: int) -> Connector:
        CallEvent.objects.all().delete()
        CallRecord.objects.all().delete()
        Connector.objects.filter(name="bench").delete()
        connector = Connector.objects.create(
            name="bench", host="127.0.0.1", port=port, username="cti", secret="s3cret"
        )
        Extension.objects.create(connector=connector, number="101", device="PJSIP/101")
        return connector

    data, total = burst_repeated(events)
    async with AmiPeer() as peer:
        peer.answer("CoreShowChannels", event_list([], "CoreShowChannelsComplete"))
        connector = await sync_to_async(setup)(peer.port)
        config = await sync_to_async(connector_config)(connector)
        # Test-sized timings for the link, but no pings competing with the stream.
        import dataclasses

        config = dataclasses.replace(config, ami=peer.config(ping_interval=60.0))
        layer = get_channel_layer()
        with tempfile.TemporaryDirectory() as folder:
            runner = ConnectorRunner(
                config, layer=layer, lease=FileLease(connector.pk, directory=Path(folder))
            )
            task = asyncio.create_task(runner.run())
            await peer.wait_logged_in()
            await peer.wait_for_action("CoreShowChannels")
            await asyncio.sleep(0.2)
            baseline = runner.summary.ami_events
            started = time.perf_counter()
            if rate:
                # Paced like a busy PBX: keep the bytes sent on `rate` events/s.
                bytes_per_second = len(data) / total * rate
                sent = 0
                while sent < len(data):
                    due = int((time.perf_counter() - started) * bytes_per_second) + 1
                    if due > sent:
                        await peer.send(data[sent:due])
                        sent = due
                    await asyncio.sleep(0.005)
            else:
                await peer.replay(data)
            while runner.summary.ami_events - baseline < total or runner._queue.qsize():
                await asyncio.sleep(0.01)
            # Wait for the writer to finish the last batch.
            settled = runner.summary.call_events
            while True:
                await asyncio.sleep(0.05)
                if runner.summary.call_events == settled and runner._queue.empty():
                    break
                settled = runner.summary.call_events
            elapsed = time.perf_counter() - started - 0.05
            runner.stop()
            await task
    delays = sorted(runner.summary.publish_delays)
    records = await CallRecord.objects.acount()

    def pct(p: float) -> float:
        if not delays:
            return float("nan")
        return round(delays[min(len(delays) - 1, int(p * len(delays)))] * 1000, 2)

    return {
        "events": total,
        "input_rate": rate or "full-speed",
        "events_per_s": round(total / elapsed),
        "call_events": runner.summary.call_events,
        "records": records,
        "publish_p50_ms": pct(0.50),
        "publish_p99_ms": pct(0.99),
        "publish_mean_ms": round(statistics.fmean(delays) * 1000, 2) if delays else None,
        "database": "postgresql" if "postgres" in os.environ["DATABASE_URL"] else "sqlite",
        "layer": "redis" if os.environ.get("REDIS_URL") else "in-memory",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument(
        "--rate",
        default="full,14000",
        help="comma list of input rates in events/s ('full' = as fast as TCP takes it)",
    )
    args = parser.parse_args()
    if os.environ["DATABASE_URL"].startswith("postgres"):
        ensure_database(os.environ["DATABASE_URL"])
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    for rate in args.rate.split(","):
        paced = None if rate.strip() == "full" else float(rate)
        print(json.dumps(asyncio.run(run(args.events, paced))), flush=True)


if __name__ == "__main__":
    main()
