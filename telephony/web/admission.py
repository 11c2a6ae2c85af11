"""Admission of panel and TMS sockets: where their database work runs, how many may wait for
it, and how many sockets one user may hold (both kinds count against one cap).

A connect storm (every panel reconnecting after a restart) must not queue behind channels'
one database thread (``database_sync_to_async`` is thread-sensitive: every call of a process
runs on a single thread, commands included) nor outlast daphne's 5 s handshake timeout. So a
socket is accepted before any database work, and that work (session, user, audience, hello)
runs on a pool of its own (``CTI_HELLO_THREADS``, default 1), with at most
``CTI_HELLO_CONCURRENCY`` sockets between their accept and their hello at once (so the pool
always has the next query queued while a socket joins its groups). When more than
``CTI_MAX_WAITING_HELLOS`` sockets already wait for a turn, a new one is refused with 4503
("come back later") at once, and the panel comes back after a longer random wait, instead of
every socket (and every other user's hello) waiting longer and longer.

State is per process and per event loop (one loop per daphne process; tests run several).

One thread by default, because of the GIL: on two cores, four threads running the ORM took
the interpreter from the event loop so often that the loop (handshakes, fan-out, commands)
slowed down more than the openings sped up (``bench/storm.py``: hello p50 22 s with four,
10 s with one, for 1,000 sockets on a loaded machine). More threads pay off when PostgreSQL
is remote and its round trips, not Python, are the cost.

Shedding is a last resort (default 2,000 waiting per process): a waiting socket costs the
process nothing but memory, while each 4503 costs a handshake now and another on the retry.
With 200, 2,500 sockets on two processes were shed 19,000 times and took 88 s to come back
after a restart; with 2,000, none was shed and all were back in 32 s (commands p99 1.9 s and
1.0 s). The price is that another user's hello waits its turn behind the storm.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from django.conf import settings
from django.db import close_old_connections

#: The server is busy: come back later. RFC 6455's 1013 "Try Again Later" says the same, but
#: daphne's autobahn lets an application send only 1000 and 3000-4999; 4503 as in HTTP 503.
CLOSE_TRY_LATER = 4503
#: The client did not read what was sent to it; it may reconnect with ``since``.
CLOSE_TOO_SLOW = 4408
#: The user opened more than ``CTI_MAX_SOCKETS_PER_USER`` sockets; this, the oldest, was closed.
CLOSE_REPLACED = 4409

_Result = TypeVar("_Result")
_executor: ThreadPoolExecutor | None = None


def setting(name: str, default: int) -> int:
    """A Django setting, else the environment variable of that name, else ``default``."""
    value = getattr(settings, name, None)
    if value is None:
        return int(os.environ.get(name, str(default)))
    return int(value)


def hello_executor() -> ThreadPoolExecutor:
    """The threads that run sockets' opening queries (each keeps its own connection while
    ``DATABASE_CONN_MAX_AGE`` allows)."""
    global _executor  # noqa: PLW0603 - one pool per process, made on first use
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=setting("CTI_HELLO_THREADS", 1), thread_name_prefix="cti-hello"
        )
    return _executor


async def off_loop(func: Callable[..., _Result], *args: Any) -> _Result:
    """``func(*args)`` on the hello pool: never on the event loop, never on channels' shared
    database thread (where commands are routed).

    Plain ``run_in_executor``, not ``sync_to_async``: the call does not carry the socket's
    context into the thread, so each pool thread keeps its own database connection (Django's
    connections follow the context in ``sync_to_async``, which would hand one connection
    from thread to thread and keep it open past ``CONN_MAX_AGE``)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(hello_executor(), _in_pool, func, args)


def _in_pool(func: Callable[..., _Result], args: tuple[Any, ...]) -> _Result:
    close_old_connections()
    try:
        return func(*args)
    finally:
        close_old_connections()


class Admitted(Protocol):
    """A socket the gate counts: told to step aside when its user opened one too many."""

    async def replaced(self) -> None:
        """Over the cap and the oldest: the panel closes with ``CLOSE_REPLACED``; a TMS
        socket says DISCONNECTED without reconnecting (docs/tms-compatibility.md)."""


class Busy(Exception):
    """Too many sockets wait for their hello: refuse this one with ``CLOSE_TRY_LATER``."""


class Gate:
    """One event loop's sockets: the opening-query slots, who waits for one, and each
    user's open sockets, oldest first."""

    def __init__(self, slots: int) -> None:
        self.slots = asyncio.Semaphore(slots)
        self.waiting = 0
        self.sockets: dict[int, OrderedDict[Admitted, None]] = {}

    @contextlib.asynccontextmanager
    async def turn(self, *, shed: bool = True) -> AsyncIterator[None]:
        """Wait for one of the opening slots; raises ``Busy`` at once when too many wait
        already (unless ``shed`` is false: work the server itself started, such as every
        TMS socket's snapshot when the PBX link is back, queues instead). Run the queries
        inside with ``off_loop``."""
        if shed and self.waiting >= setting("CTI_MAX_WAITING_HELLOS", 2000):
            raise Busy
        self.waiting += 1
        try:
            await self.slots.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self.slots.release()

    def register(self, user_id: int, socket: Admitted) -> list[Admitted]:
        """Count ``socket`` as the user's newest; returns the oldest ones over the cap."""
        own = self.sockets.setdefault(user_id, OrderedDict())
        own[socket] = None
        cap = setting("CTI_MAX_SOCKETS_PER_USER", 10)
        evicted = []
        while cap > 0 and len(own) > cap:
            oldest, _ = own.popitem(last=False)
            evicted.append(oldest)
        return evicted

    def unregister(self, user_id: int, socket: Admitted) -> None:
        own = self.sockets.get(user_id)
        if own is not None:
            own.pop(socket, None)
            if not own:
                del self.sockets[user_id]

    def open_sockets(self) -> int:
        return sum(len(own) for own in self.sockets.values())


_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Gate] = weakref.WeakKeyDictionary()


def gate() -> Gate:
    """The running loop's gate."""
    loop = asyncio.get_running_loop()
    found = _gates.get(loop)
    if found is None:
        found = _gates[loop] = Gate(setting("CTI_HELLO_CONCURRENCY", 4))
    return found
