"""One pipeline: ``manage.py ami_replay`` on a capture and the worker fed the same bytes over
TCP (the AMI test peer) give the same call events and the same records, on every capture.

Runs on whichever database the test pass configures (SQLite, then PostgreSQL).
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command

from telephony.models import CallEvent, CallRecord
from tests.integration.test_worker import start_worker
from tests.support.ami_peer import AmiPeer, strip_greeting
from tests.support.replay import SCENARIOS, capture_path, load_capture

pytestmark = [pytest.mark.django_db(transaction=True)]

LINES = "101,102,103"
#: Fields that depend on who runs the model, not on what it decided: the worker's clock
#: (raw captures carry no time), its connector id, and phone-book matches.
VARYING = {"time", "connector", "contact"}
RECORD_FIELDS = (
    "line",
    "call_id",
    "direction",
    "caller_number",
    "caller_name",
    "callee_number",
    "callee_name",
    "queue",
    "disposition",
    "hangup_cause",
    "transferred_to",
    "hold_count",
)


def replayed(name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What ``ami_replay --lines 101,102,103`` prints: (call events, records)."""
    out = io.StringIO()
    call_command("ami_replay", str(capture_path(name)), "--lines", LINES, stdout=out)
    items = [json.loads(line) for line in out.getvalue().splitlines()]
    assert not [item for item in items if "failure" in item]
    events = [item for item in items if "event" in item and item.get("call_id")]
    records = [item["record"] for item in items if "record" in item]
    return events, records


def comparable_event(wire: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in wire.items() if key not in VARYING}


def comparable_record(record: dict[str, Any]) -> tuple[Any, ...]:
    values = [record[key] if record[key] is not None else "" for key in RECORD_FIELDS]
    return (*values, bool(record["answered"]))


def stored() -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    events = [
        row.payload for row in CallEvent.objects.order_by("line", "seq").only("payload", "line")
    ]
    records = []
    for row in CallRecord.objects.all():
        record = {key: getattr(row, key) for key in RECORD_FIELDS}
        record["answered"] = row.answered_at is not None
        records.append(record)
    open_records = CallRecord.objects.filter(ended_at__isnull=True).count()
    return events, records, open_records


# The layer is not what is compared here: the in-memory one is enough.
@pytest.mark.parametrize("channel_layers", ["in-memory"], indirect=True)
@pytest.mark.parametrize(
    "name",
    [pytest.param(name, marks=[pytest.mark.slow] if "burst" in name else []) for name in SCENARIOS],
)
async def test_worker_over_tcp_gives_what_ami_replay_prints(
    name: str, ami_peer: AmiPeer, channel_layers: dict[str, Any], tmp_path: Path
) -> None:
    want_events, want_records = await sync_to_async(replayed)(name)
    assert want_events and want_records
    dialect = "11" if name.startswith("asterisk-11") else "12"
    worker = await start_worker(ami_peer, dialect, tmp_path)
    try:
        await worker.peer.replay(strip_greeting(load_capture(name)))
        # Wait on the history itself: every event and record saved, none still open.
        async with asyncio.timeout(120):
            while True:
                events, records, still_open = await sync_to_async(stored)()
                if (len(events), len(records), still_open) == (
                    len(want_events),
                    len(want_records),
                    0,
                ):
                    break
                await asyncio.sleep(0.05)
    finally:
        worker.runner.stop()
        await asyncio.wait_for(worker.task, 30)
    by_line = sorted(want_events, key=lambda wire: wire["line"])  # stable: order kept per line
    assert [comparable_event(wire) for wire in events] == [
        comparable_event(wire) for wire in by_line
    ]
    assert sorted(comparable_record(record) for record in records) == sorted(
        comparable_record(record) for record in want_records
    )
