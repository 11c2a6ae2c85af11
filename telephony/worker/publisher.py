"""The one place call events leave the worker for the channel layer (Zulip's ``send_event``).

Called only after the events were saved (``Recorder.write`` returns them), so a panel never
shows a call the history lacks. One message per audience: the line's operator and the
connector's supervisors.
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
    """Send each saved event to its line's group and the supervisors' group."""
    sent = 0
    supervisors = supervisor_group(connector_id)
    for item in batch:
        message = {"type": "call.event", "event": item.wire}
        await layer.group_send(line_group(connector_id, item.line), message)
        await layer.group_send(supervisors, message)
        sent += 1
    return sent


async def publish_status(
    layer: BaseChannelLayer, connector_id: int, status: dict[str, Any]
) -> None:
    """Tell panels that the PBX link went up or down."""
    await layer.group_send(
        status_group(connector_id), {"type": "connector.status", "status": status}
    )
