"""One TCP session with Asterisk's manager: greeting, login, ActionID matching, event lists.

Owns a single socket and what is in flight on it. Reconnecting, pinging and handing events
to a consumer belong to ``client.py``. Foreign exceptions (``OSError``, timeouts) become
``AmiError`` here, raised ``from`` the original.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Callable

from .config import AmiConfig
from .errors import AmiActionFailed, AmiConnectionLost, AmiError, AmiLoginFailed, AmiTimeout
from .packets import Action, Event, Greeting, MalformedPacket, Packet, Response
from .protocol import AmiParser, encode_action, make_action

logger = logging.getLogger(__name__)

#: One read takes whatever the kernel holds, up to this; the stream buffer pauses the
#: socket only at twice it. A saturated Asterisk sends ~11 MB/s (DESIGN), so a reader
#: that takes small bites spends its time in the event loop instead of the parser.
READ_SIZE = 1024 * 1024

#: Enough of a bad packet to diagnose it without flooding the log with 64 KiB.
LOGGED_BYTES = 4096

#: Receives each ordinary event; it must return at once (the read loop waits for it) and
#: may raise ``AmiError`` to end the connection (a consumer that fell hopelessly behind).
Deliver = Callable[[Event], None]


@contextlib.asynccontextmanager
async def deadline(seconds: float, what: str) -> AsyncIterator[None]:
    """``asyncio.timeout`` whose expiry is an ``AmiTimeout`` naming what was awaited."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError as error:
        raise AmiTimeout(f"{what} within {seconds}s") from error


def _ends_list(event: Event) -> bool:
    # Asterisk 11 closes ``Status`` and ``QueueStatus`` with ``StatusComplete`` and
    # ``QueueStatusComplete`` that carry no ``EventList: Complete`` (k2_actions capture).
    return event.is_list_complete or event.name.endswith("Complete")


class _EventList:
    """Items of one list action, collected until its closing event."""

    __slots__ = ("done", "items")

    def __init__(self, done: asyncio.Future[Event | None]) -> None:
        self.items: list[Event] = []
        self.done = done


