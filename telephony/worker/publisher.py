"""The one place call events leave the worker for the channel layer (Zulip's ``send_event``).

Called only after the events were saved (``Recorder.write`` returns them), so a panel never
shows a call the history lacks. One message per audience and batch: the line's operator
gets ``call.events`` with that line's events in order, the supervisors get them all. A
single event still travels as a list of one; under a burst, one ``group_send`` carries
hundreds (each is one Redis ``PUBLISH`` on the pub/sub layer, ADR 0002).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from channels.layers import BaseChannelLayer

from ..groups import line_group, status_group, supervisor_group
from .recorder import Outgoing

logger = logging.getLogger(__name__)


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


def status_wire(connected: bool, since: datetime | None, last_error: str | None) -> dict[str, Any]:
    """The ``status`` of a ``connector.status`` message (also in the panel's hello)."""
    return {
        "connected": connected,
        "since": since.isoformat() if since else None,
        "last_error": last_error or None,
    }


async def publish_status(
    layer: BaseChannelLayer, connector_id: int, status: dict[str, Any]
) -> None:
    """Tell panels that the PBX link went up or down."""
    await layer.group_send(
        status_group(connector_id),
        {"type": "connector.status", "connector": connector_id, "status": status},
    )
