"""The attended transfer (AMI ``Atxfer``) as Asterisk 22 reports it, event for event.

Copies ``tests/fixtures/ami/asterisk-22/g_attended_transfer``: the feature digits as
``DTMFEnd``, ``Hold`` for the transferer with no re-INVITE, a ``Local`` pair into a
consultation bridge, and on completion ``BridgeMerge`` + ``AttendedTransfer``. Built from
``ModernShapes``' blocks; knows no sockets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from telephony.ami import Event, Field

from .channels import Bridge, Call, Channel, Consult, Party, State
from .shapes import CALL, FEATURE_ATXFER, ConsultShapes, event

if TYPE_CHECKING:
    from .modern import ModernShapes


class ModernConsult(ConsultShapes):
    """A consultation's events in the Asterisk 12-22 dialect."""

    def __init__(self, shapes: ModernShapes) -> None:
        self.shapes = shapes

    def dtmf(self, channel: Channel, digit: str) -> Event:
        """AMI ``Atxfer`` queues the feature code and the target as received DTMF."""
        return event(
            "DTMFEnd",
            ("Privilege", "dtmf,all"),
            self.shapes.system,
            *self.shapes.block(channel),
            ("Digit", digit),
            ("DurationMs", "0"),
            ("Direction", "Received"),
        )

    def local_bridge(self, one: Channel, two: Channel, consult: Consult) -> Event:
        return event(
            "LocalBridge",
            CALL,
            self.shapes.system,
            *self.shapes.block(one, "LocalOne"),
            *self.shapes.block(two, "LocalTwo"),
            ("Context", consult.context),
            ("Exten", consult.exten),
            ("LocalOptimization", "Yes"),
        )

    def bridge_fields(self, bridge: Bridge, prefix: str) -> list[Field]:
        """``ToBridgeUniqueid``, ``OrigBridgeType``...: a bridge block under a prefix."""
        return [(f"{prefix}{key}", value) for key, value in self.shapes.bridge_block(bridge)]

    def bridge_entered(self, bridge: Bridge, channel: Channel) -> Event:
        bridge.channels.append(channel)
        channel.bridge = bridge
        return self.shapes.bridge_event("BridgeEnter", bridge, *self.shapes.block(channel))

    def began(self, consult: Consult) -> list[Event]:
        transferer, transferee = consult.transferer, consult.transferee
        one, two, bridge, dial = consult.local_one, consult.local_two, consult.bridge, consult.dial
        assert dial is not None  # noqa: S101 - Pbx.start_consult sets it first
        digits = FEATURE_ATXFER + consult.exten
        events = [self.dtmf(transferer, digit) for digit in digits[: len(FEATURE_ATXFER)]]
        # Fact 9: a Hold for the transferer with no re-INVITE (and never an Unhold).
        transferer.on_hold = True
        events.append(self.shapes.channel_event("Hold", transferer))
        events.append(
            self.shapes.channel_event("MusicOnHoldStart", transferee, ("Class", "default"))
        )
        events.extend(self.dtmf(transferer, digit) for digit in digits[len(FEATURE_ATXFER) :])
        one.state, two.state = State.DOWN, State.RING
        events += [
            self.shapes.channel_event("Newchannel", one),
            self.shapes.channel_event("Newchannel", two),
        ]
        events.append(self.shapes.bridge_event("BridgeCreate", bridge))
        events.extend(self.shapes.caller_changed(two, transferer.caller))
        events.append(self.local_bridge(one, two, consult))
        one.connected = transferer.caller
        events.append(self.shapes.channel_event("NewConnectedLine", one))
        events.append(self.bridge_entered(bridge, one))
        events.append(self.shapes.bridge_left(consult.original, transferer))
        dest = dial.dest
        events.append(self.shapes.channel_event("Newchannel", dest))
        events.append(self.bridge_entered(bridge, transferer))
        dest.connected, dest.exten = transferer.caller, consult.exten
        events.append(self.shapes.channel_event("NewConnectedLine", dest))
        transferer.connected = Party()
        events.append(self.shapes.channel_event("NewConnectedLine", transferer))
        events.append(self.shapes.dial_event("DialBegin", dial, ("DialString", dial.dial_string)))
        two.connected = transferer.connected = dest.caller
        events.append(self.shapes.channel_event("NewConnectedLine", two))
        events.append(self.shapes.channel_event("NewConnectedLine", transferer))
        return events

    def answered(self, consult: Consult) -> list[Event]:
        # The transferer has been in the consultation bridge with ;1 since the start.
        return []

    def completed(
        self, call: Call, consult: Consult, *, by_ami: bool, new_unique_id: str
    ) -> list[Event]:
        transferer, transferee, one = consult.transferer, consult.transferee, consult.local_one
        original, bridge = consult.original, consult.bridge
        request = "SoftHangupRequest" if by_ami else "HangupRequest"
        events = [self.shapes.channel_event(request, transferer, ("Cause", "16"))]
        events.append(
            event(
                "BridgeMerge",
                CALL,
                self.shapes.system,
                *self.bridge_fields(original, "To"),
                *self.bridge_fields(bridge, "From"),
            )
        )
        events.append(self.shapes.bridge_left(bridge, one))
        events.append(self.shapes.channel_event("MusicOnHoldStop", transferee))
        events.append(self.bridge_entered(original, one))
        events.append(self.shapes.bridge_left(bridge, transferer))
        events.append(
            event(
                "AttendedTransfer",
                CALL,
                self.shapes.system,
                ("Result", "Success"),
                *self.shapes.block(transferer, "OrigTransferer"),
                *self.bridge_fields(original, "Orig"),
                *self.shapes.block(transferer, "SecondTransferer"),
                *self.bridge_fields(bridge, "Second"),
                *self.shapes.block(transferee, "Transferee"),
                *self.shapes.block(one, "TransferTarget"),
                ("IsExternal", "No"),
                ("DestType", "Bridge"),
                ("DestBridgeUniqueid", original.unique_id),
            )
        )
        target = consult.dial.dest if consult.dial is not None else one
        transferee.connected = target.caller
        events.append(self.shapes.channel_event("NewConnectedLine", transferee))
        one.connected = transferee.caller
        events.append(self.shapes.channel_event("NewConnectedLine", one))
        events.append(self.shapes.bridge_event("BridgeDestroy", bridge))
        if target is not one and not target.is_hung_up:
            target.connected = transferee.caller
            events.append(self.shapes.channel_event("NewConnectedLine", target))
        events.append(self.shapes.hangup(transferer, 16))
        return events

    def failed(self, consult: Consult) -> list[Event]:
        transferer, transferee, one = consult.transferer, consult.transferee, consult.local_one
        bridge = consult.bridge
        events: list[Event] = []
        if not one.is_hung_up:
            if one.bridge is not None:
                events.append(self.shapes.bridge_left(one.bridge, one))
            events.append(self.shapes.hangup(one, 16))
        if transferer.bridge is bridge:
            events.append(self.shapes.bridge_left(bridge, transferer))
        events.append(self.shapes.bridge_event("BridgeDestroy", bridge))
        events.append(self.bridge_entered(consult.original, transferer))
        transferer.on_hold = False
        events.append(self.shapes.channel_event("Unhold", transferer))
        events.append(self.shapes.channel_event("MusicOnHoldStop", transferee))
        transferer.connected = transferee.caller
        events.append(self.shapes.channel_event("NewConnectedLine", transferer))
        return events
