"""The wire shape of a PBX link's status: what the worker announces and the panel's hello shows.

Pure, so that the worker (which publishes it) and the web side (which reads it back from the
database for a hello) share one builder without the web side importing the worker.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def status_wire(connected: bool, since: datetime | None, last_error: str | None) -> dict[str, Any]:
    """The ``status`` of a ``connector.status`` message (also in the panel's hello)."""
    return {
        "connected": connected,
        "since": since.isoformat() if since else None,
        "last_error": last_error or None,
    }
