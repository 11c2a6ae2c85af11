"""The lines' and queues' state that lives on the PBX, not in calls: DND and the queue board.

DND is the AstDB key ``DND/<line>`` (docs/dnd.md). After every login, and every
``DND_POLL`` seconds, the worker asks Asterisk for each line's key (``DBGet``): an error
("Database entry not found") means off, a ``DBGetResponse`` event (12+ inside an event list
ending with ``DBGetComplete``, 11 alone) carries the value. A ``SetDnd`` the PBX accepted
counts too. Each change is stored (``LineDnd``) and announced as a ``LineStateChanged`` with
``dnd`` to the line's group and the supervisors'.

The queue board (``callmodel.queueboard``) is rebuilt by a ``QueueStatus`` after every login and
kept by the queue events; each change goes to the supervisors' group as ``queue.state`` and
into the cache, where ``/supervisor/queues.json`` reads it for a page that opens later.

``observe`` runs on the read loop and never waits; ``serve`` does the writing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from channels.layers import BaseChannelLayer
from django.core.cache import cache
from django.db import transaction

from ..ami import AmiClient, AmiError, Event, make_action
from ..callmodel.queueboard import QueueBoard
from ..config import ConnectorConfig
from ..groups import queues_cache_key
from ..models import LineDnd
from .publisher import publish_line_state, publish_queues

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: The AstDB family of the DND keys (the dialplan in docs/dnd.md reads the same).
DND_FAMILY = "DND"
DND_ON = "YES"
#: Seconds between two readings of the DND keys while connected (a phone's feature code
#: writes the key without telling AMI).
DND_POLL = 60.0
#: Seconds before announcing again after the database or the layer failed (doubling).
RETRY = 0.5
RETRY_MAX = 5.0
#: DBGet actions in flight at once.
_PARALLEL = 20
#: How long the queue board stays in the cache without a change (a dead worker's is stale).
CACHE_SECONDS = 24 * 3600


class PbxState:
    """DND per line and the queue board of one connector."""

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        layer: BaseChannelLayer,
        in_db: Callable[[Callable[[], Any]], Awaitable[Any]],
        line_state: Callable[[str], dict[str, Any]],
        clock: Callable[[], float],
    ) -> None:
        self.config = config
        self.layer = layer
        self.in_db = in_db
        self.line_state = line_state
        self.clock = clock
        self.board = QueueBoard()
        #: What the worker last stored per line (loaded from ``LineDnd`` at the first login).
        self.dnd: dict[str, bool] = {}
        self._loaded = False
        #: Set once the first login's readings were sent (tests and the demo wait on it).
        self.read_once = asyncio.Event()
        self._dnd_changes: dict[str, bool] = {}
        self._queues_changed = False
        self._wake = asyncio.Event()

    # -- reading (read loop and login hook) -----------------------------------------------

    async def on_login(self, client: AmiClient) -> None:
        """Ask for the queue list and every line's DND key (after every login)."""
        if not self._loaded:
            # What the history already says: only a difference is written and announced.
            stored = await self.in_db(lambda: _stored_dnd(self.config.id))
            self.dnd = {line: line in stored for line in self.config.lines}
            self._loaded = True
        action = make_action("QueueStatus")
        self.board.expect_listing(action.action_id or "")
        response = await client.send_action(action, check=False)
        if not response.is_success:
            logger.warning("%s: no queue status (%s)", self.config.name, response.message)
        await self.read_dnd(client)
        self.read_once.set()

    async def read_dnd(self, client: AmiClient) -> None:
        lines = sorted(self.config.lines)
        for start in range(0, len(lines), _PARALLEL):
            chunk = lines[start : start + _PARALLEL]
            await asyncio.gather(*(self._read_key(client, line) for line in chunk))

    async def _read_key(self, client: AmiClient, line: str) -> None:
        action = make_action("DBGet", [("Family", DND_FAMILY), ("Key", line)])
        response = await client.send_action(action, check=False)
        if not response.is_success:
            # "Database entry not found": no key, no DND. The value of a found key comes
            # as a DBGetResponse event, read in ``observe``.
            self.dnd_seen(line, False)

    def observe(self, event: Event, now: float) -> None:
        """An AMI event from the read loop: a DBGetResponse or a queue event. Never waits."""
        if event.name == "DBGetResponse":
            line = event.get("Key") or ""
            if event.get("Family") == DND_FAMILY and line in self.config.lines:
                self.dnd_seen(line, (event.get("Val") or "").strip().upper() == DND_ON)
        elif self.board.apply(event, now):
            self._queues_changed = True
            self._wake.set()

    def dnd_seen(self, line: str, enabled: bool) -> None:
        """The PBX says ``line`` has DND ``enabled`` (read back, or a SetDnd it accepted)."""
        if self.dnd.get(line) == enabled and line not in self._dnd_changes:
            return
        self._dnd_changes[line] = enabled
        self._wake.set()

    # -- writing --------------------------------------------------------------------------

    async def serve(self, client: AmiClient) -> None:
        """Store and announce changes; re-read the DND keys every ``DND_POLL`` seconds."""
        poller = asyncio.create_task(self._poll(client), name="dnd-poll")
        delay = RETRY
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                try:
                    await self._flush()
                    delay = RETRY
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # The database or Redis is down: what is pending stays pending.
                    if delay == RETRY:
                        logger.exception(
                            "%s: cannot announce line or queue state", self.config.name
                        )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX)
                    self._wake.set()
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller

    async def _poll(self, client: AmiClient) -> None:
        while True:
            await asyncio.sleep(DND_POLL)
            if client.is_connected:
                with contextlib.suppress(AmiError):
                    await self.read_dnd(client)

    async def _flush(self) -> None:
        changes = dict(self._dnd_changes)
        if changes:
            await self.in_db(lambda: _store_dnd(self.config.id, changes))
            for line, enabled in changes.items():
                wire = {**self.line_state(line), "dnd": enabled}
                await publish_line_state(self.layer, self.config.id, line, wire)
                self.dnd[line] = enabled
                if self._dnd_changes.get(line) == enabled:
                    del self._dnd_changes[line]
        if self._queues_changed:
            self._queues_changed = False
            queues = {"connector": self.config.id, "at": self.clock(), "queues": self._wire()}
            try:
                # Not on the database thread: the history writer must never wait for the cache.
                await asyncio.to_thread(_cache_queues, self.config.id, queues)
                await publish_queues(self.layer, self.config.id, queues)
            except Exception:
                self._queues_changed = True
                raise

    def _wire(self) -> list[dict[str, Any]]:
        """The board, each member with its line (``None`` for a device that is not one)."""
        lines = {self.config.device_for(line).lower(): line for line in self.config.lines}
        queues = self.board.wire()
        for queue in queues:
            for member in queue["members"]:
                member["line"] = lines.get(member["interface"].lower())
        return queues


def _store_dnd(connector_id: int, changes: dict[str, bool]) -> None:
    with transaction.atomic():
        for line, enabled in changes.items():
            LineDnd.objects.update_or_create(
                connector_id=connector_id, line=line, defaults={"enabled": enabled}
            )


def _stored_dnd(connector_id: int) -> set[str]:
    rows = LineDnd.objects.filter(connector_id=connector_id, enabled=True)
    return set(rows.values_list("line", flat=True))


def _cache_queues(connector_id: int, queues: dict[str, Any]) -> None:
    cache.set(queues_cache_key(connector_id), queues, CACHE_SECONDS)
