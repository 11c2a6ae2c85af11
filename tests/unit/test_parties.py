"""The one "who is the other party" rule (``telephony.parties``)."""

from __future__ import annotations

import pytest

from telephony.callmodel.events import Direction, Disposition
from telephony.callmodel.records import FinishedCall
from telephony.parties import Party, other_party, party_of


def call(direction: str, line: str = "101", caller: str = "+15551230002") -> dict[str, str]:
    return {
        "direction": direction,
        "line": line,
        "caller_number": caller,
        "caller_name": "Caller",
        "callee_number": "102" if caller == line else line,
        "callee_name": "Callee",
    }


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (call("incoming"), Party("+15551230002", "Caller")),
        # the operator dialled out: the customer is the callee
        (
            {**call("outgoing", caller="101"), "callee_number": "+15551230009"},
            Party("+15551230009", "Callee"),
        ),
        # an internal call this line placed: the colleague it rang
        (call("internal", caller="101"), Party("102", "Callee")),
        # an internal call that rang this line: the colleague who placed it
        (call("internal", line="102", caller="101"), Party("101", "Caller")),
    ],
)
def test_other_party_is_the_one_the_line_talks_to(fields: dict[str, str], expected: Party) -> None:
    assert other_party(**fields) == expected


def test_missing_numbers_and_names_are_empty_strings() -> None:
    party = other_party(
        direction="incoming",
        line="101",
        caller_number=None,
        caller_name=None,
        callee_number="101",
        callee_name=None,
    )
    assert party == Party("", "")


def test_party_of_reads_a_call_model_record() -> None:
    record = FinishedCall(
        connector="1",
        line="101",
        call_id="c1",
        direction=Direction.OUTGOING,
        caller_number="101",
        caller_name="Alice",
        callee_number="+15551230009",
        callee_name=None,
        queue=None,
        answered=True,
        disposition=Disposition.ANSWERED,
        hangup_cause=16,
        hangup_cause_text=None,
        transferred_to=None,
        started_at=1.0,
        answered_at=2.0,
        ended_at=3.0,
        talk_seconds=1.0,
        hold_seconds=0.0,
        hold_count=0,
    )
    assert party_of(record) == Party("+15551230009", "")
