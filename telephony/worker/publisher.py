"""The one place call events leave the worker for the channel layer (Zulip's ``send_event``).

Called only after the events were saved (``Recorder.write`` returns them), so a panel never
shows a call the history lacks. One message per audience and batch: the line's operator
gets ``call.events`` with that line's events in order, the supervisors get them all. A
single event still travels as a list of one; under a burst, one ``group_send`` carries
hundreds (each is one Redis ``PUBLISH`` on the pub/sub layer, ADR 0002).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
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


async def publish_status(
    layer: BaseChannelLayer, connector_id: int, status: dict[str, Any]
) -> None:
    """Tell panels that the PBX link went up or down."""
    await layer.group_send(
        status_group(connector_id),
        {"type": "connector.status", "connector": connector_id, "status": status},
    )
