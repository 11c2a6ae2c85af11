"""Facts that move a call between channels or lines: transfers, masquerades, parking,
offline targets, Originate results and the resync after a reconnect.
"""

from __future__ import annotations

from .events import CallTransferred, Direction, Disposition, HoldSide, LineEvent, TransferKind
from .facts import (
    BridgeEntered,
    BridgeLeft,
    ChannelHungUp,
    ChannelListCompleted,
    ChannelListed,
    ChannelState,
    DialUnreachable,
    Masqueraded,
    Originated,
    Parked,
    Party,
    Renamed,
    TransferDone,
    Unparked,
)
from .legs import is_live
from .lifecycle import LegLifecycle
from .lines import parse_channel, parse_dial_target
from .state import Leg


class Handovers:
    """Handlers for the facts where a call changes hands or channels.

    A part of the tracker: it works on the legs (and through them the registry, the book
    and the consultations) it is given; its own state is the channel list in progress.
    """

    def __init__(self, legs: LegLifecycle) -> None:
        self.legs = legs
        self.registry = legs.registry
        self.book = legs.book
        self.consults = legs.consults
        #: Uniqueids seen in the channel list being received (None: no list in progress).
        self._listed: set[str] | None = None

    def unreachable(self, fact: DialUnreachable) -> list[LineEvent]:
        caller = self.registry.get(fact.caller_id)
        if caller is None:
            return []
        events: list[LineEvent] = []
        for target in fact.targets:
            line = self.registry.lines.line_of(parse_dial_target(target))
            if line is None or caller.call.live_leg(line) is not None:
                continue
            # No channel of that phone ever existed (it is offline): record who tried.
            ghost = self.registry.add_channel(
                unique_id=f"{caller.unique_id}>{target}",
                name=f"{target}-unreachable",
                linked_id=None,
                state=ChannelState.DOWN,
                caller=Party(line),
                connected=caller.caller,
                exten=None,
            )
            ghost.line = line
            ghost.dialer = caller.unique_id
            ghost.has_linked_id = caller.has_linked_id
            self.registry.join(caller, ghost)
            if ghost.call is not caller.call:
                ghost.call.channels.discard(ghost.unique_id)
                self.registry.calls.pop(ghost.call.key, None)
                ghost.call = caller.call
                caller.call.channels.add(ghost.unique_id)
            events += self.legs.start_leg(ghost, is_callee=True)
            if is_live(ghost.leg):
                ghost.leg.last_dial_status = fact.status
            hangup = ChannelHungUp(
                time=fact.time, unique_id=ghost.unique_id, channel=ghost.name, cause=None,
                cause_text=fact.status,
            )  # fmt: skip
            events += self.legs.hung_up(hangup)
        return events

    def originated(self, fact: Originated) -> list[LineEvent]:
        channel = self.registry.get(fact.unique_id) or self.registry.named(fact.channel)
        if channel is None or not fact.success:
            return []
        channel.originated = True
        leg = channel.leg
        if leg is None or leg.finished or leg.direction is Direction.OUTGOING:
            return []
        if leg.direction is Direction.INTERNAL and any(
            (dest := self.registry.channels.get(uid)) is not None and dest.line is not None
            for uid in channel.dialed
        ):
            return []  # click-to-call to a colleague: internal, as the dial already said
        leg.direction = Direction.OUTGOING
        return self.book.refresh(leg, force=True)

    def transferred(self, fact: TransferDone) -> list[LineEvent]:
        legs: list[Leg] = []
        for unique_id in (fact.transferer_id, fact.other_transferer_id):
            channel = self.registry.get(unique_id)
            if channel is not None and is_live(channel.leg) and channel.leg not in legs:
                legs.append(channel.leg)
        target_channel = self.registry.get(fact.target_id)
        target = fact.target
        if target_channel is not None and target_channel.line is not None:
            target = target_channel.line
        kind = TransferKind.ATTENDED if fact.attended else TransferKind.BLIND
        events: list[LineEvent] = []
        if fact.attended:
            for leg in legs:
                orig, consult = (leg.consult_of, leg) if leg.consult_of else (leg, leg.consult)
                if consult is not None and is_live(orig):
                    # The transferer's two calls meet: the consultation's transfer is done.
                    return self.consults.complete(orig, consult)
        for leg in legs:
            events += self._hand_over(leg, target, kind)
        return events

    def _hand_over(self, leg: Leg, target: str | None, kind: TransferKind) -> list[LineEvent]:
        leg.transferred_to = target
        event = self.book.emit(leg, CallTransferred, transferred_to=target, transfer_kind=kind)
        return [event, *self.legs.finish(leg, Disposition.TRANSFERRED)]

    def renamed(self, fact: Renamed) -> list[LineEvent]:
        channel = self.registry.get(fact.unique_id)
        if channel is None:
            return []
        if self.registry.by_name.get(channel.name) == channel.unique_id:
            del self.registry.by_name[channel.name]
        channel.name = fact.new_channel
        self.registry.by_name[fact.new_channel] = channel.unique_id
        return []

    def masqueraded(self, fact: Masqueraded) -> list[LineEvent]:
        """Asterisk 11: the new channel (``original``) carries on the live call of ``clone``,
        whose Uniqueid then hangs up as a zombie (captures README, fact 6)."""
        clone, heir = (
            self.registry.named(fact.clone_channel),
            self.registry.named(fact.original_channel),
        )
        if clone is None or heir is None or clone is heir:
            return []
        heir.call.channels.discard(heir.unique_id)
        if not heir.call.channels and not heir.call.legs:
            self.registry.calls.pop(heir.call.key, None)
        heir.call = clone.call
        clone.call.channels.add(heir.unique_id)
        for attribute in ("dialer", "dialed", "answered", "state", "caller", "own", "connected",
                          "queue", "originated", "line"):  # fmt: skip
            setattr(heir, attribute, getattr(clone, attribute))
        heir.partner, clone.partner = clone.partner, None
        partner = self.registry.channels.get(heir.partner) if heir.partner else None
        if partner is not None:
            partner.partner = heir.unique_id
        heir.leg, clone.leg, clone.line = clone.leg, None, None
        if heir.leg is not None:
            heir.leg.channels.discard(clone.unique_id)
            heir.leg.channels.add(heir.unique_id)
        if clone.bridge is not None:
            bridge = clone.bridge
            self.registry.leave_bridge(clone)
            heir.bridge = bridge
            self.registry.bridges.setdefault(bridge, set()).add(heir.unique_id)
        old, new = clone.unique_id, heir.unique_id
        for channel in self.registry.channels.values():
            if channel.dialer == old:
                channel.dialer = new
        for leg in self.registry.all_live_legs():
            if old in leg.peers:
                leg.peers = (leg.peers - {old}) | {new}
            if leg.root_id == old:
                leg.root_id = new
        if self.consults.live:
            self.consults.renamed(old, new)
        if old in self.legs.awaiting:
            self.legs.awaiting.setdefault(new, []).extend(self.legs.awaiting.pop(old))
        if old in self.legs.parked:
            self.legs.parked.setdefault(new, []).extend(self.legs.parked.pop(old))
        return []

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
            events += self._hand_over(leg, target, TransferKind.PARK)
        return events

    def listed_channel(self, fact: ChannelListed) -> list[LineEvent]:
        if self._listed is None:
            self._listed = set()
        self._listed.add(fact.unique_id)
        channel = self.registry.get(fact.unique_id)
        events: list[LineEvent] = []
        if channel is None:
            channel = self.registry.add_channel(
                unique_id=fact.unique_id,
                name=fact.channel,
                linked_id=fact.linked_id,
                state=fact.state,
                caller=fact.caller,
                connected=fact.connected,
                exten=None,
            )
            if fact.state in (ChannelState.RING, ChannelState.RINGING, ChannelState.UP):
                events += self.legs.start_leg(
                    channel, is_callee=fact.state is not ChannelState.RING
                )
                if fact.state is ChannelState.UP and is_live(channel.leg):
                    events += self.legs.connect(channel.leg)
        else:
            channel.state = fact.state
        if fact.bridge_id:
            events += self.bridge_entered(BridgeEntered(time=fact.time, unique_id=fact.unique_id,
                                                         bridge_id=fact.bridge_id))  # fmt: skip
        elif fact.bridged_id and fact.bridged_id in self.registry.channels:
            pair = sorted((fact.unique_id, fact.bridged_id))
            bridge = f"legacy:{pair[0]}|{pair[1]}"
            for unique_id in pair:
                events += self.bridge_entered(
                    BridgeEntered(time=fact.time, unique_id=unique_id, bridge_id=bridge)
                )
        return events

    def list_completed(self, fact: ChannelListCompleted) -> list[LineEvent]:
        """After a reconnect: calls that vanished while we were away are finished."""
        listed, self._listed = self._listed or set(), None
        gone = [channel for uid, channel in self.registry.channels.items() if uid not in listed]
        return self.legs.vanish(gone, None)

    def bridge_entered(self, fact: BridgeEntered) -> list[LineEvent]:
        channel = self.registry.get(fact.unique_id)
        if channel is None:
            return []
        if channel.bridge != fact.bridge_id:
            self.registry.leave_bridge(channel)
        channel.bridge = fact.bridge_id
        members = self.registry.bridges.setdefault(fact.bridge_id, set())
        members.add(channel.unique_id)
        if fact.is_holding:
            self.registry.holding_bridges.add(fact.bridge_id)
            return []
        involved = [c for uid in members if (c := self.registry.channels.get(uid)) is not None]
        for other in involved:
            if not channel.has_linked_id:
                self.registry.join(other, channel)
        # Transfers completed and operators back first (before peers are re-derived: a
        # returning operator must not "connect" its consultation), then new consultations.
        events = self.consults.bridged(involved) if self.consults.live else []
        if len(involved) > 1:
            events += self.consults.by_bridge(involved)
        return events + self.legs.evaluate(involved)

    def bridge_left(self, fact: BridgeLeft) -> list[LineEvent]:
        channel = self.registry.get(fact.unique_id)
        if channel is not None and channel.bridge == fact.bridge_id:
            self.registry.leave_bridge(channel)
        return []
