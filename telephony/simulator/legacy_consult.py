"""The attended transfer (AMI ``Atxfer``) as Asterisk 1.8/11 reports it.

No capture of it is in the fixtures; the shape follows the facts the lab observed on
Asterisk 11.25 (``../shared/ami-captures/README.md``, 11 facts 4-7): the feature digits as
``DTMF``, ``Bridge`` Unlink/Link flaps, ``MusicOnHold`` and no ``Hold``, a ``Local`` pair,
and on completion a ``Masquerade`` with three ``Rename``s, the old Uniqueid dying as a
``<ZOMBIE>`` while the caller talks on under the new one. Built from ``LegacyShapes``'
blocks; knows no sockets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from telephony.ami import Event

from .channels import Call, Channel, Consult, Party, State
from .shapes import CALL, FEATURE_ATXFER, ConsultShapes, event, shown

if TYPE_CHECKING:
    from .legacy import LegacyShapes


class LegacyConsult(ConsultShapes):
    """A consultation's events in the Asterisk 1.8/11 dialect."""

    def __init__(self, shapes: LegacyShapes) -> None:
        self.shapes = shapes

    def dtmf(self, channel: Channel, digit: str) -> Event:
        return event(
            "DTMF",
            ("Privilege", "dtmf,all"),
            *self.shapes.ids(channel),
            ("Digit", digit),
            ("Direction", "Received"),
            ("Begin", "No"),
            ("End", "Yes"),
        )

    def rename(self, channel: Channel, new_name: str) -> Event:
        old, channel.name = channel.name, new_name
        return event(
            "Rename", CALL, ("Channel", old), ("Newname", new_name), ("Uniqueid", channel.unique_id)
        )

    def flap(self, one: Channel, two: Channel) -> list[Event]:
        """Fact 4: the core bridge loop restarts: ``Unlink`` then ``Link`` of the same pair."""
        first, second = self.shapes.ordered(one, two)
        return [self.shapes.link("Unlink", first, second), self.shapes.link("Link", first, second)]

    def began(self, consult: Consult) -> list[Event]:
        transferer, transferee = consult.transferer, consult.transferee
        one, two, dial = consult.local_one, consult.local_two, consult.dial
        assert dial is not None  # noqa: S101 - Pbx.start_consult sets it first
        # Fact 7: the feature code and the target arrive as DTMF on the transferer; fact 4:
        # the bridge flaps three times while they are read; fact 5: MOH, no Hold event.
        events = [self.dtmf(transferer, digit) for digit in FEATURE_ATXFER]
        events += self.flap(transferee, transferer)
        events.append(self.shapes.music(transferee, on=True))
        events += self.flap(transferee, transferer)
        events.extend(self.dtmf(transferer, digit) for digit in consult.exten)
        events += self.flap(transferee, transferer)
        # The transferer waits alone in the feature's bridge until the consultation answers.
        consult.original.channels.remove(transferer)
        consult.bridge.channels[:] = [transferer]
        transferer.bridge = consult.bridge
        one.state, two.state = State.DOWN, State.RING
        events += [
            self.shapes.newchannel(one, consult.exten),
            self.shapes.newchannel(two, consult.exten),
        ]
        two.caller = transferer.caller
        events.append(
            event(
                "LocalBridge",
                CALL,
                ("Channel1", one.name),
                ("Channel2", two.name),
                ("Uniqueid1", one.unique_id),
                ("Uniqueid2", two.unique_id),
                ("CallerID1", shown(one.caller.number, "")),
                ("CallerID2", shown(two.caller.number, "")),
                ("Context", consult.context),
                ("Exten", consult.exten),
                ("LocalOptimization", "No"),
            )
        )
        events += self.shapes.dial_began(dial)
        return events

    def answered(self, consult: Consult) -> list[Event]:
        # Fact 4: Link, Unlink, Link of the transferer and ;1 once the consultation answers.
        transferer, one, bridge = consult.transferer, consult.local_one, consult.bridge
        bridge.channels[:] = [one, transferer]
        transferer.bridge = one.bridge = bridge
        return [self.shapes.link("Link", transferer, one), *self.flap(transferer, one)]

    def completed(
        self, call: Call, consult: Consult, *, by_ami: bool, new_unique_id: str
    ) -> list[Event]:
        transferer, transferee, one = consult.transferer, consult.transferee, consult.local_one
        request = "SoftHangupRequest" if by_ami else "HangupRequest"
        events = [event(request, CALL, *self.shapes.ids(transferer))]
        if one.bridge is consult.bridge:
            events.append(self.shapes.link("Unlink", transferer, one))
        consult.bridge.channels.clear()
        transferer.bridge = one.bridge = None
        events.append(self.shapes.music(transferee, on=False))
        # Fact 6: a Transfered/ channel takes the transferee's place by masquerade; the live
        # customer keeps its name under the new Uniqueid, the old one dies as a <ZOMBIE>.
        name = transferee.name
        xfer = Channel(
            name=f"Transfered/{name}",
            unique_id=new_unique_id,
            linked_id=new_unique_id,
            caller=Party(),
            connected=Party(),
            context="",
            exten="",
        )
        zombie = Channel(
            name=name,
            unique_id=transferee.unique_id,
            linked_id=transferee.linked_id,
            caller=transferee.caller,
            connected=transferee.connected,
            context=transferee.context,
            exten=transferee.exten,
            state=transferee.state,
        )
        events.append(self.shapes.newchannel(xfer, ""))
        events.append(
            event(
                "Masquerade",
                CALL,
                ("Clone", name),
                ("CloneState", zombie.state.desc),
                ("Original", xfer.name),
                ("OriginalState", xfer.state.desc),
            )
        )
        original_name = xfer.name
        events.append(self.rename(zombie, f"{name}<MASQ>"))
        events.append(self.rename(xfer, name))
        events.append(self.rename(zombie, f"{original_name}<ZOMBIE>"))
        for dial in call.dials:
            if dial.caller is transferee and dial.legacy_end_pending:
                dial.legacy_end_pending = False
                events.append(
                    event(
                        "Dial",
                        CALL,
                        ("SubEvent", "End"),
                        ("Channel", zombie.name),
                        ("UniqueID", zombie.unique_id),
                        ("DialStatus", "ANSWER"),
                    )
                )
        events.append(event("SoftHangupRequest", CALL, *self.shapes.ids(zombie), ("Cause", "16")))
        events.append(self.shapes.hangup(zombie, 16))
        transferee.unique_id = new_unique_id
        consult.original.channels[:] = [one, transferee]
        transferee.bridge = one.bridge = consult.original
        events.append(self.shapes.link("Link", transferee, one))
        events.append(self.shapes.hangup(transferer, 16))
        events.extend(self.shapes.pending_dial_ends(call, transferer))
        return events

    def failed(self, consult: Consult) -> list[Event]:
        transferer, transferee, one = consult.transferer, consult.transferee, consult.local_one
        events: list[Event] = []
        if one.bridge is consult.bridge:
            events.append(self.shapes.link("Unlink", transferer, one))
        consult.bridge.channels.clear()
        transferer.bridge = one.bridge = None
        if not one.is_hung_up:
            events.append(self.shapes.hangup(one, 16))
        events.append(self.shapes.music(transferee, on=False))
        consult.original.channels[:] = consult.original_order
        transferer.bridge = consult.original
        first, second = self.shapes.ordered(transferee, transferer)
        events.append(self.shapes.link("Link", first, second))
        return events
