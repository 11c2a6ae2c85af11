"""Turns AMI facts into call events per operator line. Knows no sockets, no database
and no clock: time comes from the facts (or from ``sweep(now)``).

Channels are keyed by Uniqueid and grouped into calls by Linkedid (12+) or by their
Dial/Bridge/Local family (1.8/11). Each line gets one leg per call (``state.Leg``), and a
second one while it consults. Composed of parts with their own state, no inheritance:
the leg lifecycle (``lifecycle.py``: start, connect, finish, hang-up rules) holding the
channel registry (``registry.py``), the leg book (``legs.py``) and the consultations
(``consults.py``); the handovers (``handovers.py``: bridges, transfers, masquerades, parking,
the resync list). This module dispatches each fact by its type (checked by mypy) and keeps
the dial, state, hold and queue handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from .events import (
    AbonentBusy,
    ActiveCallSnapshot,
    Direction,
    Disposition,
    Feature,
    HoldSide,
    LineEvent,
    LineStateChanged,
)
from .facts import (
    NOBODY,
    AnyFact,
    BridgeEntered,
    BridgeLeft,
    ChannelCreated,
    ChannelHungUp,
    ChannelListCompleted,
    ChannelListed,
    ChannelState,
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
    Party,
    PartyChanged,
    QueueJoined,
    QueueLeft,
    QueueMemberCalled,
    Renamed,
    TransferDone,
    Unparked,
)
from .handovers import Handovers
from .legs import is_live
from .lifecycle import LegLifecycle
from .lines import LineMatcher, parse_dial_target
from .records import CallRecord

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
        # The parts, each with its own state (see the module docstring).
        self.legs = LegLifecycle(lines, connector)
        self.registry = self.legs.registry
        self.book = self.legs.book
        self.consults = self.legs.consults
        self.handovers = Handovers(self.legs)
        self.stale_after = stale_after
        self._sweep_every = sweep_every
        self._facts = 0
        # Typed dispatch: ``_on`` lets mypy check that each handler takes its fact type.
        self._handlers: dict[type[Fact], Handler[Any]] = dict(
            [
                _on(ChannelCreated, self._created),
                _on(ChannelStateChanged, self._state_changed),
                _on(PartyChanged, self._party_changed),
                _on(ChannelHungUp, self.legs.hung_up),
                _on(DialBegan, self._dial_began),
                _on(DialEnded, self._dial_ended),
                _on(DialUnreachable, self.handovers.unreachable),
                _on(BridgeEntered, self.handovers.bridge_entered),
                _on(BridgeLeft, self.handovers.bridge_left),
                _on(HoldChanged, self._hold_changed),
                _on(TransferDone, self.handovers.transferred),
                _on(QueueJoined, self._queue_joined),
                _on(QueueLeft, self._queue_left),
                _on(QueueMemberCalled, self._member_called),
                _on(LocalPaired, self._local_paired),
                _on(Masqueraded, self.handovers.masqueraded),
                _on(Renamed, self.handovers.renamed),
                _on(Parked, self.handovers.parked_call),
                _on(Unparked, self.handovers.unparked_call),
                _on(Originated, self.handovers.originated),
                _on(ChannelListed, self.handovers.listed_channel),
                _on(ChannelListCompleted, self.handovers.list_completed),
                _on(MemberPaused, self._member_paused),
                _on(MusicChanged, self._music_changed),
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

    def take_records(self) -> list[CallRecord]:
        """Records of legs finished since the last call (one per call and line)."""
        records, self.book.records = self.book.records, []
        return records

    def flush(self) -> list[CallRecord]:
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
        return self.legs.vanish(stale, Disposition.FAILED)

    def _created(self, fact: ChannelCreated) -> list[LineEvent]:
        if fact.unique_id in self.registry.channels or not fact.unique_id:
            return []
        channel = self.registry.add_channel(
            unique_id=fact.unique_id,
            name=fact.channel,
            linked_id=fact.linked_id,
            state=fact.state,
            caller=fact.caller,
            connected=fact.connected,
            exten=fact.exten,
        )
        if fact.state is ChannelState.RING and not channel.is_local:
            return self.legs.start_leg(channel, is_callee=False)
        return []

    def _state_changed(self, fact: ChannelStateChanged) -> list[LineEvent]:
        channel = self.registry.get(fact.unique_id)
        if channel is None:
            return []
        channel.state = fact.state
        if fact.state is ChannelState.RING and channel.created_state is ChannelState.DOWN:
            # Asterisk 11 creates an inbound channel Down, then Newstate Ring: it called in.
            channel.created_state = ChannelState.RING
        if fact.caller is not NOBODY and fact.caller.number:
            channel.caller = fact.caller
        if fact.connected is not NOBODY and fact.connected.number:
            channel.connected = fact.connected
        events: list[LineEvent] = []
        if channel.leg is None and not channel.awaiting_unpark:
            if fact.state is ChannelState.RINGING:
                events += self.legs.start_leg(channel, is_callee=True)
            elif fact.state is ChannelState.RING and not channel.is_local:
                events += self.legs.start_leg(channel, is_callee=False)
        if fact.state is ChannelState.UP:
            channel.answered = True
            events += self.legs.answered(channel)
        if is_live(channel.leg):
            events += self.book.refresh(channel.leg)
        return events

    def _party_changed(self, fact: PartyChanged) -> list[LineEvent]:
        channel = self.registry.get(fact.unique_id)
        if channel is None:
            return []
        if fact.caller is not None:
            channel.caller = fact.caller
        if fact.connected is not None:
            channel.connected = fact.connected
        if is_live(channel.leg):
            return self.book.refresh(channel.leg)
        return []

    def _dial_began(self, fact: DialBegan) -> list[LineEvent]:
        dest = self.registry.get(fact.dest_id)
        if dest is None:
            return []
        caller = self.registry.get(fact.caller_id)
        events: list[LineEvent] = []
        if caller is None:
            if fact.caller_id is None:
                dest.originated = True
        else:
            dest.dialer = dest.dialer or caller.unique_id
            caller.dialed.add(dest.unique_id)
            dest.queue = dest.queue or caller.queue
            self.registry.join(caller, dest)
            if self.consults.live:
                self.consults.dialed(caller, dest)
            if caller.awaiting_unpark:
                caller.awaiting_unpark = False
                events += self.legs.start_leg(caller, is_callee=True)
            leg = caller.leg
            if leg is not None and not leg.finished:
                number = dest.caller.number or (fact.dial_string or "").rpartition("/")[2] or None
                dialled = caller.exten if caller.exten not in (None, "s") else None
                if not leg.is_callee and dialled and number != dialled:
                    # What the operator dialled reached other phones (ring or hunt group,
                    # follow-me): the call stays named by the number they dialled.
                    leg.remote_hint, leg.pinned = Party(dialled), True
                elif number:
                    leg.remote_hint = Party(number, dest.caller.name)
                if dest.line is not None and leg.direction is Direction.OUTGOING:
                    # The line placed (or picked up an Originate for) a call to a colleague.
                    leg.direction = Direction.INTERNAL
                events += self.book.refresh(leg)
        events += self.legs.start_leg(dest, is_callee=True)
        return events

    def _dial_ended(self, fact: DialEnded) -> list[LineEvent]:
        status = fact.status
        events: list[LineEvent] = []
        caller = self.registry.get(fact.caller_id)
        dests = [self.registry.get(fact.dest_id)] if fact.dest_id else []
        if fact.dest_id is None and caller is not None:
            # Asterisk 11 Dial End names no destination: it ends every leg the Dial began.
            dests = [self.registry.channels.get(uid) for uid in caller.dialed]
        for dest in dests:
            if dest is None or (fact.dest_id is None and dest.answered):
                continue
            dest.dial_status = status
            if is_live(dest.leg):
                dest.leg.last_dial_status = status
            if status == "ANSWER":
                events += self.legs.answered(dest)
        leg = caller.leg if caller is not None else None
        if leg is None and self.consults.live:
            events += self.consults.dial_ended(caller, status)
        if leg is not None and not leg.finished and status and status != "ANSWER":
            leg.out_dial_status = status
            if status == "BUSY":
                events.append(self.book.emit(leg, AbonentBusy))
        return events

    def _hold_changed(self, fact: HoldChanged) -> list[LineEvent]:
        channel = self.registry.get(fact.unique_id)
        if channel is None:
            return []
        if is_live(channel.leg):
            return self.book.hold(channel.leg, HoldSide.LINE, fact.on_hold)
        # The other party's phone held (its re-INVITE): the operator's leg shows it too.
        legs = [leg for leg in self.registry.all_live_legs() if channel.unique_id in leg.peers]
        events: list[LineEvent] = []
        for leg in legs:
            events += self.book.hold(leg, HoldSide.REMOTE, fact.on_hold)
        return events

    def _music_changed(self, fact: MusicChanged) -> list[LineEvent]:
        """Music on hold as hold, for phones that send no ``Hold`` (Asterisk 11 chan_sip with
        some phones): music to the operator's party is the operator's hold, music to the
        operator's own channel the party's. Never a queue's music (the caller waits, nobody
        is connected), and never during a consultation (its hold is the consultation's).
        Counted once with any ``Hold`` of the same side (see ``LegBook.hold``)."""
        channel = self.registry.get(fact.unique_id)
        if channel is None or channel.waiting_in_queue:
            return []
        events: list[LineEvent] = []
        for leg in self.registry.all_live_legs():
            if not leg.connected or leg.consult is not None or leg.consult_of is not None:
                continue
            if channel.unique_id in leg.channels:
                events += self.book.hold(leg, HoldSide.REMOTE, fact.playing)
            elif channel.unique_id in leg.peers:
                events += self.book.hold(leg, HoldSide.LINE, fact.playing)
        return events

    def _queue_joined(self, fact: QueueJoined) -> list[LineEvent]:
        channel = self.registry.get(fact.unique_id)
        if channel is not None:
            channel.queue = fact.queue
            channel.waiting_in_queue = True
            channel.call.queue = fact.queue
        return []

    def _queue_left(self, fact: QueueLeft) -> list[LineEvent]:
        channel = self.registry.get(fact.unique_id)
        if channel is not None:
            channel.waiting_in_queue = False
        return []

    def _member_called(self, fact: QueueMemberCalled) -> list[LineEvent]:
        caller = self.registry.get(fact.caller_id)
        dest = self.registry.get(fact.dest_id) or self.registry.named(fact.dest_channel)
        if dest is None:
            return []
        dest.queue = fact.queue
        if caller is not None:
            dest.dialer = dest.dialer or caller.unique_id
            caller.dialed.add(dest.unique_id)
            self.registry.join(caller, dest)
        leg = dest.leg
        if not is_live(leg) or leg.queue == fact.queue:
            return []
        leg.queue = fact.queue
        if leg.is_callee and leg.direction is Direction.OUTGOING:
            # 1.8/11 shows no Dial to a queue member: a member that rang before the queue
            # said so was taken for an Originate. The queue's caller called it.
            dest.originated = False
            leg.direction = Direction.INCOMING
            if caller is not None:
                leg.remote_hint = caller.caller
                if caller.line is not None:
                    leg.direction = Direction.INTERNAL
        return self.book.refresh(leg, force=True)

    def _local_paired(self, fact: LocalPaired) -> list[LineEvent]:
        one, two = self.registry.get(fact.one_id), self.registry.get(fact.two_id)
        if one is not None and two is not None:
            self.registry.pair(one, two)
            if self.consults.live:
                self.consults.paired(one, two)
        return []

    def _member_paused(self, fact: MemberPaused) -> list[LineEvent]:
        line = self.registry.lines.line_of(parse_dial_target(fact.interface))
        if line is None:
            return []
        features, calls = self._line_features(line)
        event = LineStateChanged(
            connector=self.book.connector, line=line, seq=0,
            time=self.book.now, features=features, calls=calls,
            paused=fact.paused, reason=fact.reason, queue=fact.queue,
        )  # fmt: skip
        return [event]

    def _line_features(self, line: str) -> tuple[Feature, int]:
        legs = [leg for leg in self.book.live.get(line, ()) if not leg.finished]
        features = Feature.CAN_DIAL
        for leg in legs:
            features |= leg.features()
        return features, len(legs)

    def line_state(self, line: str, seq: int) -> LineStateChanged:
        """The line's ``CallFeaturesSet`` now, to send after a transition (not history).

        ``seq`` is the line's last number: the event adds none, being derived state.
        """
        features, calls = self._line_features(line)
        return LineStateChanged(
            connector=self.book.connector, line=line, seq=seq, time=self.book.now,
            features=features, calls=calls,
        )  # fmt: skip
