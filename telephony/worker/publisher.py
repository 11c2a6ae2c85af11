"""The one place call events leave the worker for the channel layer (Zulip's ``send_event``).

Called only after the events were saved (``Recorder.write`` returns them), so a panel never
shows a call the history lacks. One message per audience and batch: the line's operator
gets ``call.events`` with that line's events in order, the supervisors get them all. A
single event still travels as a list of one; under a burst, one ``group_send`` carries
hundreds (each is one Redis ``PUBLISH`` on the pub/sub layer, ADR 0002).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from channels.layers import BaseChannelLayer

from .. import metrics
from ..groups import line_group, status_group, supervisor_group
from .recorder import Outgoing

logger = logging.getLogger(__name__)

C = TypeVar("C")


async def publish_call_events(
    layer: BaseChannelLayer, connector_id: int, batch: Iterable[Outgoing]
) -> int:
    """Send saved events to their lines' groups and to the supervisors' group, in order."""
    by_line: dict[str, list[dict[str, Any]]] = {}
    everything: list[dict[str, Any]] = []
    for item in batch:
        by_line.setdefault(item.line, []).append(item.wire)
        everything.append(item.wire)
    if not everything:
        return 0
    for line, events in by_line.items():
        await layer.group_send(
            line_group(connector_id, line), {"type": "call.events", "events": events}
        )
    await layer.group_send(
        supervisor_group(connector_id), {"type": "call.events", "events": everything}
    )
    return len(everything)


#: Call events held while the layer (Redis) is down: about 10 minutes of a busy office,
#: a few MB. Past it the oldest are dropped (they are saved; a panel catches up by ``since=``).
MAX_HELD = 100_000


class HeldEvents:
    """Saved events the layer could not take yet, oldest first, bounded by ``limit`` events.

    The publish loop hands every saved batch here and publishes from the front, so events
    reach the panels in save order whether Redis was down for a second or a minute.
    """

    def __init__(self, limit: int = MAX_HELD) -> None:
        self.limit = limit
        self._batches: deque[list[Outgoing]] = deque()
        self._count = 0
        #: Events dropped (oldest first) because the layer stayed down past ``limit``.
        self.dropped = 0

    def __len__(self) -> int:
        """Events held now."""
        return self._count

    def add(self, batch: list[Outgoing]) -> None:
        if not batch:
            return
        self._batches.append(batch)
        self._count += len(batch)
        while self._count > self.limit and len(self._batches) > 1:
            oldest = self._batches.popleft()
            self._count -= len(oldest)
            if not self.dropped:
                logger.error(
                    "the channel layer is still down with %d events held; dropping the oldest "
                    "(they are saved: panels catch up from the history)",
                    self.limit,
                )
            self.dropped += len(oldest)

    def first(self) -> list[Outgoing] | None:
        return self._batches[0] if self._batches else None

    def pop_first(self) -> None:
        self._count -= len(self._batches.popleft())


#: Seconds between publish attempts while the channel layer is down (doubling up to the max).
PUBLISH_RETRY = 0.2
PUBLISH_RETRY_MAX = 2.0
#: "Nothing arrived in time" from the saved-batches queue.
_NOTHING = object()


class HeldPublisher(Generic[C]):
    """Publishes saved batches in save order; while the layer is down, holds them (bounded).

    A Redis outage must not stall the history writer or lose what panels should see: batches
    keep arriving while the held ones are retried every 0.2-2 s, and publishing resumes,
    oldest first, as soon as the layer takes one again. Items of the ``saved`` queue are
    ``(messages, causes)``; ``on_published(causes, count)`` follows every successful flush.
    """

    def __init__(
        self,
        layer: BaseChannelLayer,
        connector_id: int,
        *,
        name: str,
        clock: Callable[[], float],
        on_published: Callable[[list[C], int], None],
        limit: int = MAX_HELD,
    ) -> None:
        self.layer = layer
        self.connector_id = connector_id
        self.name = name
        self.clock = clock
        self.held = HeldEvents(limit)
        self._on_published = on_published
        self._held_since: float | None = None
        self._sent = 0

    async def run(self, saved: asyncio.Queue[tuple[list[Outgoing], list[C]] | None]) -> None:
        """Until ``saved`` yields ``None`` and what is held is out (or the layer is down)."""
        finished = False
        retry = PUBLISH_RETRY
        causes: list[C] = []
        while not finished or len(self.held):
            if not finished:
                item = await _next(saved, retry if len(self.held) else None)
                while isinstance(item, tuple):  # take all that is queued
                    outgoing, more = item
                    self.held.add(outgoing)
                    causes.extend(more)
                    item = saved.get_nowait() if not saved.empty() else _NOTHING
                finished = item is None
            if await self._flush():
                retry = PUBLISH_RETRY
                self._on_published(causes, self._sent)
                causes, self._sent = [], 0
            elif finished:
                logger.error(
                    "%s: stopping with %d events not published (saved; panels catch up)",
                    self.name,
                    len(self.held),
                )
                return
            else:
                retry = min(retry * 2, PUBLISH_RETRY_MAX)
                del causes[: max(0, len(causes) - self.held.limit)]  # a long outage

    async def _flush(self) -> bool:
        """Publish held batches from the oldest; False when the layer refused one."""
        held_since = self._held_since
        while (batch := self.held.first()) is not None:
            try:
                await publish_call_events(self.layer, self.connector_id, batch)
            except Exception as error:
                # Saved already: the panels get it once the layer is back (or by ``since=``).
                metrics.PUBLISH_FAILURES.labels(self.name).inc(len(batch))
                metrics.EVENTS_HELD.labels(self.name).set(len(self.held))
                if self._held_since is None:
                    self._held_since = self.clock()
                    logger.warning(
                        "%s: cannot publish (%s); holding events until the layer is back",
                        self.name,
                        error,
                    )
                return False
            self.held.pop_first()
            self._sent += len(batch)
        metrics.EVENTS_HELD.labels(self.name).set(len(self.held))
        if held_since is not None:
            self._held_since = None
            logger.info(
                "%s: the layer is back; published what was held for %.1fs",
                self.name,
                self.clock() - held_since,
            )
        return True


async def _next(queue: asyncio.Queue[Any], timeout: float | None) -> Any:
    """The next item of ``queue``, or ``_NOTHING`` when none came within ``timeout``."""
    if timeout is None:
        return await queue.get()
    try:
        async with asyncio.timeout(timeout):
            return await queue.get()
    except TimeoutError:
        return _NOTHING


async def publish_status(
    layer: BaseChannelLayer, connector_id: int, status: dict[str, Any]
) -> None:
    """Tell panels that the PBX link went up or down."""
    await layer.group_send(
        status_group(connector_id),
        {"type": "connector.status", "connector": connector_id, "status": status},
    )


async def publish_line_state(
    layer: BaseChannelLayer, connector_id: int, line: str, wire: dict[str, Any]
) -> None:
    """A line's state that is not a call's (its DND) to its panels and the supervisors."""
    message = {"type": "call.events", "events": [wire]}
    await layer.group_send(line_group(connector_id, line), message)
    await layer.group_send(supervisor_group(connector_id), message)


async def publish_queues(
    layer: BaseChannelLayer, connector_id: int, queues: dict[str, Any]
) -> None:
    """The queue board (waiting callers, members and their pauses) to the supervisors."""
    await layer.group_send(supervisor_group(connector_id), {"type": "queue.state", **queues})
