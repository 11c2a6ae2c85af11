"""Consultation calls and attended transfers, by mechanism rather than by event name.

A line whose call is connected places a second call: the *consultation*. It is a call of its
own on that line (own ``RingStarted`` ... ``RingFinished``, own call id and record) while the
original call waits on hold, its other party pinned (Asterisk moves the connected line of the
operator's channel to the colleague; the original call's history must keep the customer).
Asterisk shows the consultation in two ways, and both end up here:

- the operator's own channel moves out of the bridge with its party into a new bridge (AMI
  ``Atxfer`` on 12+: a ``Local/<target>`` pair, optimised away or not; Asterisk 1.8/11 bridge
  the operator with the ``Local`` channel once the target answers): the consultation borrows
  the original leg's channel (``lent``) until it ends;
- the phone places a second call of its own (SIP REFER with ``Replaces`` later): a new
  channel of the same line, a leg of its own, linked to the held call.

The transfer is complete when the original call's party and the consulted side meet in one
bridge (1.8/11 ``Masquerade`` into ``Transfered/...``, 12+ bridge moves and merges), or when
``AttendedTransfer``/``Transfer`` names the transferer. A consultation whose consulted side is
gone (no answer, busy, the operator cancels, the colleague hangs up) ends on its own and the
operator is back on the original call. Knows no AMI header names.
"""

from __future__ import annotations

from collections.abc import Callable

from .events import (
    AbonentBusy,
    CallTransferred,
    Direction,
    Disposition,
    HoldSide,
    LineEvent,
    RingStarted,
    TransferKind,
)
from .facts import NOBODY, Party
from .legs import LegBook, is_live
from .registry import ChannelRegistry
from .state import Channel, Leg


