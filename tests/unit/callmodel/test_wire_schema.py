"""Each event type's ``to_wire()`` against its schema, and docs/call-events.md against both."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from telephony.callmodel import (
    EVENT_TYPES,
    CallState,
    Direction,
    Disposition,
    Feature,
    HoldSide,
    LineEvent,
    LineStateChanged,
    TransferKind,
)
from telephony.callmodel.transitions import TRANSITIONS, markdown_table

DOC = Path(__file__).resolve().parents[3] / "docs" / "call-events.md"
OPT_STR = (str, type(None))
OPT_FLOAT = (float, int, type(None))
LINE_FIELDS: dict[str, Any] = {
    "event": str,
    "code": (int, type(None)),
    "connector": str,
    "line": str,
    "seq": int,
    "time": OPT_FLOAT,
}
CALL_FIELDS: dict[str, Any] = {
    **LINE_FIELDS,
    "call_id": str,
    "direction": str,
    "caller_number": OPT_STR,
    "caller_name": OPT_STR,
    "callee_number": OPT_STR,
    "callee_name": OPT_STR,
    "state": str,
    "state_code": int,
    "features": int,
    "queue": OPT_STR,
}
SCHEMAS: dict[str, dict[str, Any]] = {
    "RingStarted": CALL_FIELDS,
    "RingFinished": {
        **CALL_FIELDS,
        "disposition": str,
        "hangup_cause": (int, type(None)),
        "hangup_cause_text": OPT_STR,
    },
    "CommutationStarted": CALL_FIELDS,
    "PutHoldAction": {**CALL_FIELDS, "held_by": str},
    "EndHoldAction": {**CALL_FIELDS, "held_by": str},
    "ActiveCallSnapshot": {**CALL_FIELDS, "answered": bool, "started_at": OPT_FLOAT},
    "LineStateChanged": {
        **LINE_FIELDS,
        "features": int,
        "calls": int,
        "paused": (bool, type(None)),
        "reason": OPT_STR,
        "queue": OPT_STR,
    },
    "AbonentBusy": CALL_FIELDS,
    "CallInfoChanged": CALL_FIELDS,
    "CallTransferred": {**CALL_FIELDS, "transferred_to": OPT_STR, "transfer_kind": str},
}
CODES = {
    "RingStarted": 5,
    "RingFinished": 6,
    "CommutationStarted": 7,
    "PutHoldAction": 8,
    "EndHoldAction": 9,
    "ActiveCallSnapshot": 10,
    "LineStateChanged": 11,
    "AbonentBusy": 13,
    "CallInfoChanged": 17,
    "CallTransferred": None,
}
EXTRA: dict[str, dict[str, Any]] = {
    "RingFinished": {
        "disposition": Disposition.MISSED,
        "hangup_cause": 19,
        "hangup_cause_text": None,
    },
    "PutHoldAction": {"held_by": HoldSide.REMOTE},
    "EndHoldAction": {"held_by": HoldSide.LINE},
    "ActiveCallSnapshot": {"answered": False, "started_at": None},
    "CallTransferred": {"transferred_to": "102", "transfer_kind": TransferKind.ATTENDED},
}


def build(kind: type[LineEvent]) -> LineEvent:
    if kind is LineStateChanged:
        return LineStateChanged(
            connector="1", line="101", seq=1, time=None, paused=False, reason=None, queue=None
        )
    return kind(  # type: ignore[call-arg]
        connector="1",
        line="101",
        seq=1,
        time=12.5,
        call_id="x.1",
        direction=Direction.INCOMING,
        caller_number="+1555",
        caller_name=None,
        callee_number="101",
        callee_name="Alice",
        state=CallState.RINGING,
        features=Feature.CAN_ANSWER | Feature.CAN_DROP,
        queue=None,
        **EXTRA.get(kind.__name__, {}),
    )


def check(wire: dict[str, Any], schema: dict[str, Any]) -> None:
    assert set(wire) == set(schema)
    for key, kind in schema.items():
        assert isinstance(wire[key], kind), (key, wire[key])
    assert json.loads(json.dumps(wire)) == wire


@pytest.mark.parametrize("kind", EVENT_TYPES, ids=lambda kind: kind.__name__)
def test_to_wire_matches_the_schema_of_each_event_type(kind: type[LineEvent]) -> None:
    wire = build(kind).to_wire()
    check(wire, SCHEMAS[kind.__name__])
    assert wire["event"] == kind.__name__
    assert wire["code"] == CODES[kind.__name__]


def test_enums_travel_as_their_wire_strings() -> None:
    wire = build(EVENT_TYPES[1]).to_wire()
    assert (wire["direction"], wire["state"], wire["disposition"]) == (
        "incoming",
        "ringing",
        "missed",
    )
    assert (wire["features"], wire["state_code"]) == (0xC, 1)


def test_docs_show_every_event_in_its_wire_shape() -> None:
    text = DOC.read_text(encoding="utf-8")
    examples = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S)]
    assert sorted(item["event"] for item in examples) == sorted(SCHEMAS)
    for item in examples:
        check(item, SCHEMAS[item["event"]])
        assert item["code"] == CODES[item["event"]]


def test_docs_table_is_the_transitions_table() -> None:
    assert markdown_table() in DOC.read_text(encoding="utf-8")
    assert {row.event.__name__ for row in TRANSITIONS} <= set(SCHEMAS)
