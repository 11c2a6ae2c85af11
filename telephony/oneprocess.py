"""One process for everything: daphne, the AMI worker and (in demo mode) the simulated PBX
on one asyncio loop, so the in-memory channel layer is shared by all three.

Owns start-up order and a clean stop; knows nothing of pages, calls or AMI details. Twisted
must run on asyncio: importing ``daphne.server`` installs its asyncio reactor, so this
module imports it only inside ``run()``, before anything else touches Twisted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async

from .simulator import Simulator
from .worker.supervisor import Supervisor

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Options:
    """What ``manage.py serve`` asks for."""

    host: str = "127.0.0.1"
    port: int = 8000
    #: Start the simulated PBX (demo mode) and point the demo connector at it.
    simulator: bool = False
    sim_port: int = 0
    sim_every: float = 6.0
    sim_dialect: str = "22"
    sim_lines: tuple[str, ...] = ("101", "102", "103")
    sim_schedule: bool = True
    #: Called (in the reactor loop) with the simulator's real port before the worker starts.
    on_simulator: Callable[[int], None] | None = None
    poll: float = 5.0
    ready: Callable[[], None] | None = None
    verbosity: int = 1


class Background:
    """The simulator and the worker supervisor, started and stopped on the reactor's loop."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.simulator: Simulator | None = None
        self.supervisor: Supervisor | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        options = self.options
        if options.simulator:
            self.simulator = Simulator(
                host="127.0.0.1",
                port=options.sim_port,
                dialect=options.sim_dialect,
                lines=options.sim_lines,
                every=options.sim_every,
                schedule=options.sim_schedule,
            )
            await self.simulator.start()
            logger.info("simulated Asterisk listening on 127.0.0.1:%d", self.simulator.port)
            if options.on_simulator is not None:
                await sync_to_async(options.on_simulator)(self.simulator.port)
        self.supervisor = Supervisor(poll=options.poll)
        self.task = asyncio.create_task(self._run_supervisor(self.supervisor))

    async def _run_supervisor(self, supervisor: Supervisor) -> None:
        summaries = await supervisor.run()
        for summary in summaries:
            logger.info("worker: %s", summary.line())

    async def stop(self) -> None:
        """Worker first (it logs off the PBX), then the simulator."""
        if self.supervisor is not None:
            self.supervisor.stop()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                async with asyncio.timeout(15):
                    await self.task
        if self.simulator is not None:
            await self.simulator.stop()


def run(options: Options) -> None:
    """Serve until SIGINT/SIGTERM (Twisted's signal handlers stop the reactor)."""
    # Installs Twisted's asyncio reactor on daphne's own loop; must come before any other
    # Twisted import (daphne.server says so at its top).
    from daphne.server import Server
    from twisted.internet import defer
    from twisted.internet import reactor as installed

    # Twisted types the global reactor as a module; it is the asyncio reactor daphne installed.
    reactor: Any = installed

    from ctiproject.asgi import application

    background = Background(options)

    def start_background() -> None:
        task = asyncio.ensure_future(background.start())
        task.add_done_callback(_stop_on_failure)

    def _stop_on_failure(task: asyncio.Future[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            logger.error("cannot start the worker or the simulator", exc_info=task.exception())
            reactor.stop()

    def stop_background() -> defer.Deferred[None]:
        # A "before shutdown" trigger that returns a Deferred makes Twisted wait for it.
        return defer.Deferred.fromFuture(asyncio.ensure_future(background.stop()))

    server = Server(
        application,
        endpoints=[f"tcp:port={options.port}:interface={options.host}"],
        signal_handlers=True,
        ready_callable=options.ready,
        verbosity=options.verbosity,
    )
    reactor.callWhenRunning(start_background)
    reactor.addSystemEventTrigger("before", "shutdown", stop_background)
    server.run()
