"""Asterisk 1.8/11 event shapes (``Dial`` SubEvent, ``Bridge`` Link/Unlink, ``Hold`` Status).

Copies the Asterisk 11.25 captures in ``tests/fixtures/ami/asterisk-11``: no Linkedid,
``UniqueID`` spelled so in ``Dial``, ``Dial End`` only after the answered callee hangs up,
no Dial events for queue members or an Originate's first leg. Knows no sockets.
"""

from __future__ import annotations

from telephony.ami import Event, Field

from .channels import Bridge, Call, Channel, Dial, Party, State
from .legacy_consult import LegacyConsult
from .shapes import (
    AGENT,
    CALL,
    Shapes,
    age,
    cause_fields,
    event,
    hms,
    seconds_since,
    shown,
)


class LegacyShapes(Shapes):
    """Events as Asterisk 11 sends them."""

    greeting = "Asterisk Call Manager/1.3"
    dialect = "11"
    # k2 (11): a failed Originate says <null> where 22 says <unknown>.
    failed_unique_id = "<null>"

    def __init__(self) -> None:
        self.consult = LegacyConsult(self)

    def call_headers(self) -> tuple[Field, ...]:
        return (CALL,)

    # -- field blocks ----------------------------------------------------------------------

    @staticmethod
    def ids(channel: Channel) -> list[Field]:
        return [("Channel", channel.name), ("Uniqueid", channel.unique_id)]

    @staticmethod
    def parties(channel: Channel, placeholder: str = "") -> list[Field]:
        return [
            ("CallerIDNum", shown(channel.caller.number, placeholder)),
            ("CallerIDName", shown(channel.caller.name, placeholder)),
            ("ConnectedLineNum", shown(channel.connected.number, placeholder)),
            ("ConnectedLineName", shown(channel.connected.name, placeholder)),
        ]

    def newchannel(self, channel: Channel, exten: str) -> Event:
        return event(
            "Newchannel",
            CALL,
            ("Channel", channel.name),
            ("ChannelState", str(int(channel.state))),
            ("ChannelStateDesc", channel.state.desc),
            ("CallerIDNum", shown(channel.caller.number, "")),
            ("CallerIDName", shown(channel.caller.name, "")),
            ("AccountCode", channel.account_code),
            ("Exten", exten),
            ("Context", channel.context),
            ("Uniqueid", channel.unique_id),
        )

    def newstate(self, channel: Channel, state: State) -> Event:
        channel.state = state
        return event(
            "Newstate",
            CALL,
            ("Channel", channel.name),
            ("ChannelState", str(int(state))),
            ("ChannelStateDesc", state.desc),
            *self.parties(channel),
            ("Uniqueid", channel.unique_id),
        )

    def hangup(self, channel: Channel, cause: int) -> Event:
        channel.is_hung_up = True
        return event(
            "Hangup",
            CALL,
            *self.ids(channel),
            *self.parties(channel),
            *cause_fields(cause),
        )

    def link(self, state: str, one: Channel, two: Channel) -> Event:
        return event(
            "Bridge",
            CALL,
            ("Bridgestate", state),
            ("Bridgetype", "core"),
            ("Channel1", one.name),
            ("Channel2", two.name),
            ("Uniqueid1", one.unique_id),
            ("Uniqueid2", two.unique_id),
            ("CallerID1", shown(one.caller.number, "")),
            ("CallerID2", shown(two.caller.number, "")),
        )

    def dial_end(self, dial: Dial, status: str) -> Event:
        assert dial.caller is not None  # noqa: S101 - only dials with a calling channel end
        return event(
            "Dial",
            CALL,
            ("SubEvent", "End"),
            ("Channel", dial.caller.name),
            ("UniqueID", dial.caller.unique_id),
            ("DialStatus", status),
        )

    @staticmethod
    def has_dial_events(dial: Dial) -> bool:
        # Queue member legs and an Originate's first leg get no Dial events (fact 3).
        return dial.caller is not None and not dial.is_queue_member

    @staticmethod
    def ordered(one: Channel, two: Channel) -> tuple[Channel, Channel]:
        """(caller, callee) of a bridged pair: 11 names the calling side ``Channel1``.

        ``bridged`` puts the callee first in ``Bridge.channels``, the caller second.
        """
        bridge = one.bridge
        if bridge is not None and len(bridge.channels) == 2 and two in bridge.channels:
            return bridge.channels[1], bridge.channels[0]
        return (two, one) if one.line is not None and two.line is None else (one, two)

    # -- channels appear -------------------------------------------------------------------

    def arrived(self, channel: Channel) -> list[Event]:
        channel.state = State.DOWN
        return [self.newchannel(channel, channel.exten), self.newstate(channel, State.RING)]

    def answered_by_dialplan(self, channel: Channel) -> list[Event]:
        return [self.newstate(channel, State.UP)]

    def originated(self, channel: Channel, account: str, shown_as: Party) -> list[Event]:
        events = [self.newchannel(channel, "")]
        if account:
            old, channel.account_code = channel.account_code, account
            events.append(
                event(
                    "NewAccountCode",
                    CALL,
                    *self.ids(channel),
                    ("AccountCode", account),
                    ("OldAccountCode", old),
                )
            )
        events.extend(self.caller_changed(channel, shown_as))
        channel.connected = shown_as
        return events

    def caller_changed(self, channel: Channel, caller: Party) -> list[Event]:
        channel.caller = caller
        return [
            event(
                "NewCallerid",
                CALL,
                ("Channel", channel.name),
                ("CallerIDNum", shown(caller.number, "")),
                ("CallerIDName", shown(caller.name, "")),
                ("Uniqueid", channel.unique_id),
                ("CID-CallingPres", "0 (Presentation Allowed, Not Screened)"),
            )
        ]

    # -- dialling --------------------------------------------------------------------------

    def dial_began(self, dial: Dial, queue: str | None = None) -> list[Event]:
        dest, caller = dial.dest, dial.caller
        if caller is None:
            return []
        events = [self.newchannel(dest, "")]
        dest.connected = caller.caller
        if queue is not None:
            events.append(
                event(
                    "AgentCalled",
                    AGENT,
                    ("Queue", queue),
                    ("AgentCalled", dest.device),
                    ("AgentName", shown(dest.caller.name, dest.device)),
                    ("ChannelCalling", caller.name),
                    ("DestinationChannel", dest.name),
                    *self.parties(caller, "unknown"),
                    ("Context", caller.context),
                    ("Extension", caller.exten),
                    ("Priority", str(caller.priority)),
                    ("Uniqueid", caller.unique_id),
                )
            )
            return events
        events.append(
            event(
                "Dial",
                CALL,
                ("SubEvent", "Begin"),
                ("Channel", caller.name),
                ("Destination", dest.name),
                *self.parties(caller, "<unknown>"),
                ("UniqueID", caller.unique_id),
                ("DestUniqueID", dest.unique_id),
                ("Dialstring", dial.dial_string),
            )
        )
        caller.connected = dest.caller
        return events

    def dial_ringing(self, dial: Dial) -> list[Event]:
        # a_click_to_call (11): the originated leg rings with no Dial event, but rings.
        events = [self.newstate(dial.dest, State.RINGING)]
        if dial.local_one is not None:
            events.append(self.newstate(dial.local_one, State.RINGING))
        return events

    def dial_answered(self, dial: Dial) -> list[Event]:
        dial.status = "ANSWER"
        dial.legacy_end_pending = self.has_dial_events(dial)
        events = [self.newstate(dial.dest, State.UP)]
        if dial.local_one is not None:
            events.append(self.newstate(dial.local_one, State.UP))
        caller = dial.caller
        if caller is not None and caller.state is not State.UP:
            events.append(self.newstate(caller, State.UP))
        return events

    def dial_failed(
        self, dial: Dial, status: str, cause: int, *, caller_cause: int | None
    ) -> list[Event]:
        dial.status = status
        # c_inbound_no_answer (11): the callee's Hangup comes before Dial End.
        events = [self.hangup(dial.dest, 16 if cause == 0 else cause)]
        if self.has_dial_events(dial):
            events.append(self.dial_end(dial, status))
        caller = dial.caller
        if caller_cause is not None and caller is not None and not caller.is_hung_up:
            events.append(event("SoftHangupRequest", CALL, *self.ids(caller), ("Cause", "16")))
            events.append(self.hangup(caller, caller_cause))
        return events

    def member_lost(self, dial: Dial) -> list[Event]:
        dial.status = "CANCEL"
        return [self.hangup(dial.dest, 26)]

    def bridged(self, bridge: Bridge, callee: Channel, caller: Channel) -> list[Event]:
        for channel in (callee, caller):
            bridge.channels.append(channel)
            channel.bridge = bridge
        return [self.link("Link", caller, callee)]

    # -- queues ----------------------------------------------------------------------------

    def queue_joined(self, channel: Channel, queue: str) -> list[Event]:
        return [
            event(
                "Join",
                CALL,
                ("Channel", channel.name),
                ("CallerIDNum", shown(channel.caller.number, "unknown")),
                ("CallerIDName", shown(channel.caller.name, "unknown")),
                ("ConnectedLineNum", "unknown"),
                ("ConnectedLineName", "unknown"),
                ("Queue", queue),
                ("Position", "1"),
                ("Count", "1"),
                ("Uniqueid", channel.unique_id),
            ),
            self.music(channel, on=True),
        ]

    def music(self, channel: Channel, *, on: bool) -> Event:
        extra: tuple[Field, ...] = (("Class", "default"),) if on else ()
        return event(
            "MusicOnHold",
            CALL,
            ("State", "Start" if on else "Stop"),
            ("Channel", channel.name),
            ("UniqueID", channel.unique_id),
            *extra,
        )

    def leave(self, channel: Channel, queue: str) -> Event:
        return event(
            "Leave",
            CALL,
            ("Channel", channel.name),
            ("Queue", queue),
            ("Count", "0"),
            ("Position", "1"),
            ("Uniqueid", channel.unique_id),
        )

    def queue_connected(self, call: Call, caller: Channel, member: Channel) -> list[Event]:
        waited = seconds_since(call.queue_joined)
        return [
            self.music(caller, on=False),
            self.leave(caller, call.queue or ""),
            event(
                "AgentConnect",
                AGENT,
                ("Queue", call.queue or ""),
                ("Uniqueid", caller.unique_id),
                ("Channel", member.name),
                ("Member", member.device),
                ("MemberName", shown(member.caller.name, member.device)),
                ("HoldTime", waited),
                # e_queue_ringall (11): BridgedChannel holds the member's Uniqueid.
                ("BridgedChannel", member.unique_id),
                ("RingTime", waited),
            ),
        ]

    def queue_left(self, channel: Channel, queue: str) -> list[Event]:
        return [self.music(channel, on=False), self.leave(channel, queue)]

    # -- during the call -------------------------------------------------------------------

    def hold(self, channel: Channel, peer: Channel | None, on_hold: bool) -> list[Event]:
        channel.on_hold = on_hold
        events = [
            event("Hold", CALL, ("Status", "On" if on_hold else "Off"), *self.ids(channel)),
        ]
        if peer is not None:
            events.append(self.music(peer, on=on_hold))
            # b_inbound_answered_hold (11): every hold and resume flaps the bridge (fact 4).
            one, two = self.ordered(peer, channel)
            events += [self.link("Unlink", one, two), self.link("Link", one, two)]
        return events

    def transferred_away(
        self,
        call: Call,
        transferer: Channel,
        transferee: Channel,
        exten: str,
        context: str,
        *,
        blind: bool,
    ) -> list[Event]:
        # f_blind_transfer_redirect (11): no transfer event, just Unlink, the transferer's
        # Hangup and the transferee's pending Dial End; it then dials again.
        events: list[Event] = []
        bridge = transferer.bridge
        if bridge is not None:
            one, two = self.ordered(transferee, transferer)
            events.append(self.link("Unlink", one, two))
            bridge.channels.clear()
            transferer.bridge = transferee.bridge = None
        events.append(self.hangup(transferer, 16))
        events.extend(self.pending_dial_ends(call, transferer))
        transferee.exten, transferee.context, transferee.priority = exten, context, 1
        return events

    def pending_dial_ends(self, call: Call, callee: Channel) -> list[Event]:
        events = []
        for dial in call.dials:
            if dial.dest is callee and dial.legacy_end_pending:
                dial.legacy_end_pending = False
                events.append(self.dial_end(dial, "ANSWER"))
        return events

    # -- the end ---------------------------------------------------------------------------

    def hung_up_bridged(
        self, call: Call, by: Channel, *, requested_by_ami: bool = False
    ) -> list[Event]:
        peer = self.peer_of(by)
        events = [event("HangupRequest", CALL, *self.ids(by))]
        if peer is None:
            return [*events, self.hangup(by, 16)]
        caller, callee = self.ordered(by, peer)
        events.append(self.link("Unlink", caller, callee))
        if by.bridge is not None:
            by.bridge.channels.clear()
        by.bridge = peer.bridge = None
        if call.queue:
            talk = seconds_since(call.answered_at)
            events.append(
                event(
                    "AgentComplete",
                    AGENT,
                    ("Queue", call.queue),
                    ("Uniqueid", caller.unique_id),
                    ("Channel", callee.name),
                    ("Member", callee.device),
                    ("MemberName", shown(callee.caller.name, callee.device)),
                    ("HoldTime", "0"),
                    ("TalkTime", talk),
                    ("Reason", "caller" if by is caller else "agent"),
                )
            )
        # a/b (11): the callee side always hangs up first, then the caller's Dial End.
        events.append(self.hangup(callee, 16))
        events.extend(self.pending_dial_ends(call, callee))
        events.append(event("SoftHangupRequest", CALL, *self.ids(caller), ("Cause", "16")))
        events.append(self.hangup(caller, 0 if call.queue else 16))
        return events

    def hung_up(self, channel: Channel, cause: int, *, soft: bool = False) -> list[Event]:
        events = []
        if soft:
            events.append(event("SoftHangupRequest", CALL, *self.ids(channel), ("Cause", "16")))
        events.append(self.hangup(channel, cause))
        return events

    def dial_cancelled(self, dial: Dial) -> list[Event]:
        dial.status = "CANCEL"
        events = [self.hangup(dial.dest, 16)]
        if self.has_dial_events(dial):
            events.append(self.dial_end(dial, "CANCEL"))
        return events

    # -- actions' answers ------------------------------------------------------------------

    def listed_channel(self, channel: Channel, action_id: str | None) -> Event:
        peer = self.peer_of(channel)
        return event(
            "CoreShowChannel",
            *self.tagged(action_id),
            ("Channel", channel.name),
            ("UniqueID", channel.unique_id),
            ("Context", channel.context),
            ("Extension", channel.exten),
            ("Priority", str(channel.priority)),
            ("ChannelState", str(int(channel.state))),
            ("ChannelStateDesc", channel.state.desc),
            ("Application", channel.application),
            ("ApplicationData", channel.application_data),
            ("CallerIDnum", shown(channel.caller.number, "")),
            ("CallerIDname", shown(channel.caller.name, "")),
            ("ConnectedLineNum", shown(channel.connected.number, "")),
            ("ConnectedLineName", shown(channel.connected.name, "")),
            ("Duration", hms(age(channel))),
            ("AccountCode", channel.account_code),
            ("BridgedChannel", peer.name if peer else ""),
            ("BridgedUniqueID", peer.unique_id if peer else ""),
        )

    def channels_listed(self, count: int, action_id: str | None) -> Event:
        # k2 (11): EventList and ListItems come before the ActionID.
        return event(
            "CoreShowChannelsComplete",
            ("EventList", "Complete"),
            ("ListItems", str(count)),
            *self.tagged(action_id),
        )

    def status_item(self, channel: Channel, action_id: str | None) -> Event:
        peer = self.peer_of(channel)
        return event(
            "Status",
            ("Privilege", "Call"),
            ("Channel", channel.name),
            ("CallerIDNum", shown(channel.caller.number, "")),
            ("CallerIDName", shown(channel.caller.name, "")),
            ("ConnectedLineNum", shown(channel.connected.number, "")),
            ("ConnectedLineName", shown(channel.connected.name, "")),
            ("Accountcode", channel.account_code),
            ("ChannelState", str(int(channel.state))),
            ("ChannelStateDesc", channel.state.desc),
            ("Context", channel.context),
            ("Extension", channel.exten),
            ("Priority", str(channel.priority)),
            ("Seconds", str(age(channel))),
            ("BridgedChannel", peer.name if peer else ""),
            ("BridgedUniqueid", peer.unique_id if peer else ""),
            ("Uniqueid", channel.unique_id),
            *self.tagged(action_id),
        )

    def status_complete(self, count: int, action_id: str | None) -> Event:
        # k2 (11): StatusComplete says Items, not EventList/ListItems.
        return event("StatusComplete", *self.tagged(action_id), ("Items", str(count)))
