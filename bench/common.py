"""Helpers shared by the benchmarks: the burst capture, repeated to N events."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.replay import load_capture  # noqa: E402 - needs the path set above

BURST = "asterisk-22/i_burst_200_calls"
CHUNK = 64 * 1024


def burst_body() -> tuple[bytes, bytes, int]:
    """(greeting line, everything after it, number of events in one repetition)."""
    data = load_capture(BURST)
    newline = data.index(b"\n") + 1
    body = data[newline:]
    return data[:newline], body, body.count(b"\r\nEvent: ") + body.startswith(b"Event: ")


def repeated_chunks(events: int, chunk: int = CHUNK) -> Iterator[bytes]:
    """The burst capture repeated until ``events`` events, as ``chunk``-sized reads."""
    greeting, body, per_repetition = burst_body()
    repetitions = max(1, -(-events // per_repetition))
    stream = greeting + body
    yield from (stream[i : i + chunk] for i in range(0, len(stream), chunk))
    pending = b""
    for _ in range(repetitions - 1):
        data = pending + body
        cut = len(data) - len(data) % chunk
        yield from (data[i : i + chunk] for i in range(0, cut, chunk))
        pending = data[cut:]
    if pending:
        yield pending
