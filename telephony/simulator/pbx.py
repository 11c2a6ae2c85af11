"""The simulated PBX: its live calls and channels, and the verbs that change them.

Each verb updates the state and sends the events the dialect's ``Shapes`` give for it, so
a call can be stopped or redirected between any two verbs and still end properly. Knows no
sockets (events go to ``emit``) and no schedule (scripts in ``scenarios.py`` call verbs).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence

from telephony.ami import Event

from .channels import Bridge, Call, Channel, Consult, Dial, Namer, Party, State
from .shapes import Shapes

logger = logging.getLogger(__name__)

Emit = Callable[[Sequence[Event]], None]

#: Operators' display names, as the lab's phones were named (Operator Alice, Bob, ...).
OPERATOR_NAMES = ("Alice", "Bob", "Carol", "Dave", "Eve", "Frank")
INTERNAL = "from-internal"
TRUNK = "from-pstn"
#: The outbound caller ID the lab's dialplan sets (``CALLERID(num)=+15550000100``).
OUTBOUND_CLI = "+15550000100"


def did_of(line: str) -> str:
    """The public number that rings ``line``: ``101`` -> ``+15550000101``."""
    return "+1555000" + line.zfill(4)


class Pbx:
    """Live calls and channels of one simulated Asterisk, changed only through verbs."""

    def __init__(
        self, shapes: Shapes, namer: Namer, lines: Iterable[str], emit: Emit, *, tech: str
    ) -> None:
        self.shapes = shapes
        self.namer = namer
        self.lines = list(lines)
        self.tech = tech
        self.emit = emit
        self.calls: dict[int, Call] = {}
        self._numbers = 0
        #: AstDB (``DBPut``/``DBGet``/``DBDel``): the dialplan of docs/dnd.md reads
        #: ``DND/<line>`` and sends a DND line's direct calls to ``Busy()``.
        self.astdb: dict[tuple[str, str], str] = {}
        #: Paused queue members: line -> the pause's reason. The queue skips them.
        self.paused: dict[str, str] = {}

    # -- what is live ----------------------------------------------------------------------

    def live_channels(self) -> list[Channel]:
        return [channel for call in self.calls.values() for channel in call.live_channels]

    def find_channel(self, name: str) -> tuple[Call, Channel] | None:
        for call in self.calls.values():
            for channel in call.live_channels:
                if channel.name == name:
                    return call, channel
        return None

    def operator_name(self, line: str) -> str:
        index = self.lines.index(line) if line in self.lines else len(self.lines)
        return f"Operator {OPERATOR_NAMES[index % len(OPERATOR_NAMES)]}"

    def line_of_device(self, device: str) -> str | None:
        """``PJSIP/101`` (or ``SIP/101``, or a bare ``101``) -> ``101`` when it is a line."""
        tech, slash, resource = device.partition("/")
        line = resource if slash else tech
        known = tech.upper() == self.tech.upper() or not slash
        return line if known and line in self.lines else None

    def is_dnd(self, line: str) -> bool:
        """``${DB(DND/<line>)}`` is ``YES``: the dialplan sends direct calls to ``Busy()``."""
        return self.astdb.get(("DND", line)) == "YES"

    # -- making calls and channels ---------------------------------------------------------

    def new_call(self, kind: str) -> Call:
        self._numbers += 1
        call = Call(self._numbers, kind)
        self.calls[call.number] = call
        return call

    def _channel(
        self,
        call: Call,
        device: str,
        caller: Party,
        context: str,
        exten: str,
        *,
        line: str | None = None,
    ) -> Channel:
        unique_id = self.namer.unique_id()
        # Linkedid: the first channel's Uniqueid, inherited by every leg (fact 4).
        linked_id = call.channels[0].linked_id if call.channels else unique_id
        channel = Channel(
            name=self.namer.channel(device),
            unique_id=unique_id,
            linked_id=linked_id,
            caller=caller,
            connected=Party(),
            context=context,
            exten=exten,
            line=line,
        )
        call.channels.append(channel)
        return channel

    def local_channel(self, call: Call, name: str, context: str, exten: str) -> Channel:
        """A ``Local/exten@context-n;1`` or ``;2`` half (no line of its own)."""
        unique_id = self.namer.unique_id()
        linked_id = call.channels[0].linked_id if call.channels else unique_id
        channel = Channel(name, unique_id, linked_id, Party(), Party(), context, exten)
        call.channels.append(channel)
        return channel

    def trunk_channel(self, call: Call, caller: Party, exten: str) -> Channel:
        return self._channel(call, f"{self.tech}/pstn", caller, TRUNK, exten)

    def line_channel(self, call: Call, line: str, *, exten: str = "s") -> Channel:
        me = Party(line, self.operator_name(line))
        return self._channel(call, f"{self.tech}/{line}", me, INTERNAL, exten, line=line)

    # -- verbs -----------------------------------------------------------------------------

    def send(self, events: Sequence[Event]) -> None:
        if events:
            self.emit(events)
        for call in list(self.calls.values()):
            if call.channels and not call.live_channels:
                del self.calls[call.number]
                call.finished.set()
                logger.info("call %d (%s) ended", call.number, call.kind)

    def arrive(self, channel: Channel) -> None:
        self.send(self.shapes.arrived(channel))

    def answer_by_dialplan(self, channel: Channel) -> None:
        self.send(self.shapes.answered_by_dialplan(channel))

    def dial(
        self,
        call: Call,
        caller: Channel | None,
        dest: Channel,
        dial_string: str,
        *,
        queue: str | None = None,
    ) -> Dial:
        """``caller`` dials ``dest`` (``queue``: as a member of that queue)."""
        dial = Dial(caller, dest, dial_string, is_queue_member=queue is not None)
        call.dials.append(dial)
        if caller is not None and queue is None:
            caller.application, caller.application_data = "Dial", dial_string
        dest.application = "AppDial"
        self.send(self.shapes.dial_began(dial, queue))
        return dial

    def ring(self, dial: Dial) -> None:
        if dial.is_ringing and dial.dest.state is not State.RINGING:
            self.send(self.shapes.dial_ringing(dial))

    def call_of(self, dial: Dial) -> Call | None:
        return next((call for call in self.calls.values() if dial in call.dials), None)

    def answer(self, call: Call, dial: Dial) -> bool:
        """The callee picks up; in a queue the others stop ringing. False if it can't."""
        if not dial.is_ringing:
            return False
        events = self.shapes.dial_answered(dial)
        caller = dial.caller
        if dial.is_queue_member and caller is not None:
            for other in call.dials:
                if other is not dial and other.is_ringing:
                    events += self.shapes.member_lost(other)
            events += self.shapes.queue_connected(call, caller, dial.dest)
        if caller is not None:
            events += self.shapes.bridged(Bridge(self.namer.bridge_id()), dial.dest, caller)
        if call.consult is not None and dial is call.consult.dial:
            events += self.shapes.consult.answered(call.consult)
        call.answered_at = call.answered_at or time.monotonic()
        self.send(events)
        return True

    def fail(self, dial: Dial, status: str, cause: int, *, caller_cause: int | None) -> None:
        if dial.is_ringing:
            events = self.shapes.dial_failed(dial, status, cause, caller_cause=caller_cause)
            call = self.call_of(dial)
            self.send(events + (self._aftermath(call) if call is not None else []))

    def busy(self, call: Call, channel: Channel) -> None:
        """The dialplan's ``Busy()`` for ``channel`` (a DND line was dialled): it hears
        busy and hangs up with cause 17; no Dial, so the line never rings."""
        if not channel.is_hung_up:
            channel.state = State.BUSY
            self.send(self.shapes.hung_up(channel, 17) + self._aftermath(call))

    def hold(self, channel: Channel, on_hold: bool) -> bool:
        if channel.is_hung_up or channel.on_hold == on_hold or channel.state is not State.UP:
            return False
        self.send(self.shapes.hold(channel, self.shapes.peer_of(channel), on_hold))
        return True

    def transfer_away(
        self, call: Call, transferer: Channel, exten: str, context: str, *, blind: bool
    ) -> Channel | None:
        """``transferer`` leaves its bridge; returns the party left to dial ``exten``."""
        transferee = self.shapes.peer_of(transferer)
        if transferee is None:
            return None
        self.send(
            self.shapes.transferred_away(call, transferer, transferee, exten, context, blind=blind)
        )
        return transferee

    def start_consult(
        self, call: Call, transferer: Channel, exten: str, context: str
    ) -> Consult | None:
        """AMI ``Atxfer``: ``transferer`` holds its party and dials ``exten`` through a
        ``Local`` pair (g_attended_transfer); ``None`` when it has nobody to transfer."""
        transferee = self.shapes.peer_of(transferer)
        original = transferer.bridge
        if transferee is None or original is None or call.consult is not None:
            return None
        one_name, two_name = self.namer.local_pair(exten, context)
        one = self.local_channel(call, one_name, context, exten)
        two = self.local_channel(call, two_name, context, exten)
        call.local_pairs.append((one, two))
        consult = Consult(
            transferer,
            transferee,
            original,
            one,
            two,
            Bridge(self.namer.bridge_id()),
            exten,
            context,
            original_order=list(original.channels),
        )
        line = self.line_of_device(exten)
        if line is not None:
            dest = self.line_channel(call, line, exten=exten)
            dial_string = line
        else:
            dest = self.trunk_channel(call, Party(exten, None), exten)
            dial_string = f"pstn/{exten}" if self.shapes.dialect == "11" else f"{exten}@pstn"
        consult.dial = Dial(two, dest, dial_string, local_one=one)
        call.dials.append(consult.dial)
        two.application, two.application_data = "Dial", dial_string
        dest.application = "AppDial"
        call.consult = consult
        self.send(self.shapes.consult.began(consult))
        return consult

    def _end_consult(self, call: Call, consult: Consult) -> None:
        call.consult = None
        consult.ended.set()

    def _complete_consult(self, call: Call, consult: Consult, *, by_ami: bool) -> list[Event]:
        """The transferer hangs up: Asterisk completes the attended transfer."""
        self._end_consult(call, consult)
        new_id = self.namer.unique_id()
        return self.shapes.consult.completed(call, consult, by_ami=by_ami, new_unique_id=new_id)

    def _target_gone(
        self, call: Call, consult: Consult, by: Channel, *, by_ami: bool
    ) -> list[Event]:
        """``by`` (the target or a Local half) hangs up: the target side ends; ``_aftermath``
        then takes the transferer back to its party."""
        shapes, dial, two = self.shapes, consult.dial, consult.local_two
        assert dial is not None  # noqa: S101 - set when the consult starts
        if dial.is_ringing:
            if by is dial.dest:
                return shapes.dial_failed(dial, "NOANSWER", 16, caller_cause=16)
            return [*shapes.dial_cancelled(dial), *shapes.hung_up(two, 16, soft=by_ami)]
        target = by if by is dial.dest else two
        if target.is_hung_up:
            return []
        if target.bridge is not None:
            return shapes.hung_up_bridged(call, target, requested_by_ami=by_ami)
        return shapes.hung_up(target, 16, soft=by_ami)

    def _aftermath(self, call: Call) -> list[Event]:
        """What a hangup leaves: a failed consultation returns, Local twins and lone
        channels go."""
        events: list[Event] = []
        consult = call.consult
        if consult is not None and any(c.is_hung_up for c in consult.target_side):
            events += self._target_gone(call, consult, consult.local_two, by_ami=False)
            events += self.shapes.consult.failed(consult)
            self._end_consult(call, consult)
        events += self._local_twins(call)
        events += self._orphans(call)
        return events

    def _local_twins(self, call: Call) -> list[Event]:
        """A Local half whose twin is gone goes too (with what it is bridged or dialling)."""
        events: list[Event] = []
        for one, two in call.local_pairs:
            for gone, left in ((one, two), (two, one)):
                if not gone.is_hung_up or left.is_hung_up:
                    continue
                for dial in call.dials:
                    if dial.caller is left and dial.is_ringing:
                        events += self.shapes.dial_cancelled(dial)
                if left.bridge is not None:
                    events += self.shapes.hung_up_bridged(call, left, requested_by_ami=True)
                else:
                    events += self.shapes.hung_up(left, 16, soft=True)
        return events

    def caller_changed(self, channel: Channel, caller: Party) -> None:
        self.send(self.shapes.caller_changed(channel, caller))

    def hang_up(self, call: Call, channel: Channel, *, by_ami: bool = False) -> None:
        """``channel`` hangs up wherever the call stands; what it leaves alone goes too."""
        if channel.is_hung_up:
            return
        shapes = self.shapes
        events: list[Event] = []
        consult = call.consult
        if consult is not None and channel is consult.transferer:
            events += self._complete_consult(call, consult, by_ami=by_ami)
            self.send(events + self._aftermath(call))
            return
        if consult is not None and channel in consult.target_side:
            # ``_aftermath`` sees the target side gone and hangs up ;1 with the return.
            events += self._target_gone(call, consult, channel, by_ami=by_ami)
            self.send(events + self._aftermath(call))
            return
        if consult is not None and channel is consult.transferee:
            # The customer leaves during the consultation: the consultation goes on.
            self._end_consult(call, consult)
        ringing_to = [d for d in call.dials if d.dest is channel and d.is_ringing]
        ringing_from = [d for d in call.dials if d.caller is channel and d.is_ringing]
        if channel.bridge is not None:
            events += shapes.hung_up_bridged(call, channel, requested_by_ami=by_ami)
        elif ringing_to:
            # An operator rejects a ringing call: a plain Dial then ends for its caller too;
            # a queue caller waits on while another member still rings (``_orphans``).
            dial = ringing_to[0]
            events += shapes.dial_failed(
                dial, "NOANSWER", 16, caller_cause=None if call.queue else 16
            )
            if dial.caller is None and call.originate_failed is not None:
                events += call.originate_failed()
        else:
            for dial in ringing_from:
                events += shapes.dial_cancelled(dial)
            if call.queue:
                events += shapes.queue_left(channel, call.queue)
            events += shapes.hung_up(channel, 16, soft=by_ami)
        self.send(events + self._aftermath(call))

    def _orphans(self, call: Call) -> list[Event]:
        """Hang up channels nobody talks to any more (a queue caller with no member left)."""
        events: list[Event] = []
        consult = call.consult
        kept = (consult.transferer, consult.local_one) if consult is not None else ()
        for channel in call.live_channels:
            in_dial = any(
                d.is_ringing and channel in (d.caller, d.dest, d.local_one) for d in call.dials
            )
            if channel.bridge is not None or in_dial or channel in kept:
                continue
            if call.queue and call.answered_at is None and channel.line is None:
                events += self.shapes.queue_left(channel, call.queue)
            events += self.shapes.hung_up(channel, 16)
        return events

    def end_everything(self) -> None:
        """Hang up every live channel (the simulator is stopping)."""
        for call in list(self.calls.values()):
            for channel in call.live_channels:
                self.hang_up(call, channel)
