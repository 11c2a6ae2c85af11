"""One finished call as one line saw it: ``FinishedCall``, what the history row keeps.

Pure values; built by the tracker when a line's part of a call is over. The ORM row it is
saved into is ``telephony.models.CallRecord``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .events import Direction, Disposition


@dataclass(frozen=True, slots=True, kw_only=True)
class FinishedCall:
    """Per call and line: who, how it ended, and how long it talked and held."""

    connector: str
    line: str
    call_id: str
    direction: Direction
    caller_number: str | None
    caller_name: str | None
    callee_number: str | None
    callee_name: str | None
    queue: str | None
    answered: bool
    disposition: Disposition
    hangup_cause: int | None
    hangup_cause_text: str | None
    transferred_to: str | None
    started_at: float | None
    answered_at: float | None
    ended_at: float | None
    talk_seconds: float | None
    hold_seconds: float | None
    hold_count: int

    def to_wire(self) -> dict[str, Any]:
        """JSON-ready dict, enums as their wire strings."""
        wire = dataclasses.asdict(self)
        wire["direction"] = str(self.direction)
        wire["disposition"] = str(self.disposition)
        return wire
