"""The worker's history against the simulator's ground truth (``telephony/simulator/truth.py``).

For each line leg the PBX had, exactly one ``CallRecord``, closed, with the PBX's outcome and
times within ``TOLERANCE``; no record the PBX never had. ``blind`` windows are when the AMI
link itself was down (a cut, a silent link, a dead leader, a dead PBX): Asterisk replays
nothing, so what happened inside one is known only as far as the PBX says it afterwards:

- a leg that began and ended inside a window is invisible to any AMI client: listed, not
  required;
- a leg still live when the link is back is in ``CoreShowChannels`` with its ``Duration``:
  its start must be right to ``TOLERANCE``;
- an answer or an end inside a window has no time from the PBX: the record's must fall in
  the window (an estimate); an outcome decided inside the window cannot be known either,
  only that the record is closed;
- a leg that never ended in the truth log died with the PBX process (``kill -9``): its
  record must end inside the window, answered only if it was.

Legs that began before the first worker logged in are left to the resync tests: the
comparison starts at ``since``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

#: Where the PBX gives the time, the history must agree with it to a second.
TOLERANCE = 1.0
#: Slack after a blind window for an estimated time (the resync's round trips).
SLACK = 3.0


@dataclass
class Leg:
    call_id: str
    line: str
    kind: str
    started: float
    answered: float | None = None
    ended: float | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class Window:
    start: float
    end: float

    def holds(self, leg: Leg) -> bool:
        return leg.ended is not None and self.start <= leg.started and leg.ended <= self.end


def read_truth(path: Path) -> dict[tuple[str, str], Leg]:
    legs: dict[tuple[str, str], Leg] = {}
    # The simulator may be writing: a last line without its newline is not complete yet.
    for text in path.read_text().split("\n")[:-1]:
        entry = json.loads(text)
        key = (entry["call_id"], entry["line"])
        if entry["event"] == "started":
            legs[key] = Leg(entry["call_id"], entry["line"], entry["kind"], entry["at"])
        elif entry["event"] == "answered":
            legs[key].answered = entry["at"]
        elif entry["event"] == "ended":
            legs[key].ended = entry["at"]
            legs[key].outcome = entry["outcome"]
    return legs


@dataclass
class Comparison:
    legs: int = 0
    checked: int = 0
    invisible: list[Leg] = field(default_factory=list)
    lost: list[Leg] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    still_open: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.extra or self.still_open or self.wrong)

    def __str__(self) -> str:
        lines = [
            f"{self.legs} legs in the truth, {self.checked} checked, "
            f"{len(self.invisible)} invisible to AMI (wholly inside a blind window)",
            f"lost ({len(self.lost)}): {[(leg.call_id, leg.line, leg.kind) for leg in self.lost]}",
            f"not in the truth ({len(self.extra)}): {self.extra}",
            f"left open ({len(self.still_open)}): {self.still_open}",
            f"wrong ({len(self.wrong)}):",
            *(f"  {text}" for text in self.wrong),
        ]
        return "\n".join(lines)


def _seconds(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def compare(
    truth: dict[tuple[str, str], Leg],
    records: list[dict[str, Any]],
    *,
    since: float,
    blind: list[Window],
) -> Comparison:
    """``records``: ``CallRecord.objects.values()`` of the connector."""
    result = Comparison(legs=len(truth))
    by_key = {(r["call_id"], r["line"]): r for r in records}
    for record in records:
        key = (record["call_id"], record["line"])
        if key not in truth:
            result.extra.append(f"{key} {record['disposition']}")
        if record["ended_at"] is None:
            result.still_open.append(f"{key} started {record['started_at']}")
    for key, leg in truth.items():
        if leg.started < since:
            continue
        found = by_key.get(key)
        if found is None:
            if any(window.holds(leg) for window in blind):
                result.invisible.append(leg)
            else:
                result.lost.append(leg)
            continue
        result.checked += 1
        result.wrong.extend(_differences(leg, found, blind))
    return result


def _inside(moment: float | None, blind: list[Window]) -> Window | None:
    if moment is None:
        return None
    return next((w for w in blind if w.start <= moment <= w.end), None)


def _differences(leg: Leg, record: dict[str, Any], blind: list[Window]) -> list[str]:
    where = f"{leg.kind} {leg.call_id} line {leg.line}:"
    found: list[str] = []

    def near(name: str, expected: float | None, actual: float | None) -> None:
        window = _inside(expected, blind)
        if window is not None:  # the PBX never says this time: an estimate in the window
            if actual is None or not window.start - TOLERANCE <= actual <= window.end + SLACK:
                found.append(f"{where} {name} {actual}, outside the blind window {window}")
            return
        if expected is None and actual is None:
            return
        if expected is None or actual is None or abs(expected - actual) > TOLERANCE:
            off = "" if expected is None or actual is None else f" ({actual - expected:+.1f} s)"
            found.append(f"{where} {name} {actual} against the PBX's {expected}{off}")

    near("started", leg.started, _seconds(record["started_at"]))
    answered = _seconds(record["answered_at"])
    unseen = leg.ended is not None and _inside(leg.ended, blind) is not None
    if not (unseen and answered is None and _inside(leg.answered, blind) is not None):
        # (an answer inside a window of a leg that also ended there is unknowable)
        near("answered", leg.answered, answered)
    ended = _seconds(record["ended_at"])
    outcome = record["disposition"]
    if leg.ended is None:  # died with the PBX process
        crash = next((w for w in blind if w.start >= leg.started), None)
        if crash is None:
            found.append(f"{where} never ended in the PBX and no blind window explains it")
        elif ended is None or not crash.start - TOLERANCE <= ended <= crash.end + SLACK:
            found.append(f"{where} ended {ended}, not inside the PBX's crash {crash}")
        if (outcome == "answered") != (leg.answered is not None):
            found.append(f"{where} outcome {outcome!r} but answered at {leg.answered}")
        return found
    near("ended", leg.ended, ended)
    decided_unseen = _inside(leg.ended, blind) is not None and (
        leg.answered is None or _inside(leg.answered, blind) is not None
    )
    if not decided_unseen and outcome != leg.outcome:
        found.append(f"{where} outcome {outcome!r}, the PBX's {leg.outcome!r}")
    return found
