"""The simulator's AMI listener: TCP sessions, greeting, login and event fan-out.

Answers as the j/k captures show Asterisk answering: a one-line greeting, ``Permission
denied`` before login, ``Authentication failed`` then a closed socket, ``FullyBooted``
after a login. Actions after login go to ``actions.py``. Knows no calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from telephony.ami import (
    Action,
    AmiParser,
    Field,
    MalformedPacket,
    Message,
    Response,
    encode_message,
)

from .shapes import event

logger = logging.getLogger(__name__)


def reply(action: Action, status: str = "Success", *fields: Field) -> Response:
    """A response to ``action`` carrying its ActionID, as Asterisk orders the headers."""
    head: list[Field] = [("Response", status)]
    if action.action_id is not None:
        head.append(("ActionID", action.action_id))
    return Response.from_fields((*head, *fields))


@dataclass(eq=False)
class Session:
    """One client connection."""

    number: int
    writer: asyncio.StreamWriter
    logged_in: bool = False
    wants_events: bool = True
    challenge: str | None = None
    username: str = ""
    closed: bool = False
    actions: list[Action] = field(default_factory=list)

    def send(self, packets: Sequence[Message]) -> None:
        """Write whole packets at once: events and answers never interleave mid-packet."""
        if self.closed or self.writer.is_closing():
            return
        self.writer.write(b"".join(encode_message(packet) for packet in packets))

    def close(self) -> None:
        self.closed = True
        self.writer.close()


#: What the server calls for each action after login.
Handler = Callable[[Session, Action], Awaitable[None]]


class AmiServer:
    """Listens on ``host:port``; one ``Session`` per client; events go to every listener."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        secret: str,
        greeting: str,
        handler: Handler,
        rng: random.Random,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.username = username
        self.secret = secret
        self.greeting = greeting
        self.handler = handler
        self._rng = rng
        self.sessions: list[Session] = []
        #: Every action any client sent, in arrival order (tests read this).
        self.actions: list[Action] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return self.requested_port
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.requested_port)
        logger.info("simulated Asterisk AMI listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for session in self.sessions:
            session.close()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2)
        if self._server is not None:
            await self._server.wait_closed()

    def broadcast(self, packets: Sequence[Message]) -> None:
        for session in self.sessions:
            if session.logged_in and session.wants_events:
                session.send(packets)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        session = Session(len(self.sessions) + 1, writer)
        self.sessions.append(session)
        peer = writer.get_extra_info("peername")
        logger.info("AMI session %d from %s", session.number, peer)
        parser = AmiParser(expect_greeting=False)
        writer.write(f"{self.greeting}\r\n".encode())
        try:
            while not session.closed and (data := await reader.read(65536)):
                for packet in parser.feed(data):
                    if isinstance(packet, MalformedPacket):
                        logger.warning("session %d sent a bad packet %r", session.number, packet)
                    elif isinstance(packet, Action):
                        await self._answer(session, packet)
                await writer.drain()
        except ConnectionError:
            pass  # the client went away; nothing left to answer
        finally:
            session.closed = True
            self.sessions.remove(session)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            logger.info("AMI session %d closed", session.number)

    async def _answer(self, session: Session, action: Action) -> None:
        session.actions.append(action)
        self.actions.append(action)
        name = action.name.lower()
        if name == "challenge":
            session.challenge = str(self._rng.randint(100_000_000, 999_999_999))
            session.send([reply(action, "Success", ("Challenge", session.challenge))])
        elif name == "login":
            self._login(session, action)
        elif not session.logged_in:
            # Asterisk 11 and 22 keep the socket open after this (j1b/k1b captures).
            session.send([reply(action, "Error", ("Message", "Permission denied"))])
        elif name == "logoff":
            session.send([reply(action, "Goodbye", ("Message", "Thanks for all the fish."))])
            session.close()
        else:
            await self.handler(session, action)

    def _login(self, session: Session, action: Action) -> None:
        if (action.get("AuthType") or "").lower() == "md5":
            text = f"{session.challenge}{self.secret}".encode()
            # MD5 is what AMI's challenge login specifies; nothing here relies on it.
            expected = hashlib.md5(text, usedforsecurity=False).hexdigest()
            accepted = session.challenge is not None and action.get("Key") == expected
        else:
            accepted = action.get("Secret") == self.secret
        if not accepted or action.get("Username") != self.username:
            logger.warning("AMI session %d: login refused", session.number)
            session.send([reply(action, "Error", ("Message", "Authentication failed"))])
            session.close()  # as Asterisk does (j1/k1 captures)
            return
        session.logged_in = True
        session.username = self.username
        session.wants_events = (action.get("Events") or "on").lower() != "off"
        booted = event(
            "FullyBooted",
            ("Privilege", "system,all"),
            ("Uptime", "0"),
            ("LastReload", "0"),
            ("Status", "Fully Booted"),
        )
        accepted_reply = reply(action, "Success", ("Message", "Authentication accepted"))
        session.send([accepted_reply, booted])
        logger.info("AMI session %d logged in as %s", session.number, self.username)
