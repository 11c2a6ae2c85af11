"""Who may own a connector's AMI session and write its history: a fenced lease (ADR 0003).

The lease is a ``WorkerLease`` row in the database that holds the history, with a TTL and a
fencing token that grows at every takeover. The leader renews it every third of the TTL,
and every history transaction checks the token first (``fence()``): a deposed leader's
write is refused and it stops. Redis plays no part, so a Redis outage never makes a worker
give up the PBX. ``FileLease`` (an ``flock``) remains for tests and benchmarks on one machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import socket
import tempfile
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol, TypeVar

from django.db.models.expressions import CombinedExpression

from .database import reconnecting

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from ..models import WorkerLease

logger = logging.getLogger(__name__)

T = TypeVar("T")


#: Seconds between renewals while the database does not answer.
UNCONFIRMED_RETRY = 0.5


class LeaseLost(Exception):
    """Another worker took the connector over: this one must write nothing more."""


def holder_name() -> str:
    """``host:pid``: shown in admin as the connector's worker host."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lock_file_name(connector_id: int, scope: str = "") -> str:
    """``cti-worker-<scope hash>-<id>.lock``, or ``cti-worker-<id>.lock`` without a scope."""
    if not scope:
        return f"cti-worker-{connector_id}.lock"
    digest = hashlib.sha256(scope.encode()).hexdigest()[:12]
    return f"cti-worker-{digest}-{connector_id}.lock"


class Lease(Protocol):
    """An exclusive, expiring claim on one connector."""

    holder: str
    #: Seconds a dead holder's lease lasts; a standby retries every third of it.
    ttl: float

    async def acquire(self) -> bool:
        """Take the lease if it is free; True when we hold it now."""
        ...

    async def renew(self) -> bool:
        """Extend our lease; False only when another worker holds it now (token gone)."""
        ...

    async def release(self) -> None:
        """Give the lease up at once so a standby need not wait for the TTL."""
        ...

    def fence(self) -> None:
        """Inside a history transaction (database thread): check that we still lead.

        Raises:
            LeaseLost: another worker holds the lease now; roll the transaction back.
        """
        ...


class DatabaseLease:
    """The lease as a ``WorkerLease`` row with an expiry and a fencing token.

    Times are the database's own clock (``Now()``), so workers on hosts whose clocks
    disagree still agree on who leads. Acquiring, renewing and releasing run on a thread of
    the lease's own (one connection), so a renewal never waits behind a history batch;
    ``fence()`` runs in the history writer's thread, inside its transaction.
    """

    def __init__(self, connector_id: int, *, ttl: float = 10.0) -> None:
        self.connector_id = connector_id
        self.ttl = ttl
        self.holder = holder_name()
        #: Unique per lease object: two runners of one process are two holders.
        self._me = f"{self.holder}#{uuid.uuid4().hex[:8]}"
        self.token: int | None = None
        #: False while the last renewal failed for want of the database (not refused).
        self.is_confirmed = True
        self._executor: ThreadPoolExecutor | None = None

    async def _run(self, work: Callable[[], T]) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"lease-{self.connector_id}")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, reconnecting(work))

    def _expiry(self) -> CombinedExpression:
        from django.db.models import DateTimeField, Value
        from django.db.models.functions import Now

        return CombinedExpression(
            Now(), "+", Value(timedelta(seconds=self.ttl)), output_field=DateTimeField()
        )

    def _rows(self) -> QuerySet[WorkerLease]:
        from ..models import WorkerLease

        return WorkerLease.objects.filter(connector_id=self.connector_id)

    async def acquire(self) -> bool:
        try:
            token = await self._run(self._take)
        except Exception:
            logger.exception("cannot take the worker lease of connector %s", self.connector_id)
            return False
        self.token = token
        return token is not None

    def _take(self) -> int | None:
        from django.db import transaction
        from django.db.models import DateTimeField, F, Q, Value
        from django.db.models.functions import Now

        from ..models import WorkerLease

        with transaction.atomic():
            WorkerLease.objects.get_or_create(
                connector_id=self.connector_id,
                defaults={"expires_at": datetime(1970, 1, 1, tzinfo=UTC)},
            )
            # Half a TTL of grace past the expiry: a leader cut off from the database keeps
            # the PBX and renews as soon as it is back (every UNCONFIRMED_RETRY seconds),
            # before any standby may take over. Takeover still within 2 x TTL.
            grace = timedelta(seconds=self.ttl / 2)
            expired = Q(
                expires_at__lt=CombinedExpression(
                    Now(), "-", Value(grace), output_field=DateTimeField()
                )
            )
            free = expired | Q(holder="") | Q(holder=self._me)
            taken = self._rows().filter(free)
            if not taken.update(holder=self._me, token=F("token") + 1, expires_at=self._expiry()):
                row = self._rows().get()
                if not _is_dead(row.holder):
                    return None
                # Its process is gone (a crash on this host, the one-process mode's restart):
                # no need to wait out the TTL. Taken only if nobody was faster.
                logger.info("the lease holder %s is dead; taking over", row.holder)
                taken = self._rows().filter(token=row.token)
                if not taken.update(
                    holder=self._me, token=F("token") + 1, expires_at=self._expiry()
                ):
                    return None
            return int(self._rows().values_list("token", flat=True).get())

    async def renew(self) -> bool:
        try:
            renewed = bool(await self._run(self._extend))
        except Exception as error:
            # The database is unreachable: no standby can take the lease meanwhile either,
            # and fencing refuses our writes if one did. Keep the PBX session (issue #10).
            if self.is_confirmed:
                logger.warning("cannot renew the worker lease (%s); keeping the session", error)
            self.is_confirmed = False
            return True
        self.is_confirmed = True
        return renewed

    def _extend(self) -> int:
        if self.token is None:
            return 0
        return self._rows().filter(token=self.token).update(expires_at=self._expiry())

    def fence(self) -> None:
        # An UPDATE, not a SELECT: it locks the row until our commit (PostgreSQL) or takes
        # the write lock at once (SQLite), so a takeover waits for the batch or the batch
        # sees the new token; never both. It also renews the lease as a side effect.
        if not self._extend():
            raise LeaseLost(
                f"connector {self.connector_id}: lease token {self.token} is no longer current"
            )

    async def release(self) -> None:
        try:
            if self.token is not None:
                token, self.token = self.token, None
                await self._run(
                    lambda: (
                        self._rows()
                        .filter(token=token)
                        .update(holder="", expires_at=datetime(1970, 1, 1, tzinfo=UTC))
                    )
                )
        except Exception:
            logger.exception("cannot release the worker lease of connector %s", self.connector_id)
        finally:
            if self._executor is not None:
                from django.db import connections

                with contextlib.suppress(Exception):
                    await asyncio.get_running_loop().run_in_executor(
                        self._executor, connections.close_all
                    )
                self._executor.shutdown(wait=False)
                self._executor = None


