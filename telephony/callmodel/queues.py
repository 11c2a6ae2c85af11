"""The queue handler: a caller joins and leaves a queue, a queue rings a member, a member
pauses; and the line's ``CallFeaturesSet`` (``LineStateChanged``) that a pause and every
transition send. Knows no AMI header names.
"""

from __future__ import annotations

from .events import Direction, Feature, LineEvent, LineStateChanged
from .facts import MemberPaused, QueueJoined, QueueLeft, QueueMemberCalled
from .legs import LegBook, is_live
from .lines import parse_dial_target
from .registry import ChannelRegistry


class QueueHandler:
    """Handles queue facts and builds line states.

    A part of the tracker with no state of its own: a channel's queue is the registry's, a
    leg's queue and features the leg book's.
    """

    def __init__(self, registry: ChannelRegistry, book: LegBook) -> None:
        self.registry = registry
        self.book = book

    def queue_joined(self, fact: QueueJoined) -> list[LineEvent]:
        channel = self.registry.get(fact.unique_id)
        if channel is not None:
            channel.queue = fact.queue
            channel.waiting_in_queue = True
            channel.call.queue = fact.queue
        return []

    def queue_left(self, fact: QueueLeft) -> list[LineEvent]:
        channel = self.registry.get(fact.unique_id)
        if channel is not None:
            channel.waiting_in_queue = False
        return []

    def member_called(self, fact: QueueMemberCalled) -> list[LineEvent]:
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

    def member_paused(self, fact: MemberPaused) -> list[LineEvent]:
        line = self.registry.lines.line_of(parse_dial_target(fact.interface))
        if line is None:
            return []
        features, calls = self.line_features(line)
        event = LineStateChanged(
            connector=self.book.connector, line=line, seq=0,
            time=self.book.now, features=features, calls=calls,
            paused=fact.paused, reason=fact.reason, queue=fact.queue,
        )  # fmt: skip
        return [event]

    def line_features(self, line: str) -> tuple[Feature, int]:
        legs = [leg for leg in self.book.live.get(line, ()) if not leg.finished]
        features = Feature.CAN_DIAL
        for leg in legs:
            features |= leg.features()
        return features, len(legs)

    def line_state(self, line: str, seq: int) -> LineStateChanged:
        """The line's ``CallFeaturesSet`` now, to send after a transition (not history).

        ``seq`` is the line's last number: the event adds none, being derived state.
        """
        features, calls = self.line_features(line)
        return LineStateChanged(
            connector=self.book.connector, line=line, seq=seq, time=self.book.now,
            features=features, calls=calls,
        )  # fmt: skip