class Consultations:
    """Starts, follows and completes consultation calls (see the module docstring).

    A part of the tracker with its own state (the live consultations); it reads and moves
    channels through the registry, emits through the leg book, and finishes legs with the
    lifecycle's ``finish`` and ``unanswered`` rules, which it is given.
    """

    def __init__(
        self,
        registry: ChannelRegistry,
        book: LegBook,
        *,
        finish: Callable[[Leg, Disposition], list[LineEvent]],
        unanswered: Callable[[Leg], Disposition],
    ) -> None:
        self.registry = registry
        self._book = book
        self._finish = finish
        self._unanswered = unanswered
        #: Live consultation legs; empty in the common case, so the hooks cost nothing.
        self.live: list[Leg] = []

    # -- start -----------------------------------------------------------------------------

    def by_bridge(self, members: list[Channel]) -> list[LineEvent]:
        """A line's channel with a connected call sits in a bridge without that call's party."""
        events: list[LineEvent] = []
        for channel in members:
            orig = channel.leg
            if (
                channel.line is None
                or channel.is_local  # a Local half only stands in for a device (queues)
                or not is_live(orig)
                or not orig.connected
                or orig.consult is not None
                or orig.consult_of is not None
                or not orig.peers
                or any(channel.unique_id in other.targets for other in self.live)
            ):
                continue
            # It moved here from a bridge where its party still is (not: someone joined it).
            before = self.registry.bridges.get(channel.last_bridge or "", set())
            others = [m for m in members if m is not channel]
            if (
                others
                and channel.last_bridge != channel.bridge
                and before & orig.peers
                and not any(self._leads_to(m, orig, channel) for m in others)
            ):
                events += self._open_consult(orig, channel, others)
        return events

    def _leads_to(self, member: Channel, orig: Leg, channel: Channel) -> bool:
        """True if ``member`` is the call's own party, directly or through a ``Local`` pair,
        or the channel that dialled ``channel`` (the bridge that connects it, not a new call).
        """
        reach = {member.unique_id}
        partner = self.registry.channels.get(member.partner) if member.partner else None
        if partner is not None:
            reach.add(partner.unique_id)
            if partner.bridge is not None:
                reach |= self.registry.bridges.get(partner.bridge, set())
        return bool(reach & orig.peers) or channel.dialer in reach

    def _open_consult(self, orig: Leg, channel: Channel, others: list[Channel]) -> list[LineEvent]:
        self._pin(orig)
        events = self._book.hold(orig, HoldSide.LINE, True)
        orig.channels.discard(channel.unique_id)
        orig.lent = True
        call = channel.call
        count = call.attempts.get(orig.line, 0) + 1
        call.attempts[orig.line] = count
        target = self._target_party(others)
        internal = self.registry.lines.is_line_number(target.number)
        consult = Leg(
            call, f"{call.call_id}:{count}", orig.line,
            direction=Direction.INTERNAL if internal else Direction.OUTGOING, is_callee=False,
            line_party=orig.line_party, remote_hint=target, root_id=channel.unique_id,
            time=self._book.now,
        )  # fmt: skip
        consult.pinned = True  # the channel still says who it talked to before
        consult.channels.add(channel.unique_id)
        consult.targets = {other.unique_id for other in others}
        consult.borrowed = True
        self._link(orig, consult)
        channel.leg = consult
        self._book.open(consult)
        self._grow_targets(consult)
        events.append(self._book.emit(consult, RingStarted))
        return events

    def _consult_by_new_call(self, leg: Leg) -> None:
        """A second call placed from a line whose other call is connected: its consultation."""
        if leg.is_callee or leg.direction is Direction.INCOMING:
            return
        for orig in self._book.live.get(leg.line, ()):
            if (
                orig is not leg
                and orig.call is not leg.call
                and orig.connected
                and orig.consult is None
                and orig.consult_of is None
            ):
                self._pin(orig)
                self._link(orig, leg)
                return

    def _link(self, orig: Leg, consult: Leg) -> None:
        orig.consult, consult.consult_of = consult, orig
        self.live.append(consult)

    def _pin(self, leg: Leg) -> None:
        """Keep the party shown now, whatever the channel's connected line says later."""
        caller, callee = leg.shown
        leg.remote_hint = callee if caller == leg.line_party else caller
        leg.pinned = True

    def _target_party(self, others: list[Channel]) -> Party:
        """Who the consultation calls: a ``Local/<number>@ctx`` target, or the channel's own."""
        for other in others:
            if other.device is not None and other.device.is_local:
                return Party(other.device.resource)
            if other.line is not None:
                return Party(other.line, other.own.name)
            if other.caller.number:
                return other.caller
        return NOBODY

    def _grow_targets(self, consult: Leg) -> None:
        """The consulted side: the first channels, their ``Local`` partners, whom they dial."""
        stack = list(consult.targets)
        while stack:
            channel = self.registry.channels.get(stack.pop())
            if channel is None:
                continue
            for unique_id in (channel.partner, *channel.dialed):
                if unique_id and unique_id not in consult.targets:
                    consult.targets.add(unique_id)
                    stack.append(unique_id)

    # -- hooks from the other handlers -----------------------------------------------------

    def leg_started(self, leg: Leg) -> None:
        """A line with another live call started this one: maybe its consultation."""
        self._consult_by_new_call(leg)

    def before_hangup(self, channel: Channel) -> list[LineEvent]:
        """The operator hangs up during an Atxfer consultation: Asterisk (11 and 12+)
        completes the transfer; 12+ says so first (AttendedTransfer), 1.8/11 only after."""
        consult = channel.leg
        if (
            consult is not None
            and consult.borrowed
            and is_live(consult)
            and is_live(consult.consult_of)
            and any(uid in self.registry.channels for uid in consult.targets)
        ):
            return self.complete(consult.consult_of, consult)
        return []

    def after_hangup(self, channel: Channel) -> list[LineEvent]:
        events = self._consult_hung_up(channel)
        for finished in [c for c in self.live if c.finished]:
            # Ended on its own (its channel hung up): no transfer; forget the pair.
            self._unlink(finished)
        return events

    def dialed(self, caller: Channel, dest: Channel) -> None:
        for consult in self.live:
            if caller.unique_id in consult.targets:
                consult.targets.add(dest.unique_id)

    def paired(self, one: Channel, two: Channel) -> None:
        for consult in self.live:
            if one.unique_id in consult.targets or two.unique_id in consult.targets:
                consult.targets |= {one.unique_id, two.unique_id}

    def dial_ended(self, caller: Channel | None, status: str) -> list[LineEvent]:
        """The consulted side's own Dial ended (through a ``Local`` pair): the operator's."""
        if caller is None or not status or status == "ANSWER":
            return []
        events: list[LineEvent] = []
        for consult in self.live:
            if caller.unique_id in consult.targets and not consult.connected:
                consult.out_dial_status = status
                if status == "BUSY":
                    events.append(self._book.emit(consult, AbonentBusy))
        return events

    def renamed(self, old: str, new: str) -> None:
        """A masquerade: the heir channel carries on for the consulted side or the party."""
        for consult in self.live:
            if old in consult.targets:
                consult.targets.add(new)

    def bridged(self, members: list[Channel]) -> list[LineEvent]:
        """After a bridge change: transfers completed, operators back on their call."""
        events: list[LineEvent] = []
        uids = {member.unique_id for member in members}
        for consult in list(self.live):
            orig = consult.consult_of
            if orig is None or orig.finished:
                continue
            meets_party = bool(uids & orig.peers)
            if meets_party and uids & (consult.targets | consult.peers):
                events += self.complete(orig, consult)
            elif meets_party and orig.lent and uids & consult.channels:
                # AMI Atxfer cancelled or failed: the operator's channel is back with the party.
                events += self._end_consult(consult)
        return events

    def _consult_hung_up(self, channel: Channel) -> list[LineEvent]:
        """A channel is gone: a consulted side or the waiting party may be over."""
        events: list[LineEvent] = []
        for consult in list(self.live):
            orig = consult.consult_of
            if orig is not None and not orig.finished and channel.unique_id in orig.peers:
                orig.peers.discard(channel.unique_id)
                if (
                    not any(uid in self.registry.channels for uid in orig.peers)
                    and not orig.channels
                ):
                    # The customer hung up while the operator consulted: the original call is
                    # over for them, the consultation goes on.
                    events += self._finish(orig, Disposition.ANSWERED)
            if (
                consult.borrowed
                and not consult.finished
                and not any(uid in self.registry.channels for uid in consult.targets)
            ):
                events += self._end_consult(consult)
        return events

    # -- end -------------------------------------------------------------------------------

    def complete(self, orig: Leg, consult: Leg) -> list[LineEvent]:
        """The original call's party now talks to the consulted side: the transfer is done."""
        party, target = orig.remote_hint, self._pinned_remote(consult)
        consulted = consult.targets | consult.peers
        for leg in self._book.live_legs():
            if leg is orig or leg is consult:
                continue
            if leg.channels & consulted:
                leg.remote_hint, leg.pinned = party, True
                leg.peers = set(orig.peers)
            elif leg.channels & orig.peers:
                leg.remote_hint, leg.pinned = target, True
                leg.peers = {
                    uid for uid in consulted if uid in self.registry.channels
                } - leg.channels
        events: list[LineEvent] = []
        self._unlink(consult)
        orig.transferred_to = target.number
        event = self._book.emit(
            orig, CallTransferred, transferred_to=target.number, transfer_kind=TransferKind.ATTENDED
        )
        events.append(event)
        events += self._finish(orig, Disposition.TRANSFERRED)
        disposition = Disposition.ANSWERED if consult.connected else Disposition.TRANSFERRED
        events += self._finish(consult, disposition)
        for leg in self._book.live_legs():
            if leg.pinned:
                events += self._book.refresh(leg)
        return events

    def _pinned_remote(self, leg: Leg) -> Party:
        caller, callee = self._book.parties(leg)
        return callee if caller == leg.line_party else caller

    def _end_consult(self, consult: Leg) -> list[LineEvent]:
        """The consultation is over without a transfer: the operator is back on the call."""
        orig = consult.consult_of
        channels = set(consult.channels) if consult.borrowed else set()
        disposition = Disposition.ANSWERED if consult.connected else self._unanswered(consult)
        self._unlink(consult)
        events = self._finish(consult, disposition)
        if orig is not None and is_live(orig) and channels:
            # Asterisk held the party for the Atxfer and takes the operator back to it.
            events += self._book.hold(orig, HoldSide.LINE, False)
            orig.lent = False
            for unique_id in channels:
                channel = self.registry.channels.get(unique_id)
                if channel is not None:
                    channel.leg = orig
                    orig.channels.add(unique_id)
        return events

    def _unlink(self, consult: Leg) -> None:
        orig = consult.consult_of
        if orig is not None and orig.consult is consult:
            orig.consult = None
        if consult in self.live:
            self.live.remove(consult)