def _is_dead(holder: str) -> bool:
    """True when ``holder`` (``host:pid#id``) was a process of this host that is gone."""
    host, _, rest = holder.rpartition(":")
    pid = rest.split("#", 1)[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


class FileLease:
    """The lease as an ``flock`` on a file: exclusive among processes of one machine.

    ``scope`` names the database the connector id belongs to (its engine, host, port and
    name, say). Connector 1 of one checkout's SQLite file and connector 1 of another's (or of
    the test database) are different connectors, so their lock files must differ too: the
    file name carries a short hash of the scope. Without a scope the name is the old one.
    """

    def __init__(
        self, connector_id: int, *, directory: Path | None = None, scope: str = ""
    ) -> None:
        folder = directory or Path(tempfile.gettempdir())
        self._path = folder / lock_file_name(connector_id, scope)
        self._file: IO[str] | None = None
        self.holder = holder_name()
        self.ttl = 1.0

    async def acquire(self) -> bool:
        if self._file is not None:
            return True
        handle = self._path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    async def renew(self) -> bool:
        return self._file is not None

    def fence(self) -> None:
        # The kernel lock cannot be lost while the process lives: nothing to check.
        return None

    async def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


async def wait_for_lease(lease: Lease, stop: asyncio.Event, *, retry: float) -> bool:
    """Standby until the lease is ours (True) or ``stop`` is set (False)."""
    announced = False
    while not stop.is_set():
        if await lease.acquire():
            return True
        if not announced:
            logger.info("another worker owns this connector; standing by")
            announced = True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(retry):
                await stop.wait()
    return False


async def keep_lease(lease: Lease, *, interval: float) -> None:
    """Renew every ``interval`` seconds; returns as soon as the lease is lost.

    While a renewal cannot be confirmed (database unreachable), retry every
    ``UNCONFIRMED_RETRY`` seconds instead: the moment the database is back the incumbent
    renews, well within the grace a standby gives it (``DatabaseLease``).
    """
    while True:
        confirmed = getattr(lease, "is_confirmed", True)
        await asyncio.sleep(interval if confirmed else min(interval, UNCONFIRMED_RETRY))
        if not await lease.renew():
            logger.error("lost the worker lease; stopping this connector's session")
            return
