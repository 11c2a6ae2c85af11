"""Runs a runner per enabled connector and follows configuration changes by polling.

A connector added, changed (its row or its extensions) or disabled in admin is started,
restarted or stopped within one poll interval; no restart of the process is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer

from ..config import ConnectorConfig
from .database import reconnecting
from .leadership import DatabaseLease, Lease
from .runner import ConnectorRunner, RunSummary

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Running:
    runner: ConnectorRunner
    task: asyncio.Task[RunSummary]


def _load(only: str | None) -> list[ConnectorConfig]:
    """Frozen configs of the enabled connectors: equal configs mean nothing to restart.

    Comparing configs rather than ``updated_at`` means saving a row unchanged in the admin
    does not drop a live AMI session.
    """
    from ..connectors import connector_config
    from ..models import Connector

    rows = Connector.objects.filter(enabled=True).prefetch_related("extensions")
    if only:
        rows = rows.filter(name=only)
    return [connector_config(row) for row in rows]


class Supervisor:
    """All of a worker process's connectors."""

    def __init__(
        self,
        *,
        only: str | None = None,
        poll: float = 5.0,
        lease_ttl: float = 10.0,
        layer: BaseChannelLayer | None = None,
    ) -> None:
        self.only = only
        self.poll = poll
        self.lease_ttl = lease_ttl
        self.layer = layer or get_channel_layer()
        self.stop_event = asyncio.Event()
        self.summaries: list[RunSummary] = []
        self._running: dict[int, _Running] = {}
        #: Connectors whose login was refused, with the settings it was refused with.
        self._refused: dict[int, ConnectorConfig] = {}

    def stop(self) -> None:
        self.stop_event.set()

    def _lease(self, connector_id: int) -> Lease:
        return DatabaseLease(connector_id, ttl=self.lease_ttl)

    async def run(self) -> list[RunSummary]:
        """Until ``stop()``: keep one runner per enabled connector."""
        try:
            while not self.stop_event.is_set():
                try:
                    await self._reconcile(
                        await sync_to_async(reconnecting(lambda: _load(self.only)))()
                    )
                except Exception:
                    logger.exception("cannot load the connectors; retrying")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll):
                        await self.stop_event.wait()
        finally:
            await asyncio.gather(*(self._halt(cid) for cid in list(self._running)))
        return self.summaries

    async def _reconcile(self, loaded: list[ConnectorConfig]) -> None:
        wanted = {config.id: config for config in loaded}
        for connector_id, running in list(self._running.items()):
            config = running.runner.config
            if running.task.done():
                if running.runner.client.status.stopped_permanently:
                    # Asterisk refused the login: retrying with the same settings only
                    # hammers the PBX (and trips fail2ban). Wait for the row to change.
                    self._refused[connector_id] = config
                await self._halt(connector_id)
            elif wanted.get(connector_id) != config:
                logger.info("connector %s changed or was disabled", config.name)
                await self._halt(connector_id)
        for connector_id, config in wanted.items():
            if self._refused.get(connector_id) == config:
                continue
            self._refused.pop(connector_id, None)
            if connector_id not in self._running:
                runner = ConnectorRunner(config, layer=self.layer, lease=self._lease(connector_id))
                task = asyncio.create_task(runner.run(), name=f"connector-{config.name}")
                self._running[connector_id] = _Running(runner, task)

    async def _halt(self, connector_id: int) -> None:
        running = self._running.pop(connector_id)
        running.runner.stop()
        try:
            self.summaries.append(await running.task)
        except Exception:
            logger.exception("connector %s failed", running.runner.config.name)
            self.summaries.append(running.runner.summary)
