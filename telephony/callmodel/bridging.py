"""The bridge handler: channels enter and leave bridges, and the resync after a reconnect
(our own channel list) that places them again. A bridge change re-derives who each leg talks
to; consultations start and complete here. Knows no AMI header names.
"""

from __future__ import annotations

from .consults import Consultations
from .events import LineEvent
from .facts import BridgeEntered, BridgeLeft, ChannelListCompleted, ChannelListed, ChannelState
from .hangups import HangupHandler
from .legs import is_live
from .lifecycle import LegLifecycle
from .registry import ChannelRegistry


class BridgeHandler:
    """Handles ``BridgeEntered``/``BridgeLeft`` and the resync list (``ChannelListed``...).

    A part of the tracker. Its own state: the Uniqueids of the channel list being received
    (None: no list in progress); the bridges themselves are the registry's.
    """

    def __init__(
        self,
        registry: ChannelRegistry,
        legs: LegLifecycle,
        consults: Consultations,
        hangups: HangupHandler,
    ) -> None:
        self.registry = registry
        self.legs = legs
        self.consults = consults
        self.hangups = hangups
        #: Uniqueids seen in the channel list being received (None: no list in progress).
        self._listed: set[str] | None = None

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
        return self.hangups.vanish(gone, None)
