"""The one mapping between history rows (``models.CallRecord``) and call events.

The worker's recorder writes rows from the call model's events and finished calls; the web
side (and the TMS socket) reads live rows back as call events. Both directions live here,
outside ``worker`` and ``web``, so each side imports the same rule.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .callmodel.events import (
    ActiveCallSnapshot,
    CallState,
    CommutationStarted,
    Direction,
    Feature,
    RingFinished,
)
from .callmodel.events import CallEvent as CallModelEvent
from .callmodel.records import FinishedCall
from .models import CallRecord

#: The party columns a row copies from every call event that says them.
PARTY_FIELDS = ("caller_number", "caller_name", "callee_number", "callee_name", "queue")


def when(timestamp: float | None) -> datetime:
    """A call-model time (epoch seconds) as a row's datetime; none said means now."""
    if timestamp is None:
        return datetime.now(tz=UTC)
    return datetime.fromtimestamp(timestamp, tz=UTC)


def text(value: str | None) -> str:
    """A call-model value as a row's text column (rows keep "" where the model has None)."""
    return value or ""


# -- call events to rows -----------------------------------------------------------------


def new_record(connector_id: int, item: CallModelEvent | FinishedCall) -> CallRecord:
    """The unsaved row of a call and line, from its first event or its finished call."""
    started = item.time if isinstance(item, CallModelEvent) else item.started_at
    return CallRecord(
        connector_id=connector_id,
        call_id=item.call_id,
        line=item.line,
        direction=str(item.direction),
        caller_number=text(item.caller_number),
        caller_name=text(item.caller_name),
        callee_number=text(item.callee_number),
        callee_name=text(item.callee_name),
        queue=text(item.queue),
        started_at=when(started),
    )


def apply_event(record: CallRecord, event: CallModelEvent) -> None:
    """What one call event changes in its row."""
    record.state = str(event.state)
    record.direction = str(event.direction)
    for field in PARTY_FIELDS:
        value = getattr(event, field)
        if value:
            setattr(record, field, value)
    if isinstance(event, CommutationStarted) and record.answered_at is None:
        record.answered_at = when(event.time)
    if isinstance(event, RingFinished):
        record.ended_at = when(event.time)
        record.disposition = str(event.disposition)
        record.hangup_cause = event.hangup_cause


def close_record(record: CallRecord, call: FinishedCall) -> None:
    """A row closed with its finished call's outcome and times."""
    record.state = "finished"
    record.disposition = str(call.disposition)
    record.hangup_cause = call.hangup_cause
    record.transferred_to = text(call.transferred_to)
    record.talk_seconds = round(call.talk_seconds or 0)
    record.hold_seconds = round(call.hold_seconds or 0)
    record.hold_count = call.hold_count
    if record.answered_at is None and call.answered_at is not None:
        record.answered_at = when(call.answered_at)
    record.ended_at = when(call.ended_at)
    if call.answered and record.answered_at is not None and call.ended_at is not None:
        # The stored answer wins: a leg rebuilt from a resync list (a takeover) only
        # estimates when it was answered, and its talk time must follow the real one.
        talk = call.ended_at - record.answered_at.timestamp()
        record.talk_seconds = max(0, round(talk))


# -- rows to call events -----------------------------------------------------------------


def call_fields(record: CallRecord) -> dict[str, Any]:
    """The call and party fields of a call event about this row (None where the row has "")."""
    return {
        "line": record.line,
        "call_id": record.call_id,
        "direction": Direction(record.direction),
        "caller_number": record.caller_number or None,
        "caller_name": record.caller_name or None,
        "callee_number": record.callee_number or None,
        "callee_name": record.callee_name or None,
        "queue": record.queue or None,
    }


def snapshot_wire(record: CallRecord) -> dict[str, Any]:
    """A live record as an ``ActiveCallSnapshot``, from its columns and its last event."""
    last = record.last_event or {}
    try:
        state = CallState(record.state)
    except ValueError:
        state = CallState.RINGING
    event = ActiveCallSnapshot(
        connector=str(last.get("connector") or record.connector_id),
        seq=int(last.get("seq") or 0),
        time=last.get("time"),
        state=state,
        features=Feature(int(last.get("features") or 0)),
        answered=record.answered_at is not None,
        started_at=record.started_at.timestamp(),
        **call_fields(record),
    )
    wire = event.to_wire()
    # The talk timer of a reloaded panel counts from here, not from the ring.
    wire["answered_at"] = record.answered_at.timestamp() if record.answered_at else None
    if last.get("contact"):
        wire["contact"] = last["contact"]
    return wire
