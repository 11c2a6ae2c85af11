"""The simulated PBX's ground truth: what each operator line's leg of a call really did.

Fault tests compare the worker's history with this log. It is written by the simulator's
own process (``ami_simulator --truth PATH``), one JSON object per line, flushed as it
happens, so a PBX killed mid-call leaves the legs it started and never ended:

    {"event": "started", "call_id": ..., "line": "101", "kind": "queue", "at": 1765...}
    {"event": "answered", "call_id": ..., "line": "101", "at": ...}
    {"event": "ended", "call_id": ..., "line": "101", "at": ..., "outcome": "answered"}

``call_id`` is the call's Linkedid; ``at`` is the PBX's wall clock (``time.time()``) when
it sent the events. ``outcome`` names the history's dispositions. Knows no sockets.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .channels import Call, Channel


@dataclass(slots=True)
class _Leg:
    answered: bool = False


class TruthLog:
    """Appends to ``path`` what every line leg did; ``observe()`` after each send."""

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self._file: IO[str] = Path(path).open("a", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self._clock = clock
        self._legs: dict[str, _Leg] = {}  # by the line channel's Uniqueid, while it lives

    def close(self) -> None:
        self._file.close()

    def observe(self, calls: Iterable[Call]) -> None:
        """Note what changed in ``calls`` since the last look (called as events go out)."""
        now = self._clock()
        for call in calls:
            for channel in call.channels:
                if channel.line is not None:
                    self._look(call, channel, now)
        self._file.flush()

    def _look(self, call: Call, channel: Channel, now: float) -> None:
        if channel.is_hung_up and channel.unique_id not in self._legs:
            return  # ended and written already (or hung up before any event: never seen)
        leg = self._legs.get(channel.unique_id)
        if leg is None:
            leg = self._legs[channel.unique_id] = _Leg()
            self._write("started", call, channel, now, kind=call.kind)
        if not leg.answered and _answered(call, channel):
            leg.answered = True
            self._write("answered", call, channel, now)
        if channel.is_hung_up:
            del self._legs[channel.unique_id]
            self._write("ended", call, channel, now, outcome=outcome(call, channel))

    def _write(self, event: str, call: Call, channel: Channel, now: float, **extra: str) -> None:
        entry = {"event": event, "call_id": channel.linked_id, "line": channel.line, "at": now}
        self._file.write(json.dumps({**entry, **extra}) + "\n")


def _answered(call: Call, channel: Channel) -> bool:
    return any(
        dial.status == "ANSWER" and channel in (dial.dest, dial.caller) for dial in call.dials
    )


def _live(channel: Channel | None) -> bool:
    return channel is not None and not channel.is_hung_up


def outcome(call: Call, channel: Channel) -> str:
    """The disposition of ``channel``'s leg once it has hung up, by what the PBX did."""
    to_me = [dial for dial in call.dials if dial.dest is channel]
    from_me = [dial for dial in call.dials if dial.caller is channel]
    if _answered(call, channel):
        # A blind transfer: the operator leaves while the customer stays on the line.
        if any(dial.status == "ANSWER" and _live(dial.caller) for dial in to_me):
            return "transferred"
        return "answered"
    if to_me:
        if any(dial.status == "BUSY" for dial in to_me):
            return "busy"
        if call.queue and any(dial.status == "ANSWER" for dial in call.dials):
            return "answered-elsewhere"
        return "missed"
    if from_me:
        return "cancelled"
    return "failed"
