"""Asterisk 12-22 event shapes (``DialBegin``, ``BridgeEnter``, ``Hold``/``Unhold``...).

Header order and placeholders copy the Asterisk 22.10 captures in
``tests/fixtures/ami/asterisk-22`` (a, b, c, e, f; the attended transfer of g is in
``modern_consult.py``); knows no sockets.
"""

from __future__ import annotations

from telephony.ami import Event, Field

from .channels import Bridge, Call, Channel, Dial, Party, State
from .modern_consult import ModernConsult
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


class ModernShapes(Shapes):
    """Events as Asterisk 22 sends them."""

    greeting = "Asterisk Call Manager/11.0.0"
    dialect = "12"
    # j2: a failed Originate has no channel: Uniqueid and caller ID say <unknown>.
    failed_unique_id = "<unknown>"

    def __init__(self, system_name: str = "sim") -> None:
        self.system = ("SystemName", system_name)
        self.consult = ModernConsult(self)

    def call_headers(self) -> tuple[Field, ...]:
        return (CALL, self.system)

    # -- field blocks ----------------------------------------------------------------------

    @staticmethod
    def block(channel: Channel, prefix: str = "") -> list[Field]:
        """The 14 channel headers every channel event carries (``Dest``-prefixed too)."""
        return [
            (f"{prefix}Channel", channel.name),
            (f"{prefix}ChannelState", str(int(channel.state))),
            (f"{prefix}ChannelStateDesc", channel.state.desc),
            (f"{prefix}CallerIDNum", shown(channel.caller.number)),
            (f"{prefix}CallerIDName", shown(channel.caller.name)),
            (f"{prefix}ConnectedLineNum", shown(channel.connected.number)),
            (f"{prefix}ConnectedLineName", shown(channel.connected.name)),
            (f"{prefix}Language", "en"),
            (f"{prefix}AccountCode", channel.account_code),
            (f"{prefix}Context", channel.context),
            (f"{prefix}Exten", channel.exten),
            (f"{prefix}Priority", str(channel.priority)),
            (f"{prefix}Uniqueid", channel.unique_id),
            (f"{prefix}Linkedid", channel.linked_id),
        ]

    @staticmethod
    def bridge_block(bridge: Bridge) -> list[Field]:
        return [
            ("BridgeUniqueid", bridge.unique_id),
            ("BridgeType", "basic"),
            ("BridgeTechnology", "simple_bridge"),
            ("BridgeCreator", "<unknown>"),
            ("BridgeName", "<unknown>"),
            ("BridgeNumChannels", str(len(bridge.channels))),
            ("BridgeVideoSourceMode", "none"),
        ]

    def bridge_event(self, name: str, bridge: Bridge, *extra: Field) -> Event:
        return event(name, CALL, self.system, *self.bridge_block(bridge), *extra)

    def bridge_left(self, bridge: Bridge, channel: Channel) -> Event:
        """``channel`` leaves ``bridge`` (and is taken out of it first)."""
        bridge.channels.remove(channel)
        channel.bridge = None
        return self.bridge_event("BridgeLeave", bridge, *self.block(channel))

    def channel_event(self, name: str, channel: Channel, *extra: Field) -> Event:
        return event(name, CALL, self.system, *self.block(channel), *extra)

    def dial_event(self, name: str, dial: Dial, *extra: Field) -> Event:
        # An Originate's first leg has no calling channel: only the Dest* block (fact 6).
        caller = self.block(dial.caller) if dial.caller is not None else []
        return event(name, CALL, self.system, *caller, *self.block(dial.dest, "Dest"), *extra)

    def hangup(self, channel: Channel, cause: int) -> Event:
        channel.is_hung_up = True
        return self.channel_event("Hangup", channel, *cause_fields(cause))

    # -- channels appear -------------------------------------------------------------------

    def arrived(self, channel: Channel) -> list[Event]:
        channel.state = State.RING
        return [self.channel_event("Newchannel", channel)]

    def answered_by_dialplan(self, channel: Channel) -> list[Event]:
        channel.state = State.UP
        return [self.channel_event("Newstate", channel)]

    def originated(self, channel: Channel, account: str, shown_as: Party) -> list[Event]:
        events = [self.channel_event("Newchannel", channel)]
        if account:
            old, channel.account_code = channel.account_code, account
            events.append(self.channel_event("NewAccountCode", channel, ("OldAccountCode", old)))
        events.extend(self.caller_changed(channel, shown_as))
        channel.connected = shown_as
        events.append(self.channel_event("NewConnectedLine", channel))
        return events

    def caller_changed(self, channel: Channel, caller: Party) -> list[Event]:
        channel.caller = caller
        pres = ("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")
        return [self.channel_event("NewCallerid", channel, pres)]

    # -- dialling --------------------------------------------------------------------------

    def dial_began(self, dial: Dial, queue: str | None = None) -> list[Event]:
        dest, caller = dial.dest, dial.caller
        events: list[Event] = []
        if caller is None:
            return [self.dial_event("DialBegin", dial, ("DialString", dial.dial_string))]
        events.append(self.channel_event("Newchannel", dest))
        if queue is not None:
            # e_queue_ringall: AgentCalled shows the connected line the member will get.
            dest.connected = caller.caller
            called = self.dial_event(
                "AgentCalled",
                dial,
                ("Queue", queue),
                ("Interface", dest.device),
                ("MemberName", shown(dest.caller.name, dest.device)),
            )
            events.append(event("AgentCalled", AGENT, *called.fields[2:]))
            dest.connected = Party()
            events.append(self.dial_event("DialBegin", dial, ("DialString", dial.dial_string)))
            return events
        dest.connected = caller.caller
        dest.exten = caller.exten
        events.append(self.channel_event("NewConnectedLine", dest))
        events.append(self.dial_event("DialBegin", dial, ("DialString", dial.dial_string)))
        caller.connected = dest.caller
        events.append(self.channel_event("NewConnectedLine", caller))
        return events

    def dial_ringing(self, dial: Dial) -> list[Event]:
        dial.dest.state = State.RINGING
        events = [self.channel_event("Newstate", dial.dest)]
        if dial.is_queue_member and dial.caller is not None:
            dial.dest.connected = dial.caller.caller
            events.append(self.channel_event("NewConnectedLine", dial.dest))
        one = dial.local_one
        if one is not None:
            # g_attended_transfer: the ;1 half rings too and takes the callee's caller ID.
            one.state = State.RINGING
            events.append(self.channel_event("Newstate", one))
            events.extend(self.caller_changed(one, dial.dest.caller))
        events.append(self.dial_event("DialState", dial, ("DialStatus", "RINGING")))
        if one is not None:
            events.append(self.local_dial_event("DialState", one, "RINGING"))
        return events

    def local_dial_event(self, name: str, one: Channel, status: str) -> Event:
        """``DialState``/``DialEnd`` of the dial into a Local ``;1`` half: no calling channel."""
        return self.dial_event(name, Dial(None, one, ""), ("DialStatus", status))

    def dial_answered(self, dial: Dial) -> list[Event]:
        dial.status = "ANSWER"
        dial.dest.state = State.UP
        events = [
            self.channel_event("Newstate", dial.dest),
            self.dial_event("DialEnd", dial, ("DialStatus", "ANSWER")),
        ]
        one = dial.local_one
        if one is not None:
            one.state = State.UP
            events.append(self.channel_event("Newstate", one))
            events.append(self.local_dial_event("DialEnd", one, "ANSWER"))
        caller = dial.caller
        if caller is not None and caller.state is not State.UP:
            caller.state = State.UP
            events.append(self.channel_event("Newstate", caller))
        return events

    def dial_failed(
        self, dial: Dial, status: str, cause: int, *, caller_cause: int | None
    ) -> list[Event]:
        dial.status = status
        events = [self.dial_event("DialEnd", dial, ("DialStatus", status))]
        caller = dial.caller
        if caller_cause is not None and caller is not None and not caller.is_hung_up:
            # c_inbound_no_answer: the caller goes first, the unanswered leg after it.
            events.append(self.channel_event("SoftHangupRequest", caller, ("Cause", "16")))
            events.append(self.hangup(caller, caller_cause))
        events.append(self.hangup(dial.dest, cause))
        return events

    def member_lost(self, dial: Dial) -> list[Event]:
        dial.status = "CANCEL"
        # e_queue_ringall: the losing member gets two identical DialEnd CANCEL (fact 8).
        cancel = self.dial_event("DialEnd", dial, ("DialStatus", "CANCEL"))
        return [cancel, cancel, self.hangup(dial.dest, 26)]

    def bridged(self, bridge: Bridge, callee: Channel, caller: Channel) -> list[Event]:
        events = [self.bridge_event("BridgeCreate", bridge)]
        for channel in (callee, caller):
            bridge.channels.append(channel)
            channel.bridge = bridge
            events.append(self.bridge_event("BridgeEnter", bridge, *self.block(channel)))
        return events

    # -- queues ----------------------------------------------------------------------------

    def queue_joined(self, channel: Channel, queue: str) -> list[Event]:
        join = self.channel_event("QueueCallerJoin", channel, ("Queue", queue))
        return [
            event("QueueCallerJoin", AGENT, *join.fields[2:], ("Position", "1"), ("Count", "1")),
            self.channel_event("MusicOnHoldStart", channel, ("Class", "default")),
        ]

    def queue_connected(self, call: Call, caller: Channel, member: Channel) -> list[Event]:
        waited = seconds_since(call.queue_joined)
        leave = self.channel_event("QueueCallerLeave", caller, ("Queue", call.queue or ""))
        dial = Dial(caller, member, member.device)
        connect = self.dial_event(
            "AgentConnect",
            dial,
            ("Queue", call.queue or ""),
            ("Interface", member.device),
            ("MemberName", shown(member.caller.name, member.device)),
            ("HoldTime", waited),
            ("RingTime", waited),
        )
        return [
            self.channel_event("MusicOnHoldStop", caller),
            event("QueueCallerLeave", AGENT, *leave.fields[2:], ("Position", "1"), ("Count", "0")),
            event("AgentConnect", AGENT, *connect.fields[2:]),
        ]

    def queue_left(self, channel: Channel, queue: str) -> list[Event]:
        leave = self.channel_event("QueueCallerLeave", channel, ("Queue", queue))
        return [
            self.channel_event("MusicOnHoldStop", channel),
            event("QueueCallerLeave", AGENT, *leave.fields[2:], ("Position", "1"), ("Count", "0")),
        ]

    # -- during the call -------------------------------------------------------------------

    def hold(self, channel: Channel, peer: Channel | None, on_hold: bool) -> list[Event]:
        channel.on_hold = on_hold
        if on_hold:
            events = [self.channel_event("Hold", channel, ("MusicClass", "default"))]
            if peer is not None:
                events.append(self.channel_event("MusicOnHoldStart", peer, ("Class", "default")))
            return events
        events = [self.channel_event("Unhold", channel)]
        if peer is not None:
            events.append(self.channel_event("MusicOnHoldStop", peer))
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
        bridge = transferer.bridge
        events: list[Event] = []
        if blind and bridge is not None:
            # f_blind_transfer: a stray Unhold for the transferer comes first (fact 9).
            events.append(self.channel_event("Unhold", transferer))
            events.append(
                event(
                    "BlindTransfer",
                    CALL,
                    self.system,
                    ("Result", "Success"),
                    *self.block(transferer, "Transferer"),
                    *self.block(transferee, "Transferee"),
                    *self.bridge_block(bridge),
                    ("IsExternal", "Yes"),
                    ("Context", context),
                    ("Extension", exten),
                )
            )
        transferee.exten, transferee.context, transferee.priority = exten, context, 1
        if bridge is not None:
            events.extend(self.bridge_left(bridge, c) for c in (transferer, transferee))
        events.append(self.hangup(transferer, 16))
        if bridge is not None:
            events.append(self.bridge_event("BridgeDestroy", bridge))
        return events

    # -- the end ---------------------------------------------------------------------------

    def hung_up_bridged(
        self, call: Call, by: Channel, *, requested_by_ami: bool = False
    ) -> list[Event]:
        bridge = by.bridge
        others = [c for c in (bridge.channels if bridge else []) if c is not by]
        request = "SoftHangupRequest" if requested_by_ami else "HangupRequest"
        events = [self.channel_event(request, by, ("Cause", "16"))]
        member = next((c for c in [by, *others] if c.line is not None), None)
        caller = next((c for c in [by, *others] if c.line is None), None)
        if call.queue and member is not None and caller is not None:
            talk = seconds_since(call.answered_at)
            done = self.dial_event(
                "AgentComplete",
                Dial(caller, member, member.device),
                ("Queue", call.queue),
                ("Interface", member.device),
                ("MemberName", shown(member.caller.name, member.device)),
                ("HoldTime", "0"),
                ("TalkTime", talk),
                ("Reason", "caller" if by is caller else "agent"),
            )
            events.append(event("AgentComplete", AGENT, *done.fields[2:]))
        if bridge is not None:
            events.extend(self.bridge_left(bridge, channel) for channel in [by, *others])
            events.append(self.bridge_event("BridgeDestroy", bridge))
        if not requested_by_ami:
            events.append(self.channel_event("SoftHangupRequest", by, ("Cause", "16")))
        events.extend(self.hangup(channel, 16) for channel in others)
        events.append(self.hangup(by, 16))
        return events

    def hung_up(self, channel: Channel, cause: int, *, soft: bool = False) -> list[Event]:
        events = []
        if soft:
            events.append(self.channel_event("SoftHangupRequest", channel, ("Cause", str(cause))))
        events.append(self.hangup(channel, cause))
        return events

    def dial_cancelled(self, dial: Dial) -> list[Event]:
        dial.status = "CANCEL"
        return [
            self.dial_event("DialEnd", dial, ("DialStatus", "CANCEL")),
            self.hangup(dial.dest, 16),
        ]

    # -- actions' answers ------------------------------------------------------------------

    def listed_channel(self, channel: Channel, action_id: str | None) -> Event:
        return event(
            "CoreShowChannel",
            *self.tagged(action_id),
            *self.block(channel),
            ("BridgeId", channel.bridge.unique_id if channel.bridge else ""),
            ("Application", channel.application),
            ("ApplicationData", channel.application_data),
            ("Duration", hms(age(channel))),
        )

    def channels_listed(self, count: int, action_id: str | None) -> Event:
        return event(
            "CoreShowChannelsComplete",
            *self.tagged(action_id),
            ("EventList", "Complete"),
            ("ListItems", str(count)),
        )

    def status_item(self, channel: Channel, action_id: str | None) -> Event:
        return event(
            "Status",
            ("Privilege", "Call"),
            *self.block(channel),
            ("Type", channel.name.partition("/")[0]),
            ("BridgeID", channel.bridge.unique_id if channel.bridge else ""),
            ("Application", channel.application),
            ("Data", channel.application_data),
            ("Seconds", str(age(channel))),
            *self.tagged(action_id),
        )

    def status_complete(self, count: int, action_id: str | None) -> Event:
        return event(
            "StatusComplete",
            *self.tagged(action_id),
            ("EventList", "Complete"),
            ("ListItems", str(count)),
            ("Items", str(count)),
        )
