"""Who may own a connector's AMI session: a lease with a TTL, renewed while healthy.

With Redis the lease is a key set with ``NX PX`` and renewed or released only by the token
that holds it (the Redis docs' single-instance lock pattern); a standby retries until the key
expires, so a SIGKILLed leader is replaced within twice the TTL. Without Redis (one-process
mode) the lease is an ``flock`` on a file, which the kernel drops when its process dies.
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
from pathlib import Path
from typing import IO, Protocol

import redis.asyncio as aioredis

logger = logging.getLogger(__name__)

# Renew or release only if the key still holds our token: never another worker's lease.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


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
        """Extend our lease; False when it was lost (expired and taken, or Redis gone)."""
        ...

    async def release(self) -> None:
        """Give the lease up at once so a standby need not wait for the TTL."""
        ...


class RedisLease:
    """The lease as a Redis key with a TTL."""

    def __init__(self, client: aioredis.Redis, connector_id: int, *, ttl: float = 10.0) -> None:
        self._redis = client
        self._key = f"cti:worker-lease:{connector_id}"
        self._ttl_ms = int(ttl * 1000)
        self.holder = holder_name()
        self._token = f"{self.holder}:{uuid.uuid4().hex}"
        self.ttl = ttl

    async def acquire(self) -> bool:
        return bool(await self._redis.set(self._key, self._token, nx=True, px=self._ttl_ms))

    async def renew(self) -> bool:
        try:
            return bool(await self._redis.eval(_RENEW, 1, self._key, self._token, self._ttl_ms))
        except (OSError, aioredis.RedisError) as error:
            logger.warning("cannot renew the worker lease %s: %s", self._key, error)
            return False

    async def release(self) -> None:
        with contextlib.suppress(OSError, aioredis.RedisError):
            await self._redis.eval(_RELEASE, 1, self._key, self._token)

    async def current_holder(self) -> str | None:
        """The token of whoever holds the lease now (for status and tests)."""
        value = await self._redis.get(self._key)
        return value.decode() if isinstance(value, bytes) else value


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
    """Renew every ``interval`` seconds; returns as soon as the lease is lost."""
    while True:
        await asyncio.sleep(interval)
        if not await lease.renew():
            logger.error("lost the worker lease; stopping this connector's session")
            return
