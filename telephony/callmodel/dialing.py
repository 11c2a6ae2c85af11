"""The dial handler: channels appear and change state, one dials another (``Dial``,
an Originate's result, ``Local`` pairs, a target that is offline). Starts legs and names the
other party; knows no AMI header names.
"""

from __future__ import annotations

from .consults import Consultations
from .events import AbonentBusy, Direction, LineEvent
from .facts import (
    NOBODY,
    ChannelCreated,
    ChannelHungUp,
    ChannelState,
    ChannelStateChanged,
    DialBegan,
    DialEnded,
    DialUnreachable,
    LocalPaired,
    Originated,
    Party,
    PartyChanged,
)
from .hangups import HangupHandler
from .legs import is_live
from .lifecycle import LegLifecycle
from .lines import parse_dial_target
from .registry import ChannelRegistry


class DialHandler:
    """Handles channel creation and state, dials, ``Local`` pairs and Originate results.

    A part of the tracker with no state of its own: what it learns goes into the channels
    (registry) and the legs (lifecycle); an offline target's ghost channel is hung up by the
    hangup handler.
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
        self.book = legs.book
        self.consults = consults
        self.hangups = hangups

    def created(self, fact: ChannelCreated) -> list[LineEvent]:
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

    def state_changed(self, fact: ChannelStateChanged) -> list[LineEvent]:
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

    def party_changed(self, fact: PartyChanged) -> list[LineEvent]:
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

    def dial_began(self, fact: DialBegan) -> list[LineEvent]:
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
                    # The line placed (or picked up an Originate for) a call to a colleague:
                    # it is the calling side, though its phone rang first for the Originate.
                    leg.direction = Direction.INTERNAL
                    leg.is_callee = False
                events += self.book.refresh(leg)
        events += self.legs.start_leg(dest, is_callee=True)
        return events

    def dial_ended(self, fact: DialEnded) -> list[LineEvent]:
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
            events += self.hangups.hung_up(hangup)
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

    def local_paired(self, fact: LocalPaired) -> list[LineEvent]:
        one, two = self.registry.get(fact.one_id), self.registry.get(fact.two_id)
        if one is not None and two is not None:
            self.registry.pair(one, two)
            if self.consults.live:
                self.consults.paired(one, two)
        return []
