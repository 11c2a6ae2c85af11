"""The hangup handler: a channel is gone (``Hangup``), or channels are given up for lost
(the stale sweep, a resync list that no longer has them). Finishes legs by the lifecycle's
rules. Knows no AMI header names.
"""

from __future__ import annotations

from .consults import Consultations
from .events import Disposition, LineEvent
from .facts import ChannelHungUp
from .lifecycle import LegLifecycle
from .registry import ChannelRegistry
from .state import Channel, Leg


class HangupHandler:
    """Handles ``ChannelHungUp``; ``vanish`` hangs up channels the PBX no longer has.

    A part of the tracker. Its own state: none (what is waiting on a channel, the held-back
    records and the parked legs, is the lifecycle's).
    """

    def __init__(
        self, registry: ChannelRegistry, legs: LegLifecycle, consults: Consultations
    ) -> None:
        self.registry = registry
        self.legs = legs
        self.consults = consults

    def hung_up(self, fact: ChannelHungUp) -> list[LineEvent]:
        channel = self.registry.channels.get(fact.unique_id)
        if channel is None:
            return []
        legs = self.legs
        events: list[LineEvent] = []
        if self.consults.live:
            events += self.consults.before_hangup(channel)
        del self.registry.channels[fact.unique_id]
        if self.registry.by_name.get(channel.name) == channel.unique_id:
            del self.registry.by_name[channel.name]
        self.registry.leave_bridge(channel)
        leg = channel.leg
        if leg is not None and not leg.finished:
            leg.channels.discard(channel.unique_id)
            if fact.cause not in (None, 0, 16) or leg.hangup_cause is None:
                leg.hangup_cause, leg.hangup_cause_text = fact.cause, fact.cause_text
            if not leg.channels and channel.is_local:
                self._adopt_local_far_side(leg, channel)
            if not leg.channels and leg.parked_on is None:
                disposition = Disposition.ANSWERED if leg.connected else legs.unanswered(leg)
                events += legs.finish(
                    leg, disposition, leg.hangup_cause, leg.hangup_cause_text, hold_back=True
                )
        for parked in legs.parked.pop(channel.unique_id, []):
            # The parked caller hung up (ParkedCallGiveUp): the held call is over.
            parked.parked_on = None
            events += legs.finish(parked, Disposition.ANSWERED, fact.cause, fact.cause_text)
        for pending in legs.awaiting.pop(channel.unique_id, []):
            legs.release(pending)
        call = channel.call
        call.channels.discard(channel.unique_id)
        if not call.channels and self.registry.calls.get(call.key) is call:
            del self.registry.calls[call.key]
            self.registry.finished_calls += 1
            for orphan in list(call.legs):
                if not orphan.channels and orphan.parked_on is None:
                    disposition = Disposition.ANSWERED if orphan.connected else Disposition.FAILED
                    events += legs.finish(orphan, disposition)
        if self.consults.live:
            events += self.consults.after_hangup(channel)
        return events

    def _adopt_local_far_side(self, leg: Leg, local: Channel) -> None:
        """Local optimisation: the device the Local pair reached takes over the leg."""
        partner = self.registry.channels.get(local.partner) if local.partner else None
        if partner is None:
            return
        for unique_id in partner.dialed:
            far = self.registry.channels.get(unique_id)
            if far is not None and far.leg is None and not far.is_local:
                far.leg = leg
                leg.channels.add(unique_id)

    def vanish(self, channels: list[Channel], disposition: Disposition | None) -> list[LineEvent]:
        """Hang up channels the PBX no longer has; their legs finish ``disposition`` (None:
        by the usual rules)."""
        events: list[LineEvent] = []
        with self.legs.forcing(disposition):
            for channel in channels:
                fact = ChannelHungUp(
                    time=self.legs.book.now, unique_id=channel.unique_id, channel=channel.name,
                    cause=None, cause_text=None,
                )  # fmt: skip
                events += self.hung_up(fact)
        return events
