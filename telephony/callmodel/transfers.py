"""The transfer handler: ``BlindTransfer``/``AttendedTransfer`` (12+), and the channel
swaps of 1.8/11 (``Masquerade``, ``Rename``) that carry a call from one channel to another.
An attended transfer whose consultation is known completes it (``consults.py``). Knows no
AMI header names.
"""

from __future__ import annotations

from .consults import Consultations
from .events import CallTransferred, Disposition, LineEvent, TransferKind
from .facts import Masqueraded, Renamed, TransferDone
from .legs import is_live
from .lifecycle import LegLifecycle
from .registry import ChannelRegistry
from .state import Leg


class TransferHandler:
    """Handles transfers, masquerades and renames; ``hand_over`` ends a leg transferred.

    A part of the tracker with no state of its own: the live consultations are the
    consultations part's, held-back records and parked legs the lifecycle's.
    """

    def __init__(
        self, registry: ChannelRegistry, legs: LegLifecycle, consults: Consultations
    ) -> None:
        self.registry = registry
        self.legs = legs
        self.book = legs.book
        self.consults = consults

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
            events += self.hand_over(leg, target, kind)
        return events

    def hand_over(self, leg: Leg, target: str | None, kind: TransferKind) -> list[LineEvent]:
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
