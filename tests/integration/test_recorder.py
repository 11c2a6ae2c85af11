"""The history recorder on its own: a failed transaction leaves no gap in a line's numbers;
calls that ended unseen are finished with estimated times and the right queue outcome."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError

from telephony.ami import AmiParser
from telephony.callmodel.dialects import DialectReader
from telephony.callmodel.tracker import CallTracker
from telephony.models import CallEvent, CallRecord
from telephony.worker import recorder as recorder_module
from telephony.worker.recorder import Recorder
from tests.factories import CALL_START, make_call_record, make_connector
from tests.support.ami_peer import strip_greeting
from tests.support.replay import load_capture

pytestmark = [pytest.mark.django_db]


def call_events(name: str, connector_id: int) -> list[Any]:
    reader, tracker = DialectReader("12"), CallTracker(["101"], connector=str(connector_id))
    events: list[Any] = []
    for packet in AmiParser(expect_greeting=False).feed(strip_greeting(load_capture(name))):
        for fact in reader.read(packet, 1.0):
            events.extend(tracker.apply(fact))
    return events


def test_a_rolled_back_write_hands_out_the_same_numbers_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connector = make_connector()
    recorder = Recorder(connector.pk)
    events = call_events("asterisk-22/c_inbound_no_answer", connector.pk)
    real_insert = recorder_module.insert_events

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseError("database is locked")

    monkeypatch.setattr(recorder_module, "insert_events", failing)
    with pytest.raises(DatabaseError):
        recorder.write(events)
    monkeypatch.setattr(recorder_module, "insert_events", real_insert)

    saved = recorder.write(events)

    numbers = [item.wire["seq"] for item in saved if item.wire.get("call_id")]
    assert numbers == list(range(1, len(numbers) + 1))
    stored = list(CallEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert stored == numbers


def test_calls_that_ended_unseen_are_finished_with_estimated_times_and_queue_outcomes() -> None:
    """A takeover's sweep: a queue call answered by 101 in the gap leaves 102 answered
    elsewhere, not failed; an unrelated unanswered call failed; all marked estimated."""
    connector = make_connector()
    queue_call = {"connector": connector, "call_id": "queue-1", "disposition": ""}
    make_call_record(line="101", answered_at=CALL_START, **queue_call)
    make_call_record(line="102", **queue_call)
    make_call_record(line="103", connector=connector, call_id="other-1", disposition="")

    published = Recorder(connector.pk).finish_vanished(live={("queue-1", "101")})

    outcomes = dict(CallRecord.objects.values_list("line", "disposition"))
    assert outcomes == {"101": "", "102": "answered-elsewhere", "103": "failed"}
    assert sorted(item.line for item in published) == ["102", "103"]
    assert all(item.wire["estimated"] is True for item in published)
    assert set(CallRecord.objects.filter(times_estimated=True).values_list("line", flat=True)) == {
        "102",
        "103",
    }
