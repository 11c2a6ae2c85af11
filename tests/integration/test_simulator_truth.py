"""The simulator's ground-truth log (``--truth``) says for each line leg what the call model,
fed the same AMI over TCP, concludes: same call id, same outcome, times in order.

The fault suite trusts this log; this test is why it may."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from telephony.simulator import Kind
from telephony.simulator.truth import TruthLog
from tests.integration.test_simulator import DIALECTS, WAIT, connected

CASES = [
    (Kind.INBOUND, {"101": "answered"}),
    (Kind.HOLD, {"101": "answered"}),
    (Kind.MISSED, {"101": "missed"}),
    (Kind.BUSY, {"101": "busy"}),
    (Kind.QUEUE, {"101": "answered", "102": "answered-elsewhere"}),
    (Kind.OUTBOUND, {"101": "answered"}),
    (Kind.TRANSFER, {"101": "transferred", "102": "answered"}),
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("kind", "expected"), CASES, ids=[str(kind) for kind, _ in CASES])
async def test_truth_log_agrees_with_the_call_model(
    dialect: str, kind: Kind, expected: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "truth.jsonl"
    async with connected(dialect, truth=TruthLog(path)) as (simulator, _client, panel):
        call = await simulator.start_call(kind, "101", to="102" if kind is Kind.TRANSFER else None)
        async with asyncio.timeout(WAIT):
            await call.finished.wait()
        await panel.wait_records(len(expected))
    assert simulator.truth is not None
    simulator.truth.close()

    entries = [json.loads(line) for line in path.read_text().splitlines()]
    ended = {entry["line"]: entry for entry in entries if entry["event"] == "ended"}
    assert {line: entry["outcome"] for line, entry in ended.items()} == expected
    records = {record.line: record for record in panel.records}
    for line, entry in ended.items():
        assert records[line].call_id == entry["call_id"]
        assert str(records[line].disposition) == entry["outcome"]
        started = next(e for e in entries if e["event"] == "started" and e["line"] == line)
        assert started["at"] <= entry["at"]
