"""Builds AMI events by hand for the synthetic call-model tests, and runs them through it.

Each helper returns ``telephony.ami.Event`` values shaped like the real ones in
``tests/fixtures/ami`` (same header names and casing per dialect).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from telephony.ami import Event
from telephony.callmodel import CallModel, CallTracker, FinishedCall, LineEvent, LineSequences


def event(name: str, **headers: str) -> Event:
    """``event("Hangup", Uniqueid="1", Cause="16")``; ``Cause_txt`` spells ``Cause-txt``."""
    fields: list[tuple[str | None, str]] = [("Event", name)]
    fields += [(key.replace("_", "-"), value) for key, value in headers.items()]
    return Event.from_fields(fields)


def channel(
    name: str,
    uid: str,
    linkedid: str | None,
    state: str,
    num: str,
    *,
    cid_name: str = "",
    **extra: str,
) -> dict[str, str]:
    """The channel header block of a 12+ (with Linkedid) or 11 (without) event."""
    headers = {
        "Channel": name,
        "ChannelStateDesc": state,
        "CallerIDNum": num,
        "CallerIDName": cid_name or "<unknown>",
        "ConnectedLineNum": extra.pop("connected", "<unknown>"),
        "ConnectedLineName": "<unknown>",
        "Exten": extra.pop("exten", "s"),
        "Uniqueid": uid,
    }
    if linkedid is not None:
        headers["Linkedid"] = linkedid
    headers.update(extra)
    return headers


class Run:
    """The call model fed event by event (``CallModel.feed``), with a clock the test moves."""

    def __init__(self, lines: Iterable[str] | None = ("101", "102", "103"), **options: Any) -> None:
        dialect = options.pop("dialect", "auto")
        self.model = CallModel(lines, dialect=dialect, **options)
        self.events: list[LineEvent] = []
        #: Each event's wire form numbered as the recorder numbers a fresh history.
        self.wires: list[dict[str, Any]] = []
        self._numbers = LineSequences()
        self.records: list[FinishedCall] = []
        self.now = 1000.0

    @property
    def tracker(self) -> CallTracker:
        return self.model.tracker

    def feed(self, *events: Event, at: float | None = None) -> list[LineEvent]:
        if at is not None:
            self.now = at
        out: list[LineEvent] = []
        for item in events:
            result = self.model.feed(item, self.now)
            assert result.failure is None, result.failure
            out.extend(result.events)
            self.records.extend(result.records)
        self.events.extend(out)
        self.wires.extend(self._numbers.stamp(item.to_wire()) for item in out)
        return out

    def finish(self) -> list[FinishedCall]:
        """Every record so far, and those held back until the end of the stream."""
        return self.records + self.model.finish()

    def names(self, line: str) -> list[str]:
        return [item.name for item in self.events if item.line == line]

    def of(self, line: str) -> list[Any]:
        return [item for item in self.events if item.line == line]

    def seqs(self, line: str) -> list[int]:
        return [wire["seq"] for wire in self.wires if wire["line"] == line]
