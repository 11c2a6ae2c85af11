"""Call scripts of the simulated PBX: who calls whom, how long it rings, talks and holds.

Each script drives one ``Call`` through ``Pbx`` verbs with pauses in between, modelled on
the lab captures (a, b, c, e, f). Durations are drawn when a script is planned, from the
simulator's seeded generator, so a seeded run repeats itself. Knows no sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass

from telephony.ami import Event

from .channels import Call, Channel, Consult, Dial, OriginateRequest, Party
from .pbx import INTERNAL, OUTBOUND_CLI, Pbx, did_of

#: Callers of the demo; Cyrillic names because the product serves Russian-speaking desks.
CUSTOMERS = (
    Party("+15551230001", "Customer"),
    Party("+15551230002", "Иван Петров"),
    Party("+15551230003", "Acme Logistics"),
    Party("+15551230004", "Мария Смирнова"),
    Party("+15551230005", None),
    Party("+15551230006", "Jane Doe"),
)
#: Numbers operators call out to.
OUTBOUND_NUMBERS = ("+15559870001", "+15559870002", "+15559870003")
QUEUE = "support"
#: ``atxfernoanswertimeout`` (features.conf default): an unanswered consultation fails.
CONSULT_NO_ANSWER = 15.0
QUEUE_DID = "+15550000200"


class Kind(enum.StrEnum):
    """The scenarios ``start_call`` and the schedule know."""

    INBOUND = "inbound"  # b without hold: answered, the customer hangs up
    HOLD = "hold"  # b: answered, the operator holds and resumes
    MISSED = "missed"  # c: rings until the Dial timeout
    BUSY = "busy"  # the phone answers 486: cause 17 on both legs
    QUEUE = "queue"  # e: ring-all, one member answers, the others: answered elsewhere
    OUTBOUND = "outbound"  # the operator dials a customer from the phone
    TRANSFER = "transfer"  # f: answered, blind transfer to another line


@dataclass(frozen=True, slots=True)
class Plan:
    """Durations of one call in seconds (before ``Timing.scale``)."""

    ring: float
    talk: float
    hold_after: float
    hold: float
    far_end_ring: float


class Timing:
    """Real seconds for the script's seconds: ``scale`` 0.05 makes a 10 s call last 0.5 s."""

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("the time scale must be positive")
        self.scale = scale

    async def pause(self, seconds: float) -> None:
        await asyncio.sleep(seconds * self.scale)

    async def wait(self, event: asyncio.Event, seconds: float) -> bool:
        """Wait for ``event`` at most ``seconds``; whether it was set."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds * self.scale):
                await event.wait()
        return event.is_set()


class Scenarios:
    """Plans and plays call scripts on one ``Pbx``."""

    def __init__(self, pbx: Pbx, rng: random.Random, timing: Timing) -> None:
        self.pbx = pbx
        self.rng = rng
        self.timing = timing

    def plan(self, rng: random.Random | None = None) -> Plan:
        """Durations of the next call, from ``rng`` (the schedule's generator by default)."""
        uniform = (rng or self.rng).uniform
        return Plan(
            ring=round(uniform(2.0, 5.0), 1),
            talk=round(uniform(6.0, 20.0), 1),
            hold_after=round(uniform(2.0, 4.0), 1),
            hold=round(uniform(3.0, 6.0), 1),
            far_end_ring=round(uniform(2.0, 4.0), 1),
        )

    def customer(self) -> Party:
        return self.rng.choice(CUSTOMERS)

    def outbound_number(self) -> str:
        return self.rng.choice(OUTBOUND_NUMBERS)

    # -- inbound -----------------------------------------------------------------------------

    async def _refused_for_dnd(self, call: Call, line: str, customer: Party) -> bool:
        """docs/dnd.md's dialplan: a direct call to a DND line goes to ``Busy()``."""
        if not self.pbx.is_dnd(line):
            return False
        caller = self.pbx.trunk_channel(call, customer, did_of(line))
        self.pbx.arrive(caller)
        await self.timing.pause(0.3)
        self.pbx.busy(call, caller)
        return True

    def _ring_line(self, call: Call, line: str, customer: Party) -> tuple[Channel, Dial]:
        pbx = self.pbx
        caller = pbx.trunk_channel(call, customer, did_of(line))
        pbx.arrive(caller)
        operator = pbx.line_channel(call, line)
        dial = pbx.dial(call, caller, operator, line)
        return caller, dial

    async def inbound(
        self,
        call: Call,
        line: str,
        customer: Party,
        plan: Plan,
        *,
        hold: bool = False,
        transfer_to: str | None = None,
    ) -> None:
        """b/f: the line rings, answers, maybe holds or transfers; the customer hangs up."""
        if await self._refused_for_dnd(call, line, customer):
            return
        caller, dial = self._ring_line(call, line, customer)
        self.pbx.ring(dial)
        await self.timing.pause(plan.ring)
        if not self.pbx.answer(call, dial) and dial.status != "ANSWER":
            return
        operator = dial.dest
        if hold:
            await self.timing.pause(plan.hold_after)
            self.pbx.hold(operator, True)
            await self.timing.pause(plan.hold)
            self.pbx.hold(operator, False)
        if transfer_to is not None:
            await self.timing.pause(plan.hold_after)
            await self.transfer(call, operator, transfer_to, INTERNAL, plan, blind=True)
            return
        await self.timing.pause(plan.talk)
        self.pbx.hang_up(call, caller)

    async def missed(self, call: Call, line: str, customer: Party) -> None:
        """c: nobody answers; the Dial times out after 15 s (``NOANSWER``, cause 0)."""
        if await self._refused_for_dnd(call, line, customer):
            return
        _caller, dial = self._ring_line(call, line, customer)
        self.pbx.ring(dial)
        await self.timing.pause(15.0)
        self.pbx.fail(dial, "NOANSWER", 0, caller_cause=16)

    async def busy(self, call: Call, line: str, customer: Party) -> None:
        """The phone answers 486 Busy Here: no ringing, cause 17 on both legs (fact 7)."""
        if await self._refused_for_dnd(call, line, customer):
            return
        _caller, dial = self._ring_line(call, line, customer)
        await self.timing.pause(0.3)
        self.pbx.fail(dial, "BUSY", 17, caller_cause=17)

    async def queue(
        self, call: Call, lines: Sequence[str], customer: Party, winner: str, plan: Plan
    ) -> None:
        """e: the queue answers the caller, rings every member, the first to answer wins."""
        pbx = self.pbx
        caller = pbx.trunk_channel(call, customer, QUEUE_DID)
        caller.application, caller.application_data = "Queue", QUEUE
        pbx.arrive(caller)
        pbx.answer_by_dialplan(caller)
        await self.timing.pause(0.5)
        call.queue = QUEUE
        call.queue_joined = asyncio.get_running_loop().time()
        pbx.send(pbx.shapes.queue_joined(caller, QUEUE))
        members = [line for line in lines if line not in pbx.paused]
        if not members:
            # Every member paused: the caller waits, then gives up (QueueCallerAbandon).
            await self.timing.pause(plan.talk)
            waited = round(asyncio.get_running_loop().time() - call.queue_joined)
            pbx.send(pbx.shapes.queue_abandoned(caller, QUEUE, waited))
            pbx.hang_up(call, caller)
            return
        dials = [
            pbx.dial(call, caller, pbx.line_channel(call, line), f"{pbx.tech}/{line}", queue=QUEUE)
            for line in members
        ]
        for dial in dials:
            pbx.ring(dial)
        await self.timing.pause(plan.ring)
        ringing = [d for d in dials if d.is_ringing]
        chosen = next(
            (d for d in ringing if d.dest.line == winner), ringing[0] if ringing else None
        )
        if chosen is not None:
            pbx.answer(call, chosen)
        if any(d.status == "ANSWER" for d in dials):
            await self.timing.pause(plan.talk)
            pbx.hang_up(call, caller)

    # -- outbound ----------------------------------------------------------------------------

    async def outbound(self, call: Call, line: str, number: str, plan: Plan) -> None:
        """The operator dials a customer from the phone; the operator hangs up."""
        pbx = self.pbx
        operator = pbx.line_channel(call, line, exten=number)
        pbx.arrive(operator)
        await self._dial_out(call, operator, number, plan)
        if operator.bridge is not None:
            await self.timing.pause(plan.talk)
            pbx.hang_up(call, operator)

    async def _dial_out(self, call: Call, caller: Channel, exten: str, plan: Plan) -> bool:
        """``caller`` dials ``exten`` (a line or an outside number) until it answers."""
        pbx = self.pbx
        line = pbx.line_of_device(exten)
        if line is not None and pbx.is_dnd(line):
            await self.timing.pause(0.3)
            pbx.busy(call, caller)  # docs/dnd.md: Busy() instead of Dial
            return False
        if line is not None:
            dest = pbx.line_channel(call, line, exten=exten)
            dial = pbx.dial(call, caller, dest, exten)
        else:
            dest = pbx.trunk_channel(call, Party(exten, caller.connected.name), exten)
            legacy = pbx.shapes.dialect == "11"
            dial = pbx.dial(call, caller, dest, f"pstn/{exten}" if legacy else f"{exten}@pstn")
        pbx.ring(dial)
        await self.timing.pause(plan.far_end_ring if line is None else plan.ring)
        return pbx.answer(call, dial) or dial.status == "ANSWER"

    async def originate(
        self,
        call: Call,
        line: str,
        request: OriginateRequest,
        plan: Plan,
    ) -> None:
        """a: the operator's phone rings; once answered, it dials ``exten``; OriginateResponse
        comes right after the operator answers (fact 6)."""
        pbx, shapes = self.pbx, self.pbx.shapes
        operator = pbx.line_channel(call, line)
        operator.context = request.context
        pbx.send(shapes.originated(operator, request.account, request.shown_as))
        dial = pbx.dial(call, None, operator, line)

        def failed() -> list[Event]:
            # The phone was hung up while ringing: Asterisk's reason 1 (hangup).
            return [shapes.originate_response(request, None, 1)]

        call.originate_failed = failed
        pbx.ring(dial)
        await self.timing.pause(2.0)
        if not pbx.answer(call, dial) and dial.status != "ANSWER":
            return
        call.originate_failed = None
        operator.exten, operator.priority = request.exten, 2
        if pbx.line_of_device(request.exten) is None:
            # The dialplan's outside route sets the trunk's CLI (a_click_to_call:
            # Set(CALLERID(num)=...)); a colleague's extension (_1XX) dials with the caller
            # ID the Originate gave, as Asterisk does.
            pbx.caller_changed(operator, Party(OUTBOUND_CLI, request.shown_as.name))
        response = shapes.originate_response(request, operator, 4)
        pbx.send([response])
        operator.priority = 3
        if await self._dial_out(call, operator, request.exten, plan):
            await self.timing.pause(plan.talk)
            pbx.hang_up(call, operator)

    # -- transfers ---------------------------------------------------------------------------

    async def transfer(
        self,
        call: Call,
        transferer: Channel,
        exten: str,
        context: str,
        plan: Plan,
        *,
        blind: bool,
    ) -> None:
        """f: ``transferer`` leaves; its peer dials ``exten``, talks, then hangs up."""
        transferee = self.pbx.transfer_away(call, transferer, exten, context, blind=blind)
        if transferee is None:
            return
        if await self._dial_out(call, transferee, exten, plan):
            await self.timing.pause(plan.talk)
            self.pbx.hang_up(call, transferee)

    async def consult(self, call: Call, consult: Consult, plan: Plan) -> None:
        """g: the consulted colleague rings and answers (busy when on a call already); the
        operator completes or cancels from the panel, else the colleague hangs up after
        talking and the operator is back with the customer, who hangs up in the end."""
        pbx, dial = self.pbx, consult.dial
        assert dial is not None  # noqa: S101 - Pbx.start_consult sets it
        target = dial.dest
        busy = target.line is not None and any(
            c.line == target.line and c is not target for c in pbx.live_channels()
        )
        if busy:
            await self.timing.pause(0.3)
            pbx.fail(dial, "BUSY", 17, caller_cause=17)
        else:
            pbx.ring(dial)
            if plan.ring < CONSULT_NO_ANSWER:
                await self.timing.pause(plan.ring)
                if dial.is_ringing:
                    pbx.answer(call, dial)
            else:
                await self.timing.pause(CONSULT_NO_ANSWER)
                pbx.fail(dial, "NOANSWER", 0, caller_cause=16)
        if not await self.timing.wait(consult.ended, plan.talk):
            pbx.hang_up(call, target)
        await self.timing.pause(plan.talk)
        pbx.hang_up(call, consult.transferee)
