"""Every recorded scenario against its hand-written expectation (from its truth.md)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from telephony.callmodel import DialectReader, read_capture, replay
from tests.support.replay import FIXTURES, SCENARIOS, capture_path, load_capture

LINES = ["101", "102", "103"]
EXPECTED = FIXTURES / "expected"
EVENT_KEYS = (
    "event",
    "direction",
    "caller_number",
    "callee_number",
    "queue",
    "disposition",
    "held_by",
    "transferred_to",
)
RECORD_KEYS = (
    "line",
    "direction",
    "caller_number",
    "callee_number",
    "answered",
    "disposition",
    "transferred_to",
    "queue",
    "hold_count",
)


def expected(name: str) -> dict[str, Any]:
    path = EXPECTED / f"{name.replace('/', '_')}.json"
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result


def timed(name: str) -> list[Any]:
    """The recorder's packets with their receive times: durations need a clock."""
    ami = capture_path(name)
    jsonl: Path = ami.with_name(ami.name.replace(".ami", ".jsonl"))
    return read_capture(jsonl.read_bytes())


def by_line(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        if "event" in item:
            lines[item["line"]].append(item)
    return dict(lines)


def subset(item: dict[str, Any], keys: dict[str, Any] | tuple[str, ...]) -> dict[str, Any]:
    return {key: item.get(key) for key in keys}


def test_every_capture_has_a_hand_written_expectation() -> None:
    assert SCENARIOS
    for name in SCENARIOS:
        assert (EXPECTED / f"{name.replace('/', '_')}.json").exists(), name


@pytest.mark.parametrize("name", [s for s in SCENARIOS if "burst" not in s])
def test_capture_gives_each_line_the_events_truth_describes(name: str) -> None:
    want = expected(name)["events"]
    got = by_line(list(replay(read_capture(load_capture(name)), lines=LINES)))
    assert sorted(got) == sorted(want)
    for line, events in want.items():
        assert [
            subset(item, tuple(exp)) for item, exp in zip(got[line], events, strict=False)
        ] == events
        assert len(got[line]) == len(events), [item["event"] for item in got[line]]


@pytest.mark.parametrize("name", [s for s in SCENARIOS if "burst" not in s])
def test_capture_gives_one_record_per_call_and_line_as_truth_says(name: str) -> None:
    want = expected(name)
    tolerance = want["tolerance_s"]
    records = [item["record"] for item in replay(timed(name), lines=LINES) if "record" in item]
    # One line may hold two records (a consultation besides the original call): by start.
    records.sort(key=lambda record: (record["line"], record["started_at"] or 0.0))
    assert [subset(record, RECORD_KEYS) for record in records] == [
        subset(record, RECORD_KEYS) for record in want["records"]
    ]
    assert len({record["call_id"] for record in records}) == want.get("calls", 1)
    for record, truth in zip(records, want["records"], strict=True):
        assert record["talk_seconds"] == pytest.approx(truth["talk_seconds"], abs=tolerance)
        assert record["hold_seconds"] == pytest.approx(truth["hold_seconds"], abs=tolerance)


@pytest.mark.parametrize("name", SCENARIOS)
def test_without_configured_lines_every_phone_device_counts_as_a_line(name: str) -> None:
    packets = read_capture(load_capture(name))
    configured = [item for item in replay(packets, lines=LINES) if "event" in item]
    guessed = [item for item in replay(packets) if "event" in item]
    assert guessed == configured


@pytest.mark.parametrize("name", SCENARIOS)
def test_dialect_is_detected_from_the_stream(name: str) -> None:
    reader = DialectReader()
    for packet, _ in read_capture(load_capture(name)):
        reader.read(packet)
    assert reader.detected == ("11" if name.startswith("asterisk-11") else "12")


@pytest.mark.parametrize(
    "name", ["asterisk-11/b_inbound_answered_hold", "asterisk-22/e_queue_ringall"]
)
def test_pinned_dialect_gives_the_same_events_as_detection(name: str) -> None:
    packets = read_capture(load_capture(name))
    pinned = "11" if name.startswith("asterisk-11") else "12"
    assert list(replay(packets, dialect=pinned)) == list(replay(packets))


@pytest.mark.slow
def test_burst_capture_gives_200_answered_records() -> None:
    name = "asterisk-22/i_burst_200_calls"
    want = expected(name)
    items = list(replay(timed(name), lines=LINES))
    records = [item["record"] for item in items if "record" in item]
    assert len(records) == want["calls"] == 200
    assert len({record["call_id"] for record in records}) == 200
    for record in records:
        assert subset(record, RECORD_KEYS) == subset(want["record"], RECORD_KEYS)
        assert record["talk_seconds"] == pytest.approx(10, abs=want["tolerance_s"])
    per_call: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        if "event" in item:
            per_call[item["call_id"]].append(item)
    pattern = want["events_per_call"]["101"]
    for events in per_call.values():
        assert [
            subset(item, tuple(exp)) for item, exp in zip(events, pattern, strict=True)
        ] == pattern
