"""Channels and calls as the tracker knows them: lookups, Local pairs, call families.

Bookkeeping only: no call events are decided here. Knows no AMI header names.
"""

from __future__ import annotations

from collections.abc import Iterable

from .facts import ChannelState, Party
from .legs import LegBook
from .lines import LineMatcher, parse_channel
from .state import Call, Channel, Leg


class ChannelRegistry:
    """Live channels by Uniqueid and name, calls by key, bridges by id.

    A part of the tracker with its own state; it reads the clock and the live legs from the
    ``LegBook`` it is given (it never changes them).
    """

    def __init__(self, lines: LineMatcher | Iterable[str] | None, book: LegBook) -> None:
        self._book = book
        self.lines = lines if isinstance(lines, LineMatcher) else LineMatcher(lines)
        self.finished_calls = 0
        self.channels: dict[str, Channel] = {}
        self.by_name: dict[str, str] = {}
        self.calls: dict[str, Call] = {}
        self.bridges: dict[str, set[str]] = {}
        self.holding_bridges: set[str] = set()
        self._order = 0

    def get(self, unique_id: str | None) -> Channel | None:
        channel = self.channels.get(unique_id) if unique_id else None
        if channel is not None:
            channel.last_seen = self._book.now
        return channel

    def named(self, name: str | None) -> Channel | None:
        return self.get(self.by_name.get(name)) if name else None

    def new_call(self, key: str) -> Call:
        self._order += 1
        call = Call(key, key, self._order)
        self.calls[key] = call
        return call

    def add_channel(
        self,
        *,
        unique_id: str,
        name: str,
        linked_id: str | None,
        state: ChannelState,
        caller: Party,
        connected: Party,
        exten: str | None,
    ) -> Channel:
        device = parse_channel(name)
        # A Local ;2 half runs the dialplan for whoever called ;1: never a line of its own.
        line = None if device is not None and device.local_half == 2 else self.lines.line_of(device)
        call = self.calls.get(linked_id or unique_id) or self.new_call(linked_id or unique_id)
        channel = Channel(
            unique_id=unique_id,
            name=name,
            device=device,
            line=line,
            call=call,
            state=state,
            caller=caller,
            connected=connected,
            exten=exten,
            time=self._book.now,
            has_linked_id=linked_id is not None,
        )
        self.channels[unique_id] = channel
        self.by_name[name] = unique_id
        call.channels.add(unique_id)
        if device is not None and device.local_half is not None:
            other = self.named(name[:-1] + ("1" if device.local_half == 2 else "2"))
            if other is not None:
                self.pair(channel, other)
        return channel

    def pair(self, one: Channel, two: Channel) -> None:
        one.partner, two.partner = two.unique_id, one.unique_id
        self.join(one, two)

    def join(self, older: Channel, newer: Channel) -> None:
        """Asterisk 11 has no Linkedid: related channels' calls merge (the older one wins)."""
        if older.call is newer.call or (older.has_linked_id and newer.has_linked_id):
            return
        keep, drop = older.call, newer.call
        if drop.order < keep.order:
            keep, drop = drop, keep
        for unique_id in drop.channels:
            member = self.channels.get(unique_id)
            if member is not None:
                member.call = keep
        keep.channels |= drop.channels
        for leg in drop.legs:
            leg.call = keep
            keep.legs.append(leg)
        for line, count in drop.attempts.items():
            keep.attempts[line] = max(count, keep.attempts.get(line, 0))
        keep.queue = keep.queue or drop.queue
        self.calls.pop(drop.key, None)

    def root(self, channel: Channel) -> Channel:
        """Who really placed the call: follow dialers, and Local ;2 halves to their ;1."""
        current, seen = channel, {channel.unique_id}
        while True:
            step = current.dialer
            if step is None and current.local_half == 2:
                step = current.partner
            nxt = self.channels.get(step) if step else None
            if nxt is None or nxt.unique_id in seen:
                return current
            seen.add(nxt.unique_id)
            current = nxt

    def infer_legacy_origin(self, root: Channel) -> None:
        """Asterisk 11 shows no Dial for an Originate's first leg nor for queue members
        (captures README, facts 3 and 9); a queue member rings with the waiting caller as
        its connected line, anything else unexplained is an Originate."""
        if (
            root.has_linked_id
            or root.dialer
            or root.originated
            or root.created_state is ChannelState.RING
        ):
            return
        if root.local_half == 1 and self.placed_by_busy_line(root):
            return
        number = root.connected.number
        for other in self.channels.values():
            if other.waiting_in_queue and number and other.caller.number == number:
                root.dialer = other.unique_id
                root.queue = other.queue
                self.join(other, root)
                return
        root.originated = True

    def placed_by_busy_line(self, local: Channel) -> bool:
        """Asterisk 1.8/11 Atxfer: the ``Local`` channel the feature code requests for the
        consultation shows no Dial from the operator, only the operator's caller ID while
        their call is connected. That operator placed it: same call, not an Originate (its
        root stays the Local channel, as on 12+ where no Dial leads to it either)."""
        line = local.caller.number
        if not self.lines.is_line_number(line):
            return False
        for leg in self._book.live.get(line or "", ()):
            if not leg.connected:
                continue
            for unique_id in leg.channels:
                channel = self.channels.get(unique_id)
                if channel is not None and not channel.is_local:
                    self.join(channel, local)
                    return True
        return False

    def peers(self, channel: Channel) -> set[str]:
        """Channels bridged with ``channel``, looking through Local pairs to the far side."""
        found: set[str] = set()
        stack, seen = [channel], {channel.unique_id}
        while stack:
            current = stack.pop()
            bridge = current.bridge
            if bridge is None or bridge in self.holding_bridges:
                continue
            for unique_id in self.bridges.get(bridge, ()):
                member = self.channels.get(unique_id)
                if member is None or unique_id in seen:
                    continue
                seen.add(unique_id)
                partner = self.channels.get(member.partner) if member.partner else None
                if member.is_local and partner is not None and partner.unique_id not in seen:
                    seen.add(partner.unique_id)
                    stack.append(partner)
                else:
                    found.add(unique_id)
        return found

    def leave_bridge(self, channel: Channel) -> None:
        bridge = channel.bridge
        if bridge is None:
            return
        channel.bridge = None
        channel.last_bridge = bridge
        members = self.bridges.get(bridge)
        if members is not None:
            members.discard(channel.unique_id)
            if not members:
                del self.bridges[bridge]
                self.holding_bridges.discard(bridge)

    def all_live_legs(self) -> list[Leg]:
        return self._book.live_legs()