class AmiConnection:
    """A connected socket: frame, match responses by ActionID, collect lists, log in and off.

    Waiters learn that the connection closed from a ``None`` result rather than from an
    exception set on their future, so no future is ever left with an unretrieved error.
    """

    def __init__(
        self, config: AmiConfig, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        loop = asyncio.get_running_loop()
        self._config = config
        self._reader = reader
        self._writer = writer
        self._parser = AmiParser(fallback_encoding=config.fallback_encoding)
        self._loop = loop
        self._greeting: asyncio.Future[Greeting | None] = loop.create_future()
        self._closed: asyncio.Future[AmiError] = loop.create_future()
        self._pending: dict[str, asyncio.Future[Response | None]] = {}
        self._lists: dict[str, _EventList] = {}
        self.is_logged_in = False

    @classmethod
    async def open(cls, config: AmiConfig) -> AmiConnection:
        """Open the TCP connection (nothing is sent yet).

        Raises:
            AmiConnectionLost: refused, unreachable or not connected within ``connect_timeout``.
        """
        try:
            async with asyncio.timeout(config.connect_timeout):
                reader, writer = await asyncio.open_connection(
                    config.host, config.port, limit=READ_SIZE
                )
        except TimeoutError as error:
            raise AmiConnectionLost(
                f"no connection to {config.address} within {config.connect_timeout}s"
            ) from error
        except OSError as error:
            raise AmiConnectionLost(f"cannot connect to {config.address}: {error}") from error
        return cls(config, reader, writer)

    @property
    def is_closed(self) -> bool:
        return self._closed.done()

    async def wait_closed(self) -> AmiError:
        """Wait until the connection ends; returns why it ended."""
        return await asyncio.shield(self._closed)

    # -- reading ---------------------------------------------------------------------------

    async def read_loop(self, deliver: Deliver) -> None:
        """Frame and dispatch until the connection ends. Never raises; ``close()`` says why."""
        reason: AmiError
        while True:
            try:
                data = await self._reader.read(READ_SIZE)
            except OSError as error:
                # An abort (RST) mid-packet: what was buffered is cut and gets logged below.
                reason = AmiConnectionLost(f"connection to {self._config.address} broke: {error}")
                reason.__cause__ = error
                data = b""
            else:
                reason = AmiConnectionLost(f"{self._config.address} closed the connection")
            for packet in self._parser.feed(data):
                self._dispatch(packet, deliver)
            if not data:
                self.close(reason)
                return

    def _dispatch(self, packet: Packet, deliver: Deliver) -> None:
        try:
            if isinstance(packet, Event):
                self._on_event(packet, deliver)
            elif isinstance(packet, Response):
                self._on_response(packet)
            elif isinstance(packet, MalformedPacket):
                logger.warning(
                    "skipping a malformed AMI packet from %s (%s, %d bytes): %r",
                    self._config.address,
                    packet.reason,
                    len(packet.raw),
                    packet.raw[:LOGGED_BYTES],
                )
            elif isinstance(packet, Greeting) and not self._greeting.done():
                self._greeting.set_result(packet)
            else:
                logger.warning("unexpected AMI packet from %s: %r", self._config.address, packet)
        except AmiError as error:
            self.close(error)
        except Exception:
            # The read loop must survive a bug in one packet's handling; the packet is logged.
            logger.exception("failed to handle AMI packet %r", packet)

    def _on_event(self, event: Event, deliver: Deliver) -> None:
        if self._lists:
            action_id = event.action_id
            collector = self._lists.get(action_id) if action_id is not None else None
            if collector is not None:
                if not _ends_list(event):
                    collector.items.append(event)
                elif not collector.done.done():
                    collector.done.set_result(event)
                return
        deliver(event)
        if event.name == "Shutdown":
            # Asterisk closes the socket 16-70 ms after this (j3/k3 captures); don't wait.
            self.close(
                AmiConnectionLost(
                    f"{self._config.address} is shutting down "
                    f"({event.get('Shutdown', '?')}, restart {event.get('Restart', '?')})"
                )
            )

    def _on_response(self, response: Response) -> None:
        action_id = response.action_id
        future = self._pending.get(action_id) if action_id is not None else None
        if future is None or future.done():
            logger.debug("AMI response matches no pending action: %r", response)
            return
        future.set_result(response)

    # -- writing ---------------------------------------------------------------------------

    async def login(self) -> Greeting:
        """Wait for the greeting and log in; nothing at all is sent before the greeting.

        Raises:
            AmiLoginFailed: Asterisk refused the credentials (it then closes the socket).
            AmiConnectionLost, AmiTimeout: the PBX went away or did not answer in time.
        """
        config = self._config
        async with deadline(config.connect_timeout, f"no AMI greeting from {config.address}"):
            greeting = await asyncio.shield(self._greeting)
        if greeting is None:
            raise self._lost("before the AMI greeting")
        fields = [("Username", config.username)]
        async with deadline(config.action_timeout, f"no login answer from {config.address}"):
            if config.use_md5:
                challenge = await self._request(make_action("Challenge", [("AuthType", "md5")]))
                if not challenge.is_success or "Challenge" not in challenge:
                    raise AmiLoginFailed(f"MD5 challenge refused: {challenge.message or '?'}")
                # MD5 is what Asterisk's ``AuthType: md5`` is defined as; it keeps the
                # secret off the wire, which is all it is asked to do here.
                digest = hashlib.md5((challenge["Challenge"] + config.secret).encode())  # noqa: S324
                fields += [("AuthType", "md5"), ("Key", digest.hexdigest())]
            else:
                fields.append(("Secret", config.secret))
            response = await self._request(make_action("Login", fields))
        if not response.is_success:
            raise AmiLoginFailed(
                f"login as {config.username!r} on {config.address} refused: "
                f"{response.message or response.status}"
            )
        self.is_logged_in = True
        return greeting

    async def send(self, action: Action) -> Response:
        """Send an action and return its response, whatever its status.

        Waits as long as the connection lives: callers bound it with ``deadline()``.
        """
        self._require_login(action)
        return await self._request(action)

    async def collect(self, action: Action) -> tuple[Response, list[Event]]:
        """Send a list action; return its response and item events (closing event excluded).

        Raises:
            AmiActionFailed: Asterisk answered ``Response: Error`` (no items follow).
        """
        self._require_login(action)
        action_id = action.action_id or ""
        collector = _EventList(self._loop.create_future())
        self._lists[action_id] = collector
        try:
            response = await self._request(action)
            if not response.is_success:
                raise AmiActionFailed(action, response)
            complete = await collector.done
            if complete is None:
                raise self._lost(f"in the middle of the {action.name} list")
            return response, collector.items
        finally:
            self._lists.pop(action_id, None)

    async def logoff(self, seconds: float) -> None:
        """Say ``Logoff`` and wait up to ``seconds`` for ``Goodbye``; a gone PBX is no error."""
        if not self.is_logged_in or self.is_closed:
            return
        try:
            async with deadline(seconds, "no Goodbye"):
                response = await self._request(make_action("Logoff"))
        except AmiError as error:
            logger.info("no Goodbye from %s: %s", self._config.address, error)
            return
        logger.debug("logged off %s: %s", self._config.address, response.message)

    def close(self, reason: AmiError) -> None:
        """End the connection now; every waiter learns it was lost. Idempotent."""
        if self._closed.done():
            return
        self._closed.set_result(reason)
        self.is_logged_in = False
        if not self._greeting.done():
            self._greeting.set_result(None)
        for waiter in self._pending.values():
            if not waiter.done():
                waiter.set_result(None)
        for collector in self._lists.values():
            if not collector.done.done():
                collector.done.set_result(None)
        self._writer.close()

    async def aclose(self, reason: AmiError) -> None:
        """``close()`` and wait until the socket is released."""
        self.close(reason)
        with contextlib.suppress(OSError):  # a reset on a socket we drop anyway
            await self._writer.wait_closed()

    def _require_login(self, action: Action) -> None:
        if not self.is_logged_in:
            raise AmiConnectionLost(f"cannot send {action.name}: not logged in to AMI")

    async def _request(self, action: Action) -> Response:
        data = encode_action(action)  # AmiEncodeError (permanent) reaches the caller as is
        action_id = action.action_id or ""
        if self.is_closed:
            raise self._lost(f"before {action.name} was sent")
        future: asyncio.Future[Response | None] = self._loop.create_future()
        self._pending[action_id] = future
        try:
            self._writer.write(data)
            await self._writer.drain()
            response = await future
        except OSError as error:
            self.close(AmiConnectionLost(f"writing to {self._config.address} failed: {error}"))
            raise self._lost(f"while sending {action.name}") from error
        finally:
            self._pending.pop(action_id, None)
        if response is None:
            raise self._lost(f"before the response to {action.name}")
        return response

    def _lost(self, when: str) -> AmiConnectionLost:
        reason = self._closed.result() if self._closed.done() else None
        error = AmiConnectionLost(f"AMI connection lost {when}: {reason or 'closed'}")
        error.__cause__ = reason
        return error
