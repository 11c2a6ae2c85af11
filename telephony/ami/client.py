"""The long-lived AMI link of one connector: connect, log in, keep alive, reconnect, resync.

Pure asyncio over ``connection.py``; knows nothing of Django, Channels or calls. Ordinary
events reach one consumer through a queue that the read loop never waits on: Asterisk drops
a reader that stalls for its ``writetimeout`` (100 ms by default, see DESIGN).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from datetime import UTC, datetime

from .backoff import Backoff
from .config import AmiConfig
from .connection import AmiConnection, deadline
from .errors import AmiActionFailed, AmiConnectionLost, AmiError, AmiTimeout
from .packets import Action, Event, Field, Response
from .protocol import make_action
from .status import ConnectionStatus

logger = logging.getLogger(__name__)

#: Called after every successful login, first or re-: re-read what was missed while down.
ResyncHook = Callable[[], Awaitable[None]]
#: Called (synchronously) at every change of the link, up or down, with the new status: a
#: drop and a quick reconnect are two changes, which a poll of ``status`` could miss.
LinkHook = Callable[[ConnectionStatus], None]

#: Logging off is a courtesy; a shutting-down worker does not wait long for ``Goodbye``.
LOGOFF_TIMEOUT = 1.0


def _utc(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, tz=UTC)


async def _first_of(*flags: asyncio.Event, seconds: float | None = None) -> None:
    """Return when any flag is set or ``seconds`` have passed, whichever comes first."""
    waiters = [asyncio.ensure_future(flag.wait()) for flag in flags]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


class AmiClient:
    """Keeps one AMI session alive until ``stop()``; sends actions and yields events.

    ``run()`` owns the connection; ``events()`` is read by exactly one consumer;
    ``send_action()`` and ``collect_list()`` may be called from any task while connected.
    """

    def __init__(
        self,
        config: AmiConfig,
        *,
        on_login: ResyncHook | None = None,
        on_link: LinkHook | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._on_login = on_login
        self._on_link = on_link
        self._backoff = Backoff(config.backoff_initial, config.backoff_max, rng=rng)
        self._events: asyncio.Queue[Event | None] = asyncio.Queue()
        self._connection: AmiConnection | None = None
        self._stopping = asyncio.Event()
        self._logged_in = asyncio.Event()
        self._finished = asyncio.Event()
        #: Cleared when the consumer fell behind; set again once it has caught up halfway.
        self._drained = asyncio.Event()
        self._drained.set()
        self._has_run = False
        self._since: float | None = None
        self._last_error: str | None = None
        self._last_event_at: float | None = None
        self._ping_round_trip: float | None = None
        self._stopped_permanently = False

    # -- what the worker reads -------------------------------------------------------------

    @property
    def is_connected(self) -> bool:
        return self._connection is not None and self._connection.is_logged_in

    @property
    def status(self) -> ConnectionStatus:
        """A snapshot of the link for the admin and the panel."""
        return ConnectionStatus(
            connected=self.is_connected,
            since=_utc(self._since),
            last_error=self._last_error,
            last_event_at=_utc(self._last_event_at),
            ping_round_trip=self._ping_round_trip,
            failed_attempts=self._backoff.failures,
            queued_events=self._events.qsize(),
            stopped_permanently=self._stopped_permanently,
        )

    async def events(self) -> AsyncGenerator[Event, None]:
        """Every ordinary event in arrival order; ends after ``run()`` returns or raises."""
        while (event := await self._events.get()) is not None:
            if (
                not self._drained.is_set()
                and self._events.qsize() <= self.config.max_queued_events // 2
            ):
                self._drained.set()
            yield event

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Return once logged in.

        Raises:
            AmiTimeout: not logged in within ``timeout``.
            AmiConnectionLost: the client stopped before logging in.
        """
        await _first_of(self._logged_in, self._finished, seconds=timeout)
        if not self._logged_in.is_set() and not self._finished.is_set():
            raise AmiTimeout(f"not logged in to {self.config.address} in {timeout}s")
        if not self._logged_in.is_set():
            raise AmiConnectionLost(f"AMI client stopped: {self._last_error or 'no login'}")

    # -- actions ---------------------------------------------------------------------------

    async def send_action(
        self,
        action: Action | str,
        fields: Iterable[Field] = (),
        *,
        # Every action has a deadline, by default the config's; a caller may lengthen it
        # (a synchronous Originate rings for up to 30 s) without wrapping each call.
        timeout: float | None = None,
        check: bool = True,
    ) -> Response:
        """Send an action (an ``Action`` or a name plus fields) and return its response.

        Raises:
            AmiActionFailed: the response is an error and ``check`` is true.
            AmiTimeout: no response within ``timeout`` (default ``config.action_timeout``).
            AmiConnectionLost: not connected, or the connection dropped while waiting.
            AmiEncodeError: a field carries CR or LF.
        """
        action = action if isinstance(action, Action) else make_action(action, fields)
        connection = self._current(action)
        seconds = timeout or self.config.action_timeout
        async with deadline(seconds, f"no response to {action.name}"):
            response = await connection.send(action)
        if check and not response.is_success:
            raise AmiActionFailed(action, response)
        return response

    async def collect_list(
        self,
        action: Action | str,
        fields: Iterable[Field] = (),
        *,
        timeout: float | None = None,
    ) -> tuple[Response, list[Event]]:
        """Send a list action (``CoreShowChannels``...) and return its response and items.

        ``timeout`` bounds the whole list, response and closing event alike. Asterisk 11's
        ``Status`` and ``QueueStatus`` say no ``EventList: start`` but are lists all the same.

        Raises:
            AmiActionFailed: the response is an error (no items follow).
            AmiTimeout, AmiConnectionLost: as for ``send_action``.
        """
        action = action if isinstance(action, Action) else make_action(action, fields)
        connection = self._current(action)
        seconds = timeout or self.config.action_timeout
        async with deadline(seconds, f"{action.name} list not complete"):
            return await connection.collect(action)

    def _current(self, action: Action) -> AmiConnection:
        connection = self._connection
        if connection is None or not connection.is_logged_in:
            raise AmiConnectionLost(f"cannot send {action.name}: not connected to AMI")
        return connection

    # -- the connection's life -------------------------------------------------------------

    def stop(self) -> None:
        """Ask ``run()`` to log off and return; safe from a signal handler's callback."""
        self._stopping.set()

    async def run(self) -> None:
        """Stay connected, reconnecting with backoff, until ``stop()``; then log off.

        Raises:
            AmiLoginFailed: Asterisk refused the credentials (permanent: no retry).
        """
        if self._has_run:
            raise RuntimeError("an AmiClient runs once; make a new one")
        self._has_run = True
        self._since = time.time()
        try:
            while not self._stopping.is_set():
                error = await self._session()
                if error is None:
                    return
                self._last_error = str(error)
                self._link_changed()
                if error.permanent:
                    self._stopped_permanently = True
                    logger.error("AMI %s: %s; giving up", self.config.address, error)
                    raise error
                delay = self._backoff.next_delay()
                logger.warning(
                    "AMI %s: %s; reconnecting in %.2fs", self.config.address, error, delay
                )
                await _first_of(self._stopping, seconds=delay)
                if not self._drained.is_set():
                    # Reconnecting before the consumer catches up would only overflow again.
                    logger.warning("AMI %s: waiting for the event consumer", self.config.address)
                    await _first_of(self._stopping, self._drained)
        finally:
            self._finished.set()
            self._events.put_nowait(None)

    async def _session(self) -> AmiError | None:
        """One connection from connect to drop; returns why it ended (``None``: stopped)."""
        try:
            connection = await AmiConnection.open(self.config)
        except AmiError as error:
            return error
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(connection.read_loop(self._deliver))
                outcome = await self._serve(connection, tasks)
                await connection.aclose(outcome or AmiConnectionLost("client stopped"))
        finally:
            connection.close(AmiConnectionLost("client left the session"))
            if self._connection is connection:
                self._connection = None
                self._logged_in.clear()
                self._since = time.time()
        return outcome

    async def _serve(self, connection: AmiConnection, tasks: asyncio.TaskGroup) -> AmiError | None:
        try:
            greeting = await connection.login()
        except AmiError as error:
            return error
        self._connection = connection
        self._since = time.time()
        self._logged_in.set()
        self._link_changed()
        logger.info("logged in to AMI at %s (%s)", self.config.address, greeting.text)
        helpers = [
            tasks.create_task(self._keep_alive(connection)),
            tasks.create_task(self._resync(connection)),
        ]
        stopping = tasks.create_task(self._stopping.wait())
        closed = tasks.create_task(connection.wait_closed())
        await asyncio.wait([stopping, closed], return_when=asyncio.FIRST_COMPLETED)
        for task in [*helpers, stopping, closed]:
            task.cancel()
        if not self._stopping.is_set():
            return await connection.wait_closed()
        await connection.logoff(min(LOGOFF_TIMEOUT, self.config.action_timeout))
        return None

    def _link_changed(self) -> None:
        if self._on_link is not None:
            try:
                self._on_link(self.status)
            except Exception:
                logger.exception("AMI link hook failed on %s", self.config.address)

    def _deliver(self, event: Event) -> None:
        """Hand an event to the consumer; called by the read loop, so it never waits."""
        backlog = self._events.qsize()
        if backlog >= self.config.max_queued_events:
            # Losing events silently would corrupt every call; a fresh session and a
            # resync are what Asterisk itself would force on a reader this far behind.
            self._drained.clear()
            raise AmiConnectionLost(f"event consumer is {backlog} events behind; resyncing")
        self._events.put_nowait(event)
        self._last_event_at = time.time()

    async def _keep_alive(self, connection: AmiConnection) -> None:
        """Ping every ``ping_interval``; a missing Pong means the link is dead."""
        loop = asyncio.get_running_loop()
        while not connection.is_closed:
            await asyncio.sleep(self.config.ping_interval)
            started = loop.time()
            try:
                async with deadline(self.config.ping_timeout, "no Pong"):
                    await connection.send(make_action("Ping"))
            except AmiTimeout as error:
                # A half-open TCP connection (PBX host gone, NAT state dropped) never
                # reports EOF; only an unanswered Ping reveals it.
                lost = AmiConnectionLost(f"no Pong within {self.config.ping_timeout}s")
                lost.__cause__ = error
                connection.close(lost)
                return
            except AmiError:
                return  # the connection is already closed; the session knows why
            self._ping_round_trip = loop.time() - started
            # Only a Pong proves the link healthy: a PBX that accepts the login and drops
            # us straight after must still see exponentially spaced retries.
            self._backoff.reset()

    async def _resync(self, connection: AmiConnection) -> None:
        if self._on_login is None:
            return
        try:
            await self._on_login()
        except Exception as error:
            # Top of a task that must not kill the session's TaskGroup: a failed resync
            # leaves state unknown, so drop the link and resync again after backoff.
            logger.exception("AMI resync hook failed on %s", self.config.address)
            lost = AmiConnectionLost(f"resync after login failed: {error}")
            lost.__cause__ = error
            connection.close(lost)
