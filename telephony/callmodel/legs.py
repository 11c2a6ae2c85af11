"""Leg lifecycle: emits the call events of each line and builds its call records.

Owns hold bookkeeping and the "never an event after RingFinished" rule; events leave
unnumbered (``seq`` 0): the recorder numbers what it stores (``sequence.py``). Knows
nothing of AMI or of how channels map to legs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeGuard

from .events import (
    CallEvent,
    CallInfoChanged,
    CommutationStarted,
    Direction,
    Disposition,
    EndHoldAction,
    HoldSide,
    LineEvent,
    PutHoldAction,
    RingFinished,
)
from .facts import Party
from .records import FinishedCall
from .state import Leg


class LegBook:
    """Every live leg by line, the events they emit, and records waiting to be taken."""

    def __init__(self, connector: str, remote_of: Callable[[Leg], Party]) -> None:
        self.connector = connector
        self.now: float | None = None
        self.live: dict[str, list[Leg]] = {}
        self.records: list[FinishedCall] = []
        self._remote_of = remote_of

    # -- emitting ------------------------------------------------------------------------

    def emit(self, leg: Leg, kind: type[CallEvent], **extra: Any) -> CallEvent:
        """Build one event of ``leg`` as it stands now (unnumbered: ``seq`` 0)."""
        caller, callee = leg.shown
        event: CallEvent = kind(
            connector=self.connector,
            line=leg.line,
            seq=0,
            time=self.now,
            call_id=leg.call_id,
            direction=leg.direction,
            caller_number=caller.number,
            caller_name=caller.name,
            callee_number=callee.number,
            callee_name=callee.name,
            state=leg.state,
            features=leg.features(),
            queue=leg.queue,
            **extra,
        )
        return event

    def parties(self, leg: Leg) -> tuple[Party, Party]:
        """(caller, callee) as the panel shows them: the line is one, the remote the other."""
        remote = self._remote_of(leg)
        if leg.pinned and remote.number != leg.remote_hint.number:
            # Pinned: the hint's number stands; a name for that same number is still welcome.
            remote = leg.remote_hint
        if leg.direction is Direction.INCOMING or (
            leg.direction is Direction.INTERNAL and leg.is_callee
        ):
            return remote, leg.line_party
        return leg.line_party, remote

    def live_legs(self) -> list[Leg]:
        """Every leg not finished yet, on every line."""
        return [leg for legs in self.live.values() for leg in legs]

    # -- transitions ---------------------------------------------------------------------

    def open(self, leg: Leg) -> None:
        self.live.setdefault(leg.line, []).append(leg)
        leg.call.legs.append(leg)
        leg.shown = self.parties(leg)

    def refresh(self, leg: Leg, *, force: bool = False) -> list[LineEvent]:
        """``CallInfoChanged`` when the shown parties (or the direction) changed."""
        if leg.finished:
            return []
        shown = self.parties(leg)
        if shown == leg.shown and not force:
            return []
        leg.shown = shown
        return [self.emit(leg, CallInfoChanged)]

    def connect(self, leg: Leg) -> list[LineEvent]:
        if leg.connected or leg.finished:
            return []
        leg.connected = True
        leg.answered_at = self.now
        leg.shown = self.parties(leg)
        return [self.emit(leg, CommutationStarted)]

    def hold(self, leg: Leg, side: HoldSide, on_hold: bool) -> list[LineEvent]:
        """Hold by either side counts once: one Put/End pair however many sides hold."""
        if leg.finished or not leg.connected:
            return []
        sources = leg.hold_sources
        if on_hold:
            if side in sources:
                return []
            was_held = bool(sources)
            sources.add(side)
            if was_held:
                return []
            leg.hold_count += 1
            leg.hold_since = self.now
            return [self.emit(leg, PutHoldAction, held_by=side)]
        if side not in sources:
            # Asterisk 22 sends a stray Unhold before BlindTransfer (captures README, 9).
            return []
        sources.discard(side)
        if sources:
            return []
        self._close_hold(leg)
        return [self.emit(leg, EndHoldAction, held_by=side)]

    def finish(
        self,
        leg: Leg,
        disposition: Disposition,
        cause: int | None = None,
        cause_text: str | None = None,
    ) -> list[LineEvent]:
        """``RingFinished`` exactly once; the leg is forgotten and its record is built."""
        if leg.finished:
            return []
        self._close_hold(leg)
        leg.hold_sources.clear()
        leg.finished = True
        leg.ended_at = self.now
        leg.disposition = disposition
        leg.hangup_cause = cause
        leg.hangup_cause_text = cause_text
        event = self.emit(
            leg,
            RingFinished,
            disposition=disposition,
            hangup_cause=cause,
            hangup_cause_text=cause_text,
        )
        line_legs = self.live.get(leg.line)
        if line_legs is not None and leg in line_legs:
            line_legs.remove(leg)
            if not line_legs:
                del self.live[leg.line]
        if leg in leg.call.legs:
            leg.call.legs.remove(leg)
        return [event]

    def record(self, leg: Leg) -> FinishedCall:
        caller, callee = leg.shown
        talk: float | None = None
        if leg.ended_at is not None and leg.started_at is not None:
            talk = 0.0
            if leg.connected and leg.answered_at is not None:
                # Hold included, like Asterisk's billsec; hold_seconds says how much of it.
                talk = max(0.0, leg.ended_at - leg.answered_at)
        return FinishedCall(
            connector=self.connector,
            line=leg.line,
            call_id=leg.call_id,
            direction=leg.direction,
            caller_number=caller.number,
            caller_name=caller.name,
            callee_number=callee.number,
            callee_name=callee.name,
            queue=leg.queue,
            answered=leg.connected,
            disposition=leg.disposition or Disposition.FAILED,
            hangup_cause=leg.hangup_cause,
            hangup_cause_text=leg.hangup_cause_text,
            transferred_to=leg.transferred_to,
            started_at=leg.started_at,
            answered_at=leg.answered_at,
            ended_at=leg.ended_at,
            talk_seconds=talk,
            hold_seconds=leg.hold_seconds,
            hold_count=leg.hold_count,
        )

    def _close_hold(self, leg: Leg) -> None:
        if leg.hold_since is not None and self.now is not None:
            leg.hold_seconds = (leg.hold_seconds or 0.0) + max(0.0, self.now - leg.hold_since)
        leg.hold_since = None


def transferred(record: FinishedCall, line: str) -> FinishedCall:
    """The record of a leg whose remote party later reached ``line`` (Asterisk 11 Redirect)."""
    return replace(record, disposition=Disposition.TRANSFERRED, transferred_to=line)


def is_live(leg: Leg | None) -> TypeGuard[Leg]:
    """True for a leg that has not had its ``RingFinished`` yet."""
    return leg is not None and not leg.finished
