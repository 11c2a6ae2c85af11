"""The hold handler: ``Hold``/``Unhold``, music on hold where a phone sends no ``Hold``, and
hold by parking (a parked call is held, taken back by its line or handed over to another).
Knows no AMI header names.
"""

from __future__ import annotations

from .events import HoldSide, LineEvent, TransferKind
from .facts import HoldChanged, MusicChanged, Parked, Unparked
from .legs import is_live
from .lifecycle import LegLifecycle
from .lines import parse_channel
from .registry import ChannelRegistry
from .transfers import TransferHandler


class HoldHandler:
    """Handles hold, music on hold and parking.

    A part of the tracker with no state of its own: a leg's hold is the leg book's, the
    parked legs are the lifecycle's (its hang-up and start rules read them); a call
    retrieved from the park by another line is handed over by the transfer handler.
    """

    def __init__(
        self, registry: ChannelRegistry, legs: LegLifecycle, transfers: TransferHandler
    ) -> None:
        self.registry = registry
        self.legs = legs
        self.book = legs.book
        self.transfers = transfers

    def hold_changed(self, fact: HoldChanged) -> list[LineEvent]:
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

    def music_changed(self, fact: MusicChanged) -> list[LineEvent]:
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

    def parked_call(self, fact: Parked) -> list[LineEvent]:
        """Hold by parking (Creatio's way): the parker's leg is held, not finished."""
        parkee = self.registry.get(fact.parkee_id)
        if parkee is None:
            return []
        parker_line = self.registry.lines.line_of(parse_channel(fact.parker_channel or ""))
        legs = [
            leg
            for leg in self.registry.all_live_legs()
            if leg.connected and parkee.unique_id in leg.peers
        ]
        if parker_line is not None:
            legs = [leg for leg in legs if leg.line == parker_line] or legs
        events: list[LineEvent] = []
        for leg in legs:
            leg.parked_on = parkee.unique_id
            self.legs.parked.setdefault(parkee.unique_id, []).append(leg)
            events += self.book.hold(leg, HoldSide.LINE, True)
        return events

    def unparked_call(self, fact: Unparked) -> list[LineEvent]:
        legs = self.legs.parked.pop(fact.parkee_id, [])
        retriever = self.registry.get(fact.retriever_id) or self.registry.named(
            fact.retriever_channel
        )
        events: list[LineEvent] = []
        for leg in legs:
            if leg.finished:
                continue
            leg.parked_on = None
            if retriever is not None and retriever.line == leg.line:
                retriever.awaiting_unpark = False
                retriever.leg = leg
                leg.channels.add(retriever.unique_id)
                events += self.book.hold(leg, HoldSide.LINE, False)
                continue
            target = None
            if retriever is not None:
                target = retriever.line or retriever.own.number
            events += self.transfers.hand_over(leg, target, TransferKind.PARK)
        return events
