"""``Simulator``: a fake Asterisk speaking real AMI, for the demo, ``make run`` and tests.

Puts the pieces together (server, PBX, scenarios, schedule) and is the one public object:
``await start()``, ``await start_call(kind, line)``, ``live_channels()``, ``await stop()``.
Knows no Django.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Coroutine, Iterable, Sequence
from typing import Any

from telephony.ami import Action, Message

from .actions import ActionDesk
from .channels import Call, Channel, Namer, OriginateRequest, Party
from .legacy import LegacyShapes
from .modern import ModernShapes
from .pbx import Pbx
from .scenarios import Kind, Scenarios, Timing
from .scheduler import Schedule
from .server import AmiServer
from .shapes import Shapes
from .truth import TruthLog

logger = logging.getLogger(__name__)

#: The demo schedule's default: a new call every 8 seconds.
DEFAULT_EVERY = 8.0


def shapes_for(dialect: str) -> Shapes:
    """``"22"`` (or any 12+) -> Asterisk 22 shapes; ``"11"`` (or ``"1.8"``) -> legacy."""
    if dialect in {"11", "1.8", "legacy"}:
        return LegacyShapes()
    if dialect in {"22", "12", "13", "16", "18", "20", "21", "modern"}:
        return ModernShapes()
    raise ValueError(f"unknown Asterisk dialect {dialect!r} (use 22 or 11)")


class Simulator:
    """A simulated Asterisk on ``host:port`` whose calls happen by schedule or on demand."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 5038,
        username: str = "cti",
        secret: str = "cti",  # noqa: S107 (the simulator's documented demo login)
        dialect: str = "22",
        lines: Iterable[str] = ("101", "102"),
        every: float | None = DEFAULT_EVERY,
        rate: float | None = None,
        seed: int | None = None,
        schedule: bool = True,
        time_scale: float = 1.0,
        truth: TruthLog | None = None,
    ) -> None:
        self.lines = [line.strip() for line in lines if line.strip()]
        if not self.lines:
            raise ValueError("the simulator needs at least one line")
        if rate is not None and rate <= 0:
            raise ValueError("--rate must be positive")
        self.seed = seed
        self.rng = self._stream("calls")
        self.shapes = shapes_for(dialect)
        self.pbx = Pbx(
            self.shapes,
            Namer(self._stream("names")),
            self.lines,
            self._emit,
            tech="SIP" if self.shapes.dialect == "11" else "PJSIP",
        )
        self.timing = Timing(time_scale)
        self.scenarios = Scenarios(self.pbx, self.rng, self.timing)
        self._cti_rng = self._stream("cti")
        desk = ActionDesk(
            self.pbx, self.scenarios, self.run_script, self._start_originate, self._cti_rng
        )
        self.server = AmiServer(
            host=host,
            port=port,
            username=username,
            secret=secret,
            greeting=self.shapes.greeting,
            handler=desk,
            rng=self._stream("logins"),
        )
        self.schedule: Schedule | None = None
        if schedule:
            interval = 1.0 / rate if rate is not None else (every or DEFAULT_EVERY)
            self.schedule = Schedule(
                self._scheduled,
                self.is_busy,
                self.rng,
                self.lines,
                interval=interval,
                skip_busy_lines=rate is None,
            )
        self._schedule_task: asyncio.Task[None] | None = None
        self._scripts: set[asyncio.Task[None]] = set()
        self.calls_started = 0
        self.truth = truth

    def _stream(self, purpose: str) -> random.Random:
        """A generator of its own per purpose: what clients do (an MD5 login, a transfer)
        never shifts which calls the schedule makes next."""
        if self.seed is None:
            return random.Random()  # noqa: S311 (a demo's dice, not cryptography)
        return random.Random(f"{self.seed}:{purpose}")  # noqa: S311 (same)

    # -- what tests and the demo read ---------------------------------------------------------

    @property
    def port(self) -> int:
        """The listening port (the real one when started with ``port=0``)."""
        return self.server.port

    @property
    def actions(self) -> list[Action]:
        """Every action any client sent, Login included, in arrival order."""
        return self.server.actions

    @property
    def dialect(self) -> str:
        """``"12"`` or ``"11"``: what ``DialectReader`` should be pinned to."""
        return self.shapes.dialect

    def live_channels(self) -> list[Channel]:
        return self.pbx.live_channels()

    def is_busy(self, line: str) -> bool:
        return any(channel.line == line for channel in self.pbx.live_channels())

    # -- life ------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.server.start()
        if self.schedule is not None:
            self._schedule_task = asyncio.create_task(self.schedule.run())

    async def stop(self) -> None:
        """Stop the schedule and every script, hang up what is live, close the sessions."""
        if self._schedule_task is not None:
            self._schedule_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._schedule_task
        for task in list(self._scripts):
            task.cancel()
        if self._scripts:
            await asyncio.wait(self._scripts, timeout=2)
        self.pbx.end_everything()
        await self.server.stop()
        logger.info("simulator stopped after %d calls", self.calls_started)

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- calls -----------------------------------------------------------------------------

    async def start_call(
        self,
        kind: Kind | str,
        line: str | None = None,
        *,
        customer: Party | None = None,
        to: str | None = None,
        lines: Sequence[str] | None = None,
    ) -> Call:
        """Start one scenario now and return its call (``await call.finished.wait()``).

        ``line`` defaults to the first line; ``to`` is the transfer target (another line)
        or the outbound number; ``lines`` are the queue's members (all lines by default),
        of which ``line`` answers.
        """
        return self._begin(Kind(kind), line or self.lines[0], customer, to, lines)

    def _scheduled(self, kind: Kind, line: str) -> Call:
        return self._begin(kind, line, None, None, None)

    def _begin(
        self,
        kind: Kind,
        line: str,
        customer: Party | None,
        to: str | None,
        members: Sequence[str] | None,
    ) -> Call:
        scenarios = self.scenarios
        who = customer or scenarios.customer()
        plan = scenarios.plan()
        call = self.pbx.new_call(str(kind))
        script: Coroutine[Any, Any, None]
        if kind is Kind.INBOUND:
            script = scenarios.inbound(call, line, who, plan)
        elif kind is Kind.HOLD:
            script = scenarios.inbound(call, line, who, plan, hold=True)
        elif kind is Kind.MISSED:
            script = scenarios.missed(call, line, who)
        elif kind is Kind.BUSY:
            script = scenarios.busy(call, line, who)
        elif kind is Kind.QUEUE:
            script = scenarios.queue(call, list(members or self.lines), who, line, plan)
        elif kind is Kind.OUTBOUND:
            number = to or scenarios.outbound_number()
            script = scenarios.outbound(call, line, number, plan)
        else:
            target = to or self.rng.choice([one for one in self.lines if one != line] or [line])
            script = scenarios.inbound(call, line, who, plan, transfer_to=target)
        logger.info("call %d: %s on line %s from %s", call.number, kind, line, who.number)
        self.calls_started += 1
        self.run_script(call, script)
        return call

    def _start_originate(self, line: str, request: OriginateRequest) -> Call:
        call = self.pbx.new_call("originate")
        logger.info("call %d: originate from line %s to %s", call.number, line, request.exten)
        self.calls_started += 1
        plan = self.scenarios.plan(self._cti_rng)
        self.run_script(call, self.scenarios.originate(call, line, request, plan))
        return call

    def run_script(self, call: Call, script: Coroutine[Any, Any, None]) -> None:
        """Make ``script`` the one driving ``call`` (the previous one is cancelled)."""
        previous = call.task
        if previous is not None and previous is not asyncio.current_task():
            previous.cancel()
        task = asyncio.create_task(self._guarded(call, script))
        call.task = task
        self._scripts.add(task)
        task.add_done_callback(self._scripts.discard)

    async def _guarded(self, call: Call, script: Coroutine[Any, Any, None]) -> None:
        try:
            await script
        except asyncio.CancelledError:
            raise
        except Exception:
            # Top of a script task: a bug in one call must not stop the PBX; end the call.
            logger.exception("call %d script failed; hanging it up", call.number)
            for channel in call.live_channels:
                self.pbx.hang_up(call, channel)

    def _emit(self, events: Sequence[Message]) -> None:
        self.server.broadcast(events)
        if self.truth is not None:
            self.truth.observe(self.pbx.calls.values())
