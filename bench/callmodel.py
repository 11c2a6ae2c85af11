"""Parse + call model throughput and memory over the 200-call burst capture, repeated.

Prints one JSON line: {"events", "events_per_s", "calls", "peak_mib", "live_mib_after"}.
Each repetition gets fresh Uniqueid/Linkedid/channel/bridge ids (rewritten at the byte
level), so every repetition is 200 new calls. Prints numbers; never asserts.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telephony.ami import AmiParser, Event  # noqa: E402
from telephony.callmodel import CallModel, CallTracker  # noqa: E402

CAPTURE = ROOT / "tests/fixtures/ami/asterisk-22/i_burst_200_calls/events.ami.gz"
MIB = 1024 * 1024
#: What one socket read returns at most, as in the worker.
READ_SIZE = 64 * 1024


def event_bytes() -> bytes:
    """The capture's events only: greeting, login and the closing resync are dropped."""
    data = gzip.decompress(CAPTURE.read_bytes())
    start = data.index(b"Event: ")
    end = data.rindex(b"Event: CoreShowChannelsComplete")
    return data[start:end]


def repetition(data: bytes, number: int) -> bytes:
    """The same traffic with ids nobody has seen: ``ctilab-`` -> ``rN-`` and so on."""
    data = data.replace(b"ctilab-", f"r{number}-".encode())
    # Channel names end in 8 hex digits (PJSIP/101-000001c8): make the high half unique.
    data = data.replace(b"-0000", f"-{number % 0x10000:04x}".encode())
    return data.replace(b"BridgeUniqueid: ", f"BridgeUniqueid: r{number}-".encode())


def run(total: int, data: bytes) -> tuple[int, int, float, CallTracker]:
    """Feeds ``total`` events; returns (events, calls, seconds, tracker)."""
    model = CallModel(["101"])
    events = calls = 0
    number = 0
    started = time.perf_counter()
    while events < total:
        number += 1
        parser = AmiParser(expect_greeting=False)
        chunk = repetition(data, number)
        for offset in range(0, len(chunk), READ_SIZE):
            for packet in parser.feed(chunk[offset : offset + READ_SIZE]):
                if not isinstance(packet, Event):
                    continue
                events += 1
                # The worker's and ami_replay's one entry point (records come with it).
                calls += len(model.feed(packet).records)
                if events >= total:
                    break
            if events >= total:
                break
    return events, calls, time.perf_counter() - started, model.tracker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    total = parser.parse_args().events
    data = event_bytes()
    events, calls, seconds, tracker = run(total, data)
    del tracker
    gc.collect()
    # Second pass under tracemalloc (it slows Python down, so it is not the timed one).
    tracemalloc.start()
    _, _, _, tracker = run(total, data)
    gc.collect()
    live, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result = {
        "events": events,
        "events_per_s": round(events / seconds),
        "calls": calls,
        "peak_mib": round(peak / MIB, 2),
        "live_mib_after": round(live / MIB, 3),
        "live_channels_after": tracker.live_channels,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
