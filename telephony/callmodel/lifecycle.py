"""Leg lifecycle rules: when a line's leg starts, connects and finishes, and with what
disposition. Owns the leg book, the channel registry and the consultations (parts with
their own state) and gives the other parts its rules; knows no AMI header names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from .consults import Consultations
from .events import Direction, Disposition, HoldSide, LineEvent, RingStarted
from .facts import NOBODY, Party
from .legs import LegBook, is_live, transferred
from .lines import LineMatcher
from .records import FinishedCall
from .registry import ChannelRegistry
from .state import Channel, Leg

#: Q.850 causes that mean "could not reach", not "nobody answered" (Asterisk causes.h).
_FAILURE_CAUSES = frozenset({1, 2, 3, 20, 22, 27, 28, 29, 34, 38, 41, 42, 44, 47, 58, 88, 127})
_CAUSE_BUSY = 17
_CAUSE_ANSWERED_ELSEWHERE = 26
_UNREACHABLE = frozenset({"CHANUNAVAIL", "CONGESTION"})


class _Pending:
    """A record held back while the remote party lives on: Asterisk 11 Redirect shows a
    blind transfer only as "the customer's channel dials someone else next"."""

    __slots__ = ("record", "released")

    def __init__(self, record: FinishedCall) -> None:
        self.record = record
        self.released = False


class LegLifecycle:
    """Starts, connects and finishes legs; holds back records that may yet be transfers."""

    def __init__(self, lines: LineMatcher | Iterable[str] | None, connector: str) -> None:
        self.book = LegBook(connector, self._remote)
        #: The channels, calls and bridges: a part of its own, given the book's clock.
        self.registry = ChannelRegistry(lines, self.book)
        #: Consultation calls: a part of its own, finishing legs by this lifecycle's rules.
        self.consults = Consultations(
            self.registry, self.book, finish=self.finish, unanswered=self.unanswered
        )
        self.parked: dict[str, list[Leg]] = {}
        self.awaiting: dict[str, list[_Pending]] = {}
        self._forced: Disposition | None = None

    def start_leg(self, channel: Channel, *, is_callee: bool) -> list[LineEvent]:
        line = channel.line
        if line is None or is_live(channel.leg):
            return []
        call = channel.call
        existing = call.live_leg(line)
        if existing is not None:
            existing.channels.add(channel.unique_id)
            channel.leg = existing
            return []
        root = self.registry.root(channel)
        if is_callee:
            self.registry.infer_legacy_origin(root)
            root = self.registry.root(channel)
        originated = is_callee and self._rings_for_originate(channel)
        if originated and any(legs for legs in self.parked.values()):
            parked_lines = {leg.line for legs in self.parked.values() for leg in legs}
            if line in parked_lines:
                # Hold by parking: this is probably the Originate that takes the call back.
                channel.awaiting_unpark = True
                return []
        count = call.attempts.get(line, 0) + 1
        call.attempts[line] = count
        call_id = call.call_id if count == 1 else f"{call.call_id}:{count}"
        if not is_callee:
            exten = channel.exten if channel.exten not in (None, "s") else None
            hint = Party(exten) if exten else NOBODY
            internal = self.registry.lines.is_line_number(exten)
        elif originated:
            hint, internal = NOBODY, False
        else:
            hint = root.caller if root is not channel else NOBODY
            if root is not channel and root.line is not None and root.own.number == root.line:
                # A colleague's line calls: named by its phone's own identity, not by the
                # CallerID an Originate gave its channel (click-to-call to a colleague).
                hint = root.own
            internal = root.line is not None and root is not channel
            internal = internal or self.registry.lines.is_line_number(
                channel.connected.number or hint.number
            )
        direction = (
            Direction.OUTGOING if originated or not (is_callee or internal) else Direction.INCOMING
        )
        if internal and not originated:
            direction = Direction.INTERNAL
        own = channel.own
        line_party = own if own.number == line else Party(line)
        leg = Leg(
            call, call_id, line,
            direction=direction, is_callee=is_callee, line_party=line_party,
            remote_hint=hint, root_id=root.unique_id, time=self.book.now,
        )  # fmt: skip
        leg.queue = channel.queue or call.queue
        leg.channels.add(channel.unique_id)
        channel.leg = leg
        self.book.open(leg)
        if len(self.book.live.get(line, ())) > 1:
            # Linked before its RingStarted goes out, so the event carries the consultation's
            # features (CAN_COMPLETE_TRANSFER) and not those of a lone call.
            self.consults.leg_started(leg)
        return [self.book.emit(leg, RingStarted)]

    def _remote(self, leg: Leg) -> Party:
        """The other party: Asterisk's connected line of the leg's channel, else the hint."""
        hint = leg.remote_hint
        best: Party = NOBODY
        for unique_id in leg.channels:
            channel = self.registry.channels.get(unique_id)
            if channel is None:
                continue
            party = channel.connected
            if party.number and party.number != leg.line:
                best = party
                if not channel.is_local:
                    break
        if best.number:
            if best.number == hint.number and (not best.name or best.name == best.number):
                # No name, or the number again (an Originate's CallerID "102" <102>).
                return hint
            return best
        return hint

    def answered(self, channel: Channel) -> list[LineEvent]:
        leg = channel.leg
        if leg is None or leg.finished or leg.connected:
            return []
        if leg.is_callee and self._rings_for_originate(channel):
            # The operator picked up an Originate (click-to-call): nobody else is there yet.
            return []
        return self.connect(leg)

    def _rings_for_originate(self, channel: Channel) -> bool:
        """True for the operator's own phone ringing for an Originate (click-to-call): the
        originated channel itself, or the device a ``Local`` Originate reached. Not a
        colleague the answered phone then dials (that call is internal on both lines)."""
        current, seen = channel, {channel.unique_id}
        while not current.originated:
            step = current.dialer
            if step is None and current.local_half == 2:
                step = current.partner
            nxt = self.registry.channels.get(step) if step else None
            if nxt is None or nxt.unique_id in seen:
                return False
            if not nxt.is_local:
                return False  # a real device (the operator's answered phone) dialled this one
            seen.add(nxt.unique_id)
            current = nxt
        return True

    def connect(self, leg: Leg) -> list[LineEvent]:
        events = self.book.connect(leg)
        if not events:
            return events
        if leg.is_callee:
            for other in list(leg.call.legs):
                if (
                    other is not leg
                    and is_live(other)
                    and other.is_callee
                    and not other.connected
                    and other.root_id == leg.root_id
                    # The dialling side itself (an Originate's first leg) is not a rival.
                    and other.root_id not in other.channels
                ):
                    # Ring-all queue or ring group: one answered, the others stop at once.
                    events += self.finish(
                        other,
                        Disposition.ANSWERED_ELSEWHERE,
                        _CAUSE_ANSWERED_ELSEWHERE,
                        "Answered elsewhere",
                    )
        return events

    def finish(
        self,
        leg: Leg,
        disposition: Disposition,
        cause: int | None = None,
        cause_text: str | None = None,
        *,
        hold_back: bool = False,
    ) -> list[LineEvent]:
        events = self.book.finish(leg, self._forced or disposition, cause, cause_text)
        if not events:
            return events
        for unique_id in leg.channels:
            channel = self.registry.channels.get(unique_id)
            if channel is not None and channel.leg is leg:
                channel.leg = None
        leg.channels.clear()
        for parkee, legs in list(self.parked.items()):
            if leg in legs:
                legs.remove(leg)
                if not legs:
                    del self.parked[parkee]
        pending = _Pending(self.book.record(leg))
        partners = [uid for uid in leg.peers if uid in self.registry.channels] if hold_back else []
        if partners and disposition is Disposition.ANSWERED and self._forced is None:
            for unique_id in partners:
                self.awaiting.setdefault(unique_id, []).append(pending)
        else:
            self.release(pending)
        return events

    def release(self, pending: _Pending, line: str | None = None) -> None:
        if pending.released:
            return
        pending.released = True
        record = pending.record
        if line is not None and line != record.line:
            record = transferred(record, line)
        self.book.records.append(record)

    def evaluate(self, channels: Iterable[Channel]) -> list[LineEvent]:
        """Re-derive who each leg talks to after a bridge change; connect when real."""
        events: list[LineEvent] = []
        legs: list[Leg] = []
        for channel in channels:
            for unique_id in channel.call.channels:
                member = self.registry.channels.get(unique_id)
                if member is not None and is_live(member.leg) and member.leg not in legs:
                    legs.append(member.leg)
            if is_live(channel.leg) and channel.leg not in legs:
                legs.append(channel.leg)
        for leg in legs:
            peers: set[str] = set()
            for unique_id in leg.channels:
                member = self.registry.channels.get(unique_id)
                if member is not None:
                    peers |= self.registry.peers(member)
            peers -= leg.channels
            if not peers:
                continue
            leg.peers = peers
            if leg.parked_on in peers:
                leg.parked_on = None
                events += self.book.hold(leg, HoldSide.LINE, False)
            events += self.connect(leg)
            for unique_id in peers:
                for pending in self.awaiting.pop(unique_id, []):
                    self.release(pending, leg.line)
        return events

    def unanswered(self, leg: Leg) -> Disposition:
        cause = leg.hangup_cause
        if cause == _CAUSE_ANSWERED_ELSEWHERE:
            return Disposition.ANSWERED_ELSEWHERE
        if leg.is_callee and leg.direction is not Direction.OUTGOING:
            status = leg.last_dial_status
            if status == "BUSY" or cause == _CAUSE_BUSY:
                return Disposition.BUSY
            if status in _UNREACHABLE:
                return Disposition.FAILED
            if status == "CANCEL" or self._caller_gone(leg):
                # The caller gave up while this phone rang: missed, whatever the cause
                # (chan_sip/PJSIP may say 127 Interworking on a CANCEL).
                return Disposition.MISSED
            if cause in _FAILURE_CAUSES:
                return Disposition.FAILED
            return Disposition.MISSED
        status = leg.out_dial_status
        if status == "CANCEL":
            return Disposition.CANCELLED  # the operator gave up, whatever the cause
        if status == "BUSY" or cause == _CAUSE_BUSY:
            return Disposition.BUSY
        if status == "NOANSWER":
            return Disposition.MISSED
        if status in _UNREACHABLE or cause in _FAILURE_CAUSES:
            return Disposition.FAILED
        return Disposition.CANCELLED

    def _caller_gone(self, leg: Leg) -> bool:
        """The channel that rang this leg (its root) hung up already."""
        return leg.root_id is not None and leg.root_id not in self.registry.channels

    @contextmanager
    def forcing(self, disposition: Disposition | None) -> Iterator[None]:
        """Within: every leg finishes ``disposition`` (channels given up for lost)."""
        self._forced = disposition
        try:
            yield
        finally:
            self._forced = None
