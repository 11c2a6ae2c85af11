"""Turns AMI facts into call events per operator line. Knows no sockets, no database
and no clock: time comes from the facts (or from ``sweep(now)``).

Channels are keyed by Uniqueid and grouped into calls by Linkedid (12+) or by their
Dial/Bridge/Local family (1.8/11). Each line gets one leg per call (``state.Leg``), and a
second one while it consults. The tracker is a thin composition of parts, each a class with
its own state declared in its own ``__init__``, none inheriting from another:

- the channel registry (``registry.py``: channels, calls, bridges) and the leg book
  (``legs.py``: live legs, their events, finished records);
- the leg lifecycle (``lifecycle.py``: start, connect, finish rules; held-back records and
  parked legs) and the consultations (``consults.py``: consultation calls);
- one handler per topic: dial (``dialing.py``), bridge and resync (``bridging.py``), hold and
  parking (``holding.py``), transfer (``transfers.py``), queue (``queues.py``) and hangup
  (``hangups.py``).

``apply`` dispatches each fact by its type to one handler (the table is checked by mypy).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from .bridging import BridgeHandler
from .dialing import DialHandler
from .events import ActiveCallSnapshot, Disposition, LineEvent, LineStateChanged
from .facts import (
    AnyFact,
    BridgeEntered,
    BridgeLeft,
    ChannelCreated,
    ChannelHungUp,
    ChannelListCompleted,
    ChannelListed,
    ChannelStateChanged,
    DialBegan,
    DialEnded,
    DialUnreachable,
    Fact,
    HoldChanged,
    LocalPaired,
    Masqueraded,
    MemberPaused,
    MusicChanged,
    Originated,
    Parked,
    PartyChanged,
    QueueJoined,
    QueueLeft,
    QueueMemberCalled,
    Renamed,
    TransferDone,
    Unparked,
)
from .hangups import HangupHandler
from .holding import HoldHandler
from .lifecycle import LegLifecycle
from .lines import LineMatcher
from .queues import QueueHandler
from .records import FinishedCall
from .transfers import TransferHandler

F = TypeVar("F", bound=Fact)
Handler = Callable[[F], list[LineEvent]]


def _on(kind: type[F], handler: Handler[F]) -> tuple[type[Fact], Handler[Any]]:
    """One dispatch entry; mypy rejects a handler that does not take ``kind``."""
    return kind, handler


#: A channel silent this long is taken for lost (its Hangup never reached us).
DEFAULT_STALE_AFTER = 6 * 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class LegChannels:
    """Where a live leg is on the PBX: its own channel and the other party's."""

    call_id: str
    line: str
    state: str
    channel: str | None
    peer_channel: str | None


