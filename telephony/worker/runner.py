"""One connector's worker: AMI in, call model, history, channel layer out, commands back.

Reading never waits on the database or the layer: the read loop only parses and applies
the call model, then queues the call events; a writer task saves them in batches (one
transaction each) and publishes what was saved. Asterisk drops a reader that stalls for
its ``writetimeout`` (DESIGN), so nothing slow may sit between the socket and the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Set
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from channels.layers import BaseChannelLayer

from .. import metrics
from ..ami import AmiClient, AmiError, Event, make_action
from ..callmodel.events import LineEvent
from ..callmodel.lines import LineMatcher
from ..callmodel.model import CallModel
from ..callmodel.records import FinishedCall
from ..callmodel.tracker import CallTracker
from ..config import ConnectorConfig
from .commands import CommandRunner
from .database import reconnecting
from .leadership import Lease, LeaseLost, keep_lease, wait_for_lease
from .pbxstate import PbxState
from .publisher import HeldEvents, HeldPublisher, publish_status
from .recorder import Outgoing, Recorder
from .status import StatusWriter

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Call events saved per transaction at most; a burst of 200 calls fills a few batches.
MAX_BATCH = 500
#: Latency samples kept for the benchmark and the status page.
LATENCY_SAMPLES = 100_000


@dataclass(slots=True)
class Batch:
    """Call events caused by AMI events, with the time the first of those arrived.

    ``live`` marks a resync point: the ``(call_id, line)`` the PBX had at that point of the
    stream; open history records not among them are finished once everything before the
    point is saved.
    """

    events: list[LineEvent]
    records: list[FinishedCall]
    received_at: float
    live: set[tuple[str, str]] | None = None
    #: ``id()`` of the events whose times are estimates (they fell in a gap; see docs).
    estimated: Set[int] = frozenset()


@dataclass(slots=True)
class RunSummary:
    """What a connector's run did, for the command's one-line summary."""

    connector: str
    ami_events: int = 0
    call_events: int = 0
    commands: int = 0
    was_leader: bool = False
    publish_delays: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_SAMPLES))

    def line(self) -> str:
        role = "leader" if self.was_leader else "standby"
        return (
            f"{self.connector}: {role}, {self.ami_events} AMI events, "
            f"{self.call_events} call events, {self.commands} commands"
        )


class ConnectorRunner:
    """Owns one connector's AMI session while it holds the lease."""

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        layer: BaseChannelLayer,
        lease: Lease,
        executor: ThreadPoolExecutor | None = None,
        lease_interval: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.layer = layer
        self.lease = lease
        self.clock = clock
        self.summary = RunSummary(config.name)
        self.stop_event = asyncio.Event()
        self._own_executor = executor is None
        self._executor = executor or ThreadPoolExecutor(1, thread_name_prefix=f"db-{config.id}")
        self._lease_interval = lease_interval
        devices = {device: line for line, device in config.lines.items() if device}
        lines = LineMatcher(config.lines.keys(), devices) if config.lines else LineMatcher()
        # The same pipeline as ``ami_replay``: what it prints for a capture, this publishes.
        self.model = CallModel(lines, dialect=config.dialect, connector=str(config.id))
        self.recorder = Recorder(config.id, fence=lease.fence)
        self.status = StatusWriter(
            config,
            link=lambda: self.client.status,
            publish=self.publish_status,
            in_db=self.in_db,
        )
        self.client = AmiClient(config.ami, on_login=self._resync, on_link=self.status.note)
        #: DND per line and the queue board: PBX state that is not a call's.
        self.pbx_state = PbxState(
            config, layer=layer, in_db=self.in_db, line_state=self._line_wire, clock=clock
        )
        self.commands = CommandRunner(
            config,
            layer=layer,
            client=self.client,
            calls=lambda: self.model.tracker,
            on_command=self._command_counted,
            on_dnd=self.pbx_state.dnd_seen,
        )
        self._queue: asyncio.Queue[Batch | None] = asyncio.Queue()
        self._read_meter = metrics.AmiReadMeter(config.name)
        #: Publishes what was saved; holds it while the channel layer (Redis) is down.
        self.publisher = HeldPublisher(
            layer, config.id, name=config.name, clock=clock, on_published=self._published
        )
        #: Set when a history write found another worker's lease token: we write no more.
        self.deposed = False

    def _command_counted(self) -> None:
        self.summary.commands += 1

    @property
    def tracker(self) -> CallTracker:
        """The model's live calls, for commands that act on them."""
        return self.model.tracker

    # -- lifecycle -------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the runner to log off, finish its writes and return."""
        self.stop_event.set()

    async def run(self) -> RunSummary:
        """Stand by for the lease, then serve until stopped or the lease is lost."""
        retry = max(0.2, self.lease.ttl / 3)
        try:
            if not await wait_for_lease(self.lease, self.stop_event, retry=retry):
                return self.summary
            self.summary.was_leader = True
            metrics.LEASE_HELD.labels(self.config.name).set(1)
            logger.info("%s: leading connector %s", self.lease.holder, self.config.name)
            await self._serve(self._lease_interval or retry)
        finally:
            metrics.LEASE_HELD.labels(self.config.name).set(0)
            await self.lease.release()
            if self._own_executor:
                await self.in_db(_close_connections)
                self._executor.shutdown(wait=True)
        return self.summary

    async def _serve(self, lease_interval: float) -> None:
        reader = asyncio.create_task(self._read_loop(), name="ami-read")
        writer = asyncio.create_task(self._write_loop(), name="history-write")
        client = asyncio.create_task(self.client.run(), name="ami-client")
        helpers = [
            asyncio.create_task(self.commands.serve(), name="commands"),
            asyncio.create_task(self.status.serve(), name="status"),
            asyncio.create_task(self.pbx_state.serve(self.client), name="pbx-state"),
        ]
        lease = asyncio.create_task(keep_lease(self.lease, interval=lease_interval))
        stop = asyncio.create_task(self.stop_event.wait())
        try:
            done, _ = await asyncio.wait({client, lease, stop}, return_when=asyncio.FIRST_COMPLETED)
            if lease in done:
                self.deposed = True  # another worker holds the lease: write nothing more
            if client in done and client.exception() is not None:
                logger.error("%s: AMI client stopped: %s", self.config.name, client.exception())
        finally:
            # Log off first, then let the reader take what is left and the writer save it.
            self.client.stop()
            with contextlib.suppress(AmiError, asyncio.CancelledError):
                await client
            await reader
            await writer
            await self.commands.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(helpers[0]), 1.0)
            for task in [*helpers, lease, stop]:
                task.cancel()
            # Bounded: a helper stuck in a third-party cleanup must not keep the lease held.
            _, stuck = await asyncio.wait([*helpers, lease, stop], timeout=3.0)
            for task in stuck:
                logger.warning("%s: %s did not stop in time", self.config.name, task.get_name())
            if not self.deposed:
                # A deposed worker's "stopped" would overwrite the new leader's status.
                await self.status.write_final()

    # -- reading ---------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            async for event in self.client.events():
                self._consume(event)
        finally:
            self._push(self.model.finish(), [], self.clock())
            self._queue.put_nowait(None)

    def _consume(self, event: Event) -> None:
        now = self.clock()
        self.summary.ami_events += 1
        self._read_meter.read(event.timestamp, now)
        if event.name == "OriginateResponse":
            self.commands.originate_finished(event)
        self.pbx_state.observe(event, now)
        out = self.model.feed(event, now)
        if out.failure is not None:
            # One event the model cannot digest must not stop the connector; log its bytes.
            logger.error(
                "%s: call model failed on %r",
                self.config.name,
                event.text,
                exc_info=out.failure,
            )
        self._push(out.records, out.events, now, out.estimated)
        if out.live is not None:
            # The model now matches the PBX at this point of the stream: records the history
            # still shows live but the PBX no longer has ended while we were away.
            self._queue.put_nowait(Batch([], [], now, live=out.live))
            logger.info("%s: resynced; %d calls live", self.config.name, len(out.live))
            metrics.RESYNCS.labels(self.config.name).inc()

    def _push(
        self,
        records: list[FinishedCall],
        events: list[LineEvent],
        now: float,
        estimated: set[int] | None = None,
    ) -> None:
        if events or records:
            self._queue.put_nowait(Batch(events, records, now, estimated=estimated or frozenset()))

    async def _resync(self) -> None:
        """After every login: ask for the PBX's channel list.

        Its items come back through the event stream, in order with every other event
        (nothing registers a collector for them), so the reader applies the list exactly
        where Asterisk produced it: older events before, newer ones after.
        """
        metrics.ami_logged_in(self.config.name)
        action = make_action("CoreShowChannels")
        self.model.expect_listing(action.action_id or "")
        response = await self.client.send_action(action, check=False)
        if not response.is_success:
            # An AMI user without the "reporting" read class: go on without a rebuild
            # rather than reconnect forever; calls that vanished are swept later.
            self.model.drop_listing(action.action_id or "")
            logger.warning(
                "%s: cannot list channels (%s); no resync", self.config.name, response.message
            )
        await self.pbx_state.on_login(self.client)

    # -- writing ---------------------------------------------------------------------------

    async def _write_loop(self) -> None:
        """Save batches in order; a second task publishes each saved batch in order.

        Publishing batch N overlaps with saving batch N+1: both are round trips to other
        servers, and a burst's latency is their sum otherwise.
        """
        saved: asyncio.Queue[tuple[list[Outgoing], list[Batch]] | None] = asyncio.Queue()
        publisher = asyncio.create_task(self.publisher.run(saved), name="publish")
        finished = False
        try:
            while not finished:
                first = await self._queue.get()
                batches = [] if first is None else [first]
                finished = first is None
                # A resync point ends the group: what follows it is newer than its list.
                while (
                    not finished
                    and batches[-1].live is None
                    and len(batches) < MAX_BATCH
                    and not self._queue.empty()
                ):
                    item = self._queue.get_nowait()
                    if item is None:
                        finished = True
                    else:
                        batches.append(item)
                if batches:
                    saved.put_nowait((await self._save(batches), batches))
        finally:
            saved.put_nowait(None)
            await publisher

    async def _save(self, batches: list[Batch]) -> list[Outgoing]:
        if self.deposed:
            return []  # the new leader resyncs from the PBX and records these calls
        events = [event for batch in batches for event in batch.events]
        records = [record for batch in batches for record in batch.records]
        live = batches[-1].live
        try:
            estimated = frozenset().union(*(batch.estimated for batch in batches))
            with metrics.HISTORY_WRITE.labels(self.config.name).time():
                outgoing = await self._retrying(
                    lambda: self.recorder.write(events, records, estimated=estimated)
                )
            if live is not None:
                outgoing += await self._retrying(lambda: self.recorder.finish_vanished(live))
        except LeaseLost as error:
            # Fencing (ADR 0003): another worker leads now. Write nothing more, log off.
            logger.error("%s: %s; stopping this worker's session", self.config.name, error)
            self.deposed = True
            self.stop()
            return []
        # Then each touched line's CallFeaturesSet as it stands now (derived, not stored).
        for line in dict.fromkeys(item.line for item in outgoing if item.wire.get("call_id")):
            state = self.model.line_state(line, self.recorder.last_seq(line))
            outgoing.append(Outgoing(line, state.to_wire()))
        return outgoing

    def _line_wire(self, line: str) -> dict[str, Any]:
        return self.model.line_state(line, self.recorder.last_seq(line)).to_wire()

    def _published(self, causes: list[Batch], events: int) -> None:
        """Count what reached the layer, and how long after its AMI events arrived."""
        published = self.clock()
        self.summary.call_events += events
        for batch in causes:
            if batch.events:
                self.summary.publish_delays.append(published - batch.received_at)
                metrics.PUBLISH_DELAY.labels(self.config.name).observe(
                    published - batch.received_at
                )

    @property
    def held(self) -> HeldEvents:
        """Saved events the layer has not taken yet (for metrics and tests)."""
        return self.publisher.held

    async def _retrying(self, work: Callable[[], T]) -> T:
        """Run ORM work on the database thread; retry until it succeeds (nothing is lost)."""
        delay = 0.2
        loop = asyncio.get_running_loop()
        while True:
            try:
                return await loop.run_in_executor(self._executor, _in_db_thread(work))
            except LeaseLost:
                raise
            except Exception:
                logger.exception(
                    "%s: history write failed; retrying in %.1fs", self.config.name, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def in_db(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the database thread once (status writes, lookups)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _in_db_thread(work))

    async def publish_status(self, status: dict[str, Any]) -> None:
        await publish_status(self.layer, self.config.id, status)


def _close_connections() -> None:
    from django.db import connections

    connections.close_all()


def _in_db_thread(work: Callable[[], T]) -> Callable[[], T]:
    """Run ORM work on the worker's database thread, keeping its connection between batches.

    Not ``close_old_connections()``: with ``CONN_MAX_AGE = 0`` that closes the connection
    after every batch, and a new PostgreSQL connection per batch showed up in the worker's
    profile. The connection is dropped only after a failure, and a dropped connection is
    replaced at once (``reconnecting``), so a database blip costs one retry, not a batch.
    """
    return reconnecting(work)
