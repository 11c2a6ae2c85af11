"""Builds AMI events by hand for the synthetic call-model tests, and runs them through it.

Each helper returns ``telephony.ami.Event`` values shaped like the real ones in
``tests/fixtures/ami`` (same header names and casing per dialect).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from telephony.ami import Event
from telephony.callmodel import CallTracker, DialectReader, LineEvent


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
    """A tracker fed event by event, with a clock that the test moves."""

    def __init__(self, lines: Iterable[str] | None = ("101", "102", "103"), **options: Any) -> None:
        self.reader = DialectReader(options.pop("dialect", "auto"))
        self.tracker = CallTracker(lines, **options)
        self.events: list[LineEvent] = []
        self.now = 1000.0

    def feed(self, *events: Event, at: float | None = None) -> list[LineEvent]:
        if at is not None:
            self.now = at
        out: list[LineEvent] = []
        for item in events:
            for fact in self.reader.read(item, self.now):
                out.extend(self.tracker.apply(fact))
        self.events.extend(out)
        return out

    def names(self, line: str) -> list[str]:
        return [item.name for item in self.events if item.line == line]

    def of(self, line: str) -> list[Any]:
        return [item for item in self.events if item.line == line]
