"""The connector's live status: written to ``ConnectorStatus`` and announced to panels.

The AMI client reports every change of the link (``note``), so a drop followed by a quick
reconnect is announced as down, then up; besides, the status is polled once a second and the
row written on change and every ``HEARTBEAT`` seconds, so admins see the last event time move.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..config import ConnectorConfig
from ..linkstatus import status_wire
from .leadership import holder_name

if TYPE_CHECKING:
    from ..ami.status import ConnectionStatus

logger = logging.getLogger(__name__)

POLL = 1.0
HEARTBEAT = 10.0
#: Link changes kept while they cannot be announced; older ones are superseded anyway.
MAX_CHANGES = 20


class StatusWriter:
    """Keeps ``ConnectorStatus`` and the panels' PBX indicator true.

    Its collaborators are passed in, not the runner: the link's status as it stands now,
    a way to announce a status to the panels, and the worker's database thread.
    """

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        link: Callable[[], ConnectionStatus],
        publish: Callable[[dict[str, Any]], Awaitable[None]],
        in_db: Callable[[Callable[[], None]], Awaitable[None]],
    ) -> None:
        self.config = config
        self._link = link
        self._publish = publish
        self._in_db = in_db
        self._last: tuple[bool, str | None] | None = None
        self._written_at = 0.0
        #: Link changes reported by the AMI client, announced in order.
        self._changes: list[ConnectionStatus] = []
        self._noted = asyncio.Event()

    def note(self, status: ConnectionStatus) -> None:
        """The AMI client's link went up or down (called from its task; never waits)."""
        self._changes.append(status)
        del self._changes[:-MAX_CHANGES]  # a flapping link while the database is down
        self._noted.set()

    async def serve(self) -> None:
        while True:
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The database or Redis hiccupped: try again next poll, with a full write.
                self._last = None
                logger.exception("%s: cannot record the status", self.config.name)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL):
                    await self._noted.wait()
            self._noted.clear()

    async def check(self) -> None:
        changes, self._changes = self._changes, []
        for change in changes:
            await self._announce(change)
        await self._announce(self._link())

    async def _announce(self, status: ConnectionStatus) -> None:
        key = (status.connected, status.last_error)
        now = asyncio.get_running_loop().time()
        changed = key != self._last
        if changed or now - self._written_at >= HEARTBEAT:
            await self._write(
                status.connected, status.since, status.last_event_at, status.last_error
            )
            self._written_at = now
        if changed:
            self._last = key
            await self._publish(status_wire(status.connected, status.since, status.last_error))

    async def write_final(self) -> None:
        """On shutdown: the connector is no longer connected through this worker."""
        try:
            # Keep the reason the PBX link failed (a refused login) rather than hide it.
            reason = self._link().last_error or "worker stopped"
            await self._write(False, datetime.now(tz=UTC), None, reason)
            await self._publish(status_wire(False, None, reason))
        except Exception:
            logger.exception("cannot record the final status")

    async def _write(
        self,
        connected: bool,
        since: datetime | None,
        last_event_at: datetime | None,
        last_error: str | None,
    ) -> None:
        from ..models import ConnectorStatus

        connector_id = self.config.id
        values: dict[str, Any] = {
            "connected": connected,
            "since": since,
            "last_error": last_error or "",
            "worker_host": holder_name(),
        }
        if last_event_at is not None:
            values["last_event_at"] = last_event_at

        def write() -> None:
            ConnectorStatus.objects.update_or_create(connector_id=connector_id, defaults=values)

        await self._in_db(write)
