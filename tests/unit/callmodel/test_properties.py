"""Invariants over real captures (hypothesis): independence of calls, one RingFinished."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telephony.ami import AmiParser, Event
from telephony.callmodel import CallTracker, DialectReader
from tests.support.replay import SCENARIOS, load_capture

SINGLE_CALLS = [
    name for name in SCENARIOS if name.startswith("asterisk-22/") and "burst" not in name
]
ALL_CALLS = [name for name in SCENARIOS if "burst" not in name]
COMPARED = (
    "line",
    "event",
    "direction",
    "caller_number",
    "callee_number",
    "state",
    "disposition",
    "held_by",
    "transferred_to",
    "queue",
)


def events_of(name: str, copy: int) -> list[Event]:
    """The capture's events with every id made unique to this copy (a new, unrelated call)."""
    data = load_capture(name)
    data = data.replace(b"ctilab-", f"k{copy}-".encode())
    data = data.replace(b"-000000", f"-{copy:02x}0000".encode())
    data = data.replace(b"BridgeUniqueid: ", f"BridgeUniqueid: k{copy}".encode())
    # The recorder's closing CoreShowChannels is a session-wide resync, not part of the call.
    return [
        packet
        for packet in AmiParser().feed(data)
        if isinstance(packet, Event) and not packet.name.startswith("CoreShowChannel")
    ]


def run(events: list[Event]) -> list[dict[str, Any]]:
    reader, tracker = DialectReader(), CallTracker(["101", "102", "103"])
    out: list[dict[str, Any]] = []
    for item in events:
        for fact in reader.read(item):
            out.extend(event.to_wire() for event in tracker.apply(fact))
    return out


def per_call(wire: list[dict[str, Any]]) -> dict[str, list[tuple[Any, ...]]]:
    calls: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for item in wire:
        calls[item["call_id"]].append(tuple(item.get(key) for key in COMPARED))
    return dict(calls)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(st.sampled_from(SINGLE_CALLS), min_size=2, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_interleaving_independent_calls_changes_nothing_per_call(
    picks: list[str], seed: int
) -> None:
    assert_interleaving_changes_nothing(picks, seed)


CONSULT = "asterisk-22/g_attended_transfer"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    others=st.lists(st.sampled_from(SINGLE_CALLS), min_size=1, max_size=3),
    seed=st.integers(0, 2**32 - 1),
)
def test_interleaving_a_consultation_with_other_calls_changes_nothing_per_call(
    others: list[str], seed: int
) -> None:
    """A consultation (and its transfer) stays the same call beside unrelated calls."""
    assert_interleaving_changes_nothing([CONSULT, *others], seed)


def assert_interleaving_changes_nothing(picks: list[str], seed: int) -> None:
    streams = [events_of(name, copy) for copy, name in enumerate(picks, 1)]
    alone: dict[str, list[tuple[Any, ...]]] = {}
    for stream in streams:
        alone.update(per_call(run(stream)))
    rng = random.Random(seed)  # noqa: S311 (a reproducible shuffle, not a secret)
    cursors, mixed = [0] * len(streams), []
    while any(cursor < len(stream) for cursor, stream in zip(cursors, streams, strict=True)):
        index = rng.choice([i for i, s in enumerate(streams) if cursors[i] < len(s)])
        mixed.append(streams[index][cursors[index]])
        cursors[index] += 1
    assert per_call(run(mixed)) == alone


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(ALL_CALLS),
    cut=st.floats(0.0, 1.0),
    drops=st.sets(st.integers(0, 400), max_size=6),
    dupes=st.sets(st.integers(0, 400), max_size=6),
)
def test_replay_never_finishes_a_line_twice_nor_speaks_after(
    name: str, cut: float, drops: set[int], dupes: set[int]
) -> None:
    """Even with lost, repeated or cut-off events and a resync at the end."""
    events = events_of(name, 1)
    damaged: list[Event] = []
    for index, item in enumerate(events[: int(len(events) * cut) + 1]):
        if index in drops:
            continue
        damaged.append(item)
        if index in dupes:
            damaged.append(item)
    damaged.append(Event.from_fields([("Event", "CoreShowChannelsComplete"), ("ListItems", "0")]))
    reader, tracker = DialectReader(), CallTracker(["101", "102", "103"])
    wire: list[dict[str, Any]] = []
    for item in damaged:
        for fact in reader.read(item):
            wire.extend(event.to_wire() for event in tracker.apply(fact))
    finished: set[tuple[str, str]] = set()
    started: set[tuple[str, str]] = set()
    for wired in wire:
        key = (wired["call_id"], wired["line"])
        assert key not in finished, f"{wired['event']} after RingFinished for {key}"
        if wired["event"] == "RingStarted":
            assert key not in started
            started.add(key)
        assert key in started, f"{wired['event']} before RingStarted for {key}"
        if wired["event"] == "RingFinished":
            finished.add(key)
    assert finished == started
    assert tracker.live_channels == 0
    assert tracker.live_calls == 0
    records = tracker.take_records() + tracker.flush()
    assert sorted((r.call_id, r.line) for r in records) == sorted(finished)
