"""Parser throughput on real traffic: ours vs panoramisk's vs a naive split (prints JSON).

The burst capture (200 concurrent calls on a real Asterisk 22) is repeated to N events and
fed in 64 KiB reads to each parser in the same run. Prints, never asserts.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable, Iterable

from common import repeated_chunks  # type: ignore[import-not-found]

from telephony.ami import AmiParser, Event


def run_project(chunks: Iterable[bytes]) -> int:
    parser = AmiParser()
    events = 0
    for chunk in chunks:
        for packet in parser.feed(chunk):
            if type(packet) is Event:
                events += 1
    return events


def run_naive(chunks: Iterable[bytes]) -> int:
    """Split on the blank line, decode, dict of `key: value`: the least a reader can do."""
    tail = b""
    events = 0
    for chunk in chunks:
        parts = (tail + chunk).split(b"\r\n\r\n")
        tail = parts.pop()
        for part in parts:
            headers = {}
            for line in part.decode("utf-8").split("\r\n"):
                key, _, value = line.partition(": ")
                headers[key] = value
            if "Event" in headers:
                events += 1
    return events


def run_panoramisk(chunks: Iterable[bytes]) -> int:
    """panoramisk 1.4's own AMIProtocol.data_received, with its dispatch counting events."""
    from panoramisk.ami_protocol import AMIProtocol

    class Counter:
        events = 0
        save_stream = None

        def dispatch(self, message: object) -> None:
            self.events += 1

    protocol = AMIProtocol()
    protocol.connection_made(transport=None)
    protocol.encoding = "utf-8"
    counter = Counter()
    protocol.factory = counter
    for chunk in chunks:
        protocol.data_received(chunk)
    return counter.events


def measure(run: Callable[[Iterable[bytes]], int], events: int) -> tuple[int, float]:
    chunks = list(repeated_chunks(events))
    gc.collect()
    started = time.perf_counter()
    counted = run(chunks)
    return counted, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    results = {}
    counts = {}
    for label, run in (
        ("project", run_project),
        ("panoramisk", run_panoramisk),
        ("naive", run_naive),
    ):
        counted, seconds = measure(run, args.events)
        counts[label] = counted
        results[f"{label}_events_per_s"] = round(counted / seconds)
    line = {"events": counts["project"], "requested": args.events, **results}
    line["vs_panoramisk"] = round(
        results["project_events_per_s"] / results["panoramisk_events_per_s"], 2
    )
    line["vs_naive"] = round(results["project_events_per_s"] / results["naive_events_per_s"], 2)
    line["events_counted"] = counts
    print(json.dumps(line))


if __name__ == "__main__":
    main()