class CallTracker:
    """Follows channels and calls for one connector; emits Creatio-named call events."""

    def __init__(
        self,
        lines: LineMatcher | Iterable[str] | None = None,
        *,
        connector: str = "",
        stale_after: float | None = DEFAULT_STALE_AFTER,
        sweep_every: int = 10_000,
    ) -> None:
        # The state parts (the lifecycle builds the registry, book and consultations it
        # rules, as they need its rules and it needs them).
        self.legs = LegLifecycle(lines, connector)
        self.registry = self.legs.registry
        self.book = self.legs.book
        self.consults = self.legs.consults
        # The handlers, one per topic.
        self.hangups = HangupHandler(self.registry, self.legs, self.consults)
        self.dials = DialHandler(self.registry, self.legs, self.consults, self.hangups)
        self.bridges = BridgeHandler(self.registry, self.legs, self.consults, self.hangups)
        self.transfers = TransferHandler(self.registry, self.legs, self.consults)
        self.holds = HoldHandler(self.registry, self.legs, self.transfers)
        self.queues = QueueHandler(self.registry, self.book)
        self.stale_after = stale_after
        self._sweep_every = sweep_every
        self._facts = 0
        # Typed dispatch: ``_on`` lets mypy check that each handler takes its fact type.
        self._handlers: dict[type[Fact], Handler[Any]] = dict(
            [
                _on(ChannelCreated, self.dials.created),
                _on(ChannelStateChanged, self.dials.state_changed),
                _on(PartyChanged, self.dials.party_changed),
                _on(DialBegan, self.dials.dial_began),
                _on(DialEnded, self.dials.dial_ended),
                _on(DialUnreachable, self.dials.unreachable),
                _on(LocalPaired, self.dials.local_paired),
                _on(Originated, self.dials.originated),
                _on(BridgeEntered, self.bridges.bridge_entered),
                _on(BridgeLeft, self.bridges.bridge_left),
                _on(ChannelListed, self.bridges.listed_channel),
                _on(ChannelListCompleted, self.bridges.list_completed),
                _on(HoldChanged, self.holds.hold_changed),
                _on(MusicChanged, self.holds.music_changed),
                _on(Parked, self.holds.parked_call),
                _on(Unparked, self.holds.unparked_call),
                _on(TransferDone, self.transfers.transferred),
                _on(Masqueraded, self.transfers.masqueraded),
                _on(Renamed, self.transfers.renamed),
                _on(QueueJoined, self.queues.queue_joined),
                _on(QueueLeft, self.queues.queue_left),
                _on(QueueMemberCalled, self.queues.member_called),
                _on(MemberPaused, self.queues.member_paused),
                _on(ChannelHungUp, self.hangups.hung_up),
            ]
        )

    @property
    def lines(self) -> LineMatcher:
        return self.registry.lines

    @property
    def live_channels(self) -> int:
        return len(self.registry.channels)

    @property
    def live_calls(self) -> int:
        return len(self.registry.calls)

    @property
    def finished_calls(self) -> int:
        return self.registry.finished_calls

    def apply(self, fact: AnyFact) -> list[LineEvent]:
        """Apply one fact; return the call events it causes, in order."""
        if fact.time is not None and (self.book.now is None or fact.time > self.book.now):
            self.book.now = fact.time
        events = self._handlers[type(fact)](fact)
        self._facts += 1
        if self.stale_after is not None and self._facts % self._sweep_every == 0:
            events.extend(self.sweep())
        return events

    def take_records(self) -> list[FinishedCall]:
        """Records of legs finished since the last call (one per call and line)."""
        records, self.book.records = self.book.records, []
        return records

    def flush(self) -> list[FinishedCall]:
        """Release held-back records too (end of a replay); then ``take_records()``."""
        for pendings in self.legs.awaiting.values():
            for pending in pendings:
                self.legs.release(pending)
        self.legs.awaiting.clear()
        return self.take_records()

    def snapshot(self) -> list[LineEvent]:
        """``ActiveCallSnapshot`` of every live leg (for a panel that just connected)."""
        return [
            self.book.emit(
                leg, ActiveCallSnapshot, answered=leg.connected, started_at=leg.started_at
            )
            for legs in self.book.live.values()
            for leg in legs
        ]

    def leg_channels(self, call_id: str, line: str) -> LegChannels | None:
        """A live leg's state and channel names, for commands that act on it."""
        for leg in self.book.live.get(line, ()):
            if leg.call_id == call_id:
                return LegChannels(
                    call_id=call_id,
                    line=line,
                    state=str(leg.state),
                    channel=self._pick_channel(leg.channels),
                    peer_channel=self._pick_channel(leg.peers),
                )
        return None

    def lines_of_call(self, call_id: str) -> set[str]:
        """Every line on which the call is live now."""
        return {
            leg.line for legs in self.book.live.values() for leg in legs if leg.call_id == call_id
        }

    def _pick_channel(self, unique_ids: set[str]) -> str | None:
        """The name of the party's real channel: a phone or trunk before a Local half."""
        channels = [
            self.registry.channels[uid] for uid in unique_ids if uid in self.registry.channels
        ]
        channels.sort(key=lambda channel: (channel.is_local, channel.name))
        return channels[0].name if channels else None

    def live_keys(self) -> set[tuple[str, str]]:
        """``(call_id, line)`` of every leg not finished yet (to reconcile the history)."""
        return {(leg.call_id, leg.line) for legs in self.book.live.values() for leg in legs}

    def sweep(self, now: float | None = None) -> list[LineEvent]:
        """Forget channels silent for ``stale_after`` seconds; their legs finish ``failed``."""
        now = now if now is not None else self.book.now
        if self.stale_after is None or now is None:
            return []
        limit = now - self.stale_after
        stale = [
            c
            for c in self.registry.channels.values()
            if c.last_seen is not None and c.last_seen < limit
        ]
        return self.hangups.vanish(stale, Disposition.FAILED)

    def line_state(self, line: str, seq: int) -> LineStateChanged:
        """The line's ``CallFeaturesSet`` now, to send after a transition (not history).

        ``seq`` is the line's last number: the event adds none, being derived state.
        """
        return self.queues.line_state(line, seq)
