"""Call events as the operator panel sees them, with Creatio's names and codes kept.

Owns the wire shape: ``to_wire()`` is the one function that builds the JSON dict
(documented in docs/call-events.md). Knows nothing of AMI, sockets or the database.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any, ClassVar


class Direction(enum.StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"
    INTERNAL = "internal"


class CallState(enum.StrEnum):
    """Creatio's generalized call state (``state_code`` carries its number)."""

    RINGING = "ringing"
    CONNECTED = "connected"
    HELD = "held"
    BUSY = "busy"
    FINISHED = "finished"

    @property
    def code(self) -> int:
        # Creatio: ALERTING 1, CONNECTED 2, HOLDED 3, BUSY 6; finished has no number there.
        return _STATE_CODES[self]


_STATE_CODES = {
    CallState.RINGING: 1,
    CallState.CONNECTED: 2,
    CallState.HELD: 3,
    CallState.BUSY: 6,
    CallState.FINISHED: 0,
}


class Disposition(enum.StrEnum):
    """How a call ended for one line (``RingFinished`` and the call record)."""

    ANSWERED = "answered"
    MISSED = "missed"
    BUSY = "busy"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TRANSFERRED = "transferred"
    ANSWERED_ELSEWHERE = "answered-elsewhere"


class HoldSide(enum.StrEnum):
    """Who put the call on hold: the operator's own phone, or the party at the other end."""

    LINE = "line"
    REMOTE = "remote"


class TransferKind(enum.StrEnum):
    BLIND = "blind"
    ATTENDED = "attended"
    PARK = "park"


class Feature(enum.IntFlag):
    """Creatio's ``CallFeaturesSet``: what the panel's buttons may do now."""

    NONE = 0
    CAN_DIAL = 0x2
    CAN_ANSWER = 0x4
    CAN_DROP = 0x8
    CAN_HOLD = 0x10
    CAN_UNHOLD = 0x20
    CAN_COMPLETE_TRANSFER = 0x80
    CAN_BLIND_TRANSFER = 0x100
    CAN_MAKE_CONSULT_CALL = 0x200


@dataclass(frozen=True, slots=True, kw_only=True)
class LineEvent:
    """Anything sent to one operator line; ``seq`` is set by whoever stores it (sequence.py)."""

    code: ClassVar[int | None] = None

    connector: str
    line: str
    seq: int
    time: float | None

    @property
    def name(self) -> str:
        return type(self).__name__

    def to_wire(self) -> dict[str, Any]:
        """The JSON object sent to the browser and printed by ``ami_replay``."""
        wire: dict[str, Any] = {"event": self.name, "code": self.code}
        for item in dataclasses.fields(self):
            wire[item.name] = _wire_value(getattr(self, item.name))
        if isinstance(self, CallEvent):
            wire["state_code"] = self.state.code
        return wire


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEvent(LineEvent):
    """A change of one call as seen from one line."""

    call_id: str
    direction: Direction
    caller_number: str | None
    caller_name: str | None
    callee_number: str | None
    callee_name: str | None
    state: CallState
    features: Feature
    queue: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RingStarted(CallEvent):
    code: ClassVar[int | None] = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class RingFinished(CallEvent):
    code: ClassVar[int | None] = 6
    disposition: Disposition
    hangup_cause: int | None
    hangup_cause_text: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CommutationStarted(CallEvent):
    code: ClassVar[int | None] = 7


@dataclass(frozen=True, slots=True, kw_only=True)
class PutHoldAction(CallEvent):
    code: ClassVar[int | None] = 8
    held_by: HoldSide


@dataclass(frozen=True, slots=True, kw_only=True)
class EndHoldAction(CallEvent):
    code: ClassVar[int | None] = 9
    held_by: HoldSide


@dataclass(frozen=True, slots=True, kw_only=True)
class ActiveCallSnapshot(CallEvent):
    code: ClassVar[int | None] = 10
    answered: bool
    started_at: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LineStateChanged(LineEvent):
    """What a line can do now: its ``CallFeaturesSet`` after a transition, or a queue pause.

    Carries no call. ``features`` is the union over the line's live calls (plus CAN_DIAL);
    ``paused`` is None unless the event is about the line's queue membership.
    """

    code: ClassVar[int | None] = 11
    features: Feature = Feature.CAN_DIAL
    calls: int = 0
    paused: bool | None = None
    reason: str | None = None
    queue: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AbonentBusy(CallEvent):
    """The party the line dialled is busy; ``RingFinished`` (busy) follows when it hangs up."""

    code: ClassVar[int | None] = 13


@dataclass(frozen=True, slots=True, kw_only=True)
class CallInfoChanged(CallEvent):
    code: ClassVar[int | None] = 17


@dataclass(frozen=True, slots=True, kw_only=True)
class CallTransferred(CallEvent):
    """The line handed the call on; Creatio has no code for it, so ``code`` is null."""

    transferred_to: str | None
    transfer_kind: TransferKind


EVENT_TYPES: tuple[type[LineEvent], ...] = (
    RingStarted,
    RingFinished,
    CommutationStarted,
    PutHoldAction,
    EndHoldAction,
    ActiveCallSnapshot,
    LineStateChanged,
    AbonentBusy,
    CallInfoChanged,
    CallTransferred,
)


def _wire_value(value: object) -> object:
    if isinstance(value, enum.IntFlag):
        return int(value)
    if isinstance(value, enum.StrEnum):
        return str(value)
    return value
