"""The project's own Asterisk manager for tests: real TCP on 127.0.0.1, scripted like a PBX.

Answers as the j/k captures show Asterisk 22 and 11 answering (greeting, ``Permission
denied`` before login, ``Authentication failed`` then a closed socket, Ping/Pong,
Logoff/Goodbye, ``Shutdown``), replays captures byte for byte and drops the line on cue.
Knows nothing of the client under test; tests assert on what it recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any

from telephony.ami import Action, AmiParser, Event, Field, Message, encode_message
from telephony.ami.config import AmiConfig
from telephony.simulator.server import reply
from telephony.simulator.shapes import event

__all__ = ["event", "reply"]  # re-exported: tests script the peer with them

#: What a canned answer sends for one action: packets (encoded with CRLF) or raw bytes.
Responder = Callable[[Action], Sequence[Message | bytes]]

GREETING_22 = "Asterisk Call Manager/11.0.0"
GREETING_11 = "Asterisk Call Manager/1.3"

#: How long the ``wait_*`` helpers wait before failing the test.
WAIT = 2.0
#: What the worker sends by itself: keep-alive, resync, the DND and queue state it polls.
WORKER_OWN_ACTIONS = frozenset({"Ping", "CoreShowChannels", "Status", "DBGet", "QueueStatus"})

#: A packet cut where a real ``writetimeout`` drop cuts it: mid-line, no blank line.
CUT_PACKET = b"Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/10"


#: What Asterisk 22 sends right after a successful login (j4 capture).
FULLY_BOOTED = event(
    "FullyBooted",
    ("Privilege", "system,all"),
    ("Uptime", "0"),
    ("LastReload", "0"),
    ("Status", "Fully Booted"),
)


def success(message: str, *fields: Field) -> Responder:
    """Answer ``Response: Success`` with ``Message`` (and more headers)."""
    return lambda action: [reply(action, "Success", ("Message", message), *fields)]


def error(message: str) -> Responder:
    """Answer ``Response: Error`` with ``Message``."""
    return lambda action: [reply(action, "Error", ("Message", message))]


def silence() -> Responder:
    """Never answer: for action timeouts."""
    return lambda action: []


def event_list(
    items: Iterable[Sequence[Field]],
    complete: str,
    *,
    message: str = "Events will follow",
) -> Responder:
    """An Asterisk 12+ list: ``EventList: start``, the items, then ``<complete>`` event."""
    rows = [tuple(item) for item in items]

    def respond(action: Action) -> list[Message | bytes]:
        tag: tuple[Field, ...] = (
            (("ActionID", action.action_id),) if action.action_id is not None else ()
        )
        answer: list[Message | bytes] = [
            reply(action, "Success", ("EventList", "start"), ("Message", message))
        ]
        answer.extend(Event.from_fields((row[0], *tag, *row[1:])) for row in rows)
        answer.append(
            event(complete, *tag, ("EventList", "Complete"), ("ListItems", str(len(rows))))
        )
        return answer

    return respond


def recorded_answer(capture: bytes, action_id: str) -> Responder:
    """Replay what a capture holds for ``action_id`` (response, items, closing event).

    The packets are re-encoded with the incoming ActionID in place of the recorded one;
    everything else is as Asterisk sent it.
    """
    parser = AmiParser()
    packets = [
        packet
        for packet in [*parser.feed(capture), *parser.feed(b"")]
        if isinstance(packet, Message) and packet.action_id == action_id
    ]
    if not packets:
        raise ValueError(f"the capture holds nothing for ActionID {action_id!r}")

    def respond(action: Action) -> list[Message | bytes]:
        new_id = action.action_id or ""
        return [
            type(packet).from_fields(
                tuple(
                    (key, new_id if key is not None and key.lower() == "actionid" else value)
                    for key, value in packet.fields
                )
            )
            for packet in packets
        ]

    return respond


def strip_greeting(capture: bytes) -> bytes:
    """A capture's bytes after its greeting line, to replay into a logged-in session."""
    if capture.startswith(b"Asterisk Call Manager/"):
        return capture[capture.index(b"\n") + 1 :]
    return capture


@dataclass(eq=False)
class PeerSession:
    """One accepted TCP connection and everything the client sent on it."""

    number: int
    writer: asyncio.StreamWriter
    #: Every byte the client sent, verbatim: "nothing before Login" is checked on this.
    received: bytearray = field(default_factory=bytearray)
    actions: list[Action] = field(default_factory=list)
    logged_in: bool = False
    challenge: str | None = None
    is_closed: bool = False
    #: Held while the peer writes a packet or a replay, so answers never split a packet.
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class AmiPeer:
    """A scriptable AMI server on an ephemeral 127.0.0.1 port; one instance per test."""

    def __init__(
        self,
        *,
        username: str = "cti",
        secret: str = "s3cret",  # noqa: S107 (the peer's own test credentials)
        greeting: str = GREETING_22,
        fully_booted: bool = True,
    ) -> None:
        self.username = username
        self.secret = secret
        self.greeting = greeting
        #: Send ``FullyBooted`` after a login, as Asterisk does.
        self.fully_booted = fully_booted
        #: Seconds to wait before the greeting (a slow PBX): the client must send nothing.
        self.greeting_delay = 0.0
        #: Clear to stop answering ``Ping`` (the client should then presume the link dead).
        self.answer_pings = True
        self.sessions: list[PeerSession] = []
        self._responders: dict[str, Responder] = {}
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Condition()

    # -- life ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        """Close the listener and every session, and wait for their handlers to finish."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for session in self.sessions:
            session.writer.close()
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=2)

    async def __aenter__(self) -> AmiPeer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the peer first"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def config(self, **overrides: Any) -> AmiConfig:
        """An ``AmiConfig`` for this peer with test-sized timings (short, no stray pings)."""
        base = AmiConfig(
            host="127.0.0.1",
            port=self.port,
            username=self.username,
            secret=self.secret,
            connect_timeout=1.0,
            action_timeout=1.0,
            ping_interval=30.0,
            ping_timeout=0.5,
            backoff_initial=0.02,
            backoff_max=0.1,
        )
        return replace(base, **overrides)

    # -- what the client did ---------------------------------------------------------------

    @property
    def session(self) -> PeerSession:
        """The latest connection."""
        assert self.sessions, "no client has connected"
        return self.sessions[-1]

    @property
    def actions(self) -> list[Action]:
        """Every action of every session, in order."""
        return [action for session in self.sessions for action in session.actions]

    def action_names(self) -> list[str]:
        return [action.name for action in self.actions]

    def commanded(self, start: int = 0) -> list[Action]:
        """Actions from ``start`` on, less those the worker sends on its own (keep-alive,
        resync, the PBX state it polls): what a command caused."""
        return [a for a in self.actions[start:] if a.name not in WORKER_OWN_ACTIONS]

    async def wait_for(self, predicate: Callable[[], bool], *, timeout: float = WAIT) -> None:
        """Wait until ``predicate()`` holds, re-checked on every change; at most ``timeout`` s."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def wait_for_action(self, name: str, count: int = 1, *, timeout: float = WAIT) -> Action:
        """The ``count``-th action called ``name`` (case-insensitive), once it has arrived."""

        def matching() -> list[Action]:
            return [a for a in self.actions if a.name.lower() == name.lower()]

        await self.wait_for(lambda: len(matching()) >= count, timeout=timeout)
        return matching()[count - 1]

    async def wait_logged_in(self, sessions: int = 1, *, timeout: float = WAIT) -> PeerSession:
        """The ``sessions``-th connection, once its client has logged in."""
        await self.wait_for(
            lambda: len(self.sessions) >= sessions and self.sessions[sessions - 1].logged_in,
            timeout=timeout,
        )
        return self.sessions[sessions - 1]

    # -- scripting -------------------------------------------------------------------------

    def answer(self, action_name: str, responder: Responder) -> None:
        """Answer ``action_name`` (after login) with ``responder``, overriding built-ins."""
        self._responders[action_name.lower()] = responder

    async def send(self, *packets: Message | bytes, session: PeerSession | None = None) -> None:
        """Send packets or raw bytes to a session (the latest by default)."""
        target = session or self.session
        async with target.write_lock:
            await self._write(target, packets)

    async def send_event(self, name: str, *fields: Field) -> None:
        await self.send(event(name, *fields))

    async def replay(
        self, data: bytes, *, chunk_size: int | None = None, pace: float = 0.0
    ) -> None:
        """Send recorded bytes exactly as given, optionally in chunks ``pace`` s apart.

        Answers to actions wait until the replay is done, so they never cut its packets.
        """
        target = self.session
        step = chunk_size or len(data) or 1
        async with target.write_lock:
            for start in range(0, len(data), step):
                target.writer.write(data[start : start + step])
                await target.writer.drain()
                if pace:
                    await asyncio.sleep(pace)

    async def drop(self, *, mid_packet: bool = False) -> None:
        """Close the latest connection; ``mid_packet`` cuts a packet and resets (RST) it.

        ``mid_packet`` is what the client sees when Asterisk's ``writetimeout`` fires.
        """
        target = self.session
        async with target.write_lock:
            if mid_packet:
                target.writer.write(CUT_PACKET)
                await target.writer.drain()
                target.writer.transport.abort()
            else:
                target.writer.close()

    async def shutdown(self, *, restart: bool = True, close_after: float = 0.016) -> None:
        """``core restart now``: a ``Shutdown`` event, then the socket closes (k3: 16 ms)."""
        target = self.session  # a quick client may have reconnected before the close
        shutdown = event(
            "Shutdown",
            ("Privilege", "system,all"),
            ("Shutdown", "Cleanly"),
            ("Restart", "True" if restart else "False"),
        )
        await self.send(shutdown, session=target)
        await asyncio.sleep(close_after)
        target.writer.close()

    # -- serving ---------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)
        session = PeerSession(len(self.sessions) + 1, writer)
        self.sessions.append(session)
        parser = AmiParser(expect_greeting=False)
        try:
            await self._notify()
            if self.greeting_delay:
                await asyncio.sleep(self.greeting_delay)
            await self.send(f"{self.greeting}\r\n".encode(), session=session)
            while data := await reader.read(65536):
                session.received += data
                for packet in parser.feed(data):
                    if isinstance(packet, Action):
                        session.actions.append(packet)
                        await self._notify()
                        await self._answer(session, packet)
        except ConnectionError:
            pass  # the client or a test closed the socket; nothing left to answer
        finally:
            session.is_closed = True
            writer.close()
            await self._notify()

    async def _answer(self, session: PeerSession, action: Action) -> None:
        name = action.name.lower()
        if name == "challenge":
            session.challenge = str(random.randint(100_000_000, 999_999_999))  # noqa: S311
            challenge = reply(action, "Success", ("Challenge", session.challenge))
            await self.send(challenge, session=session)
        elif name == "login":
            await self._login(session, action)
        elif not session.logged_in:
            # Asterisk 11 and 22 both keep the socket open after this (j1b/k1b captures).
            denied = reply(action, "Error", ("Message", "Permission denied"))
            await self.send(denied, session=session)
        elif name in self._responders:
            await self.send(*self._responders[name](action), session=session)
        elif name == "ping":
            if self.answer_pings:
                pong = (("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}"))
                await self.send(reply(action, "Success", *pong), session=session)
        elif name == "logoff":
            goodbye = reply(action, "Goodbye", ("Message", "Thanks for all the fish."))
            await self.send(goodbye, session=session)
            session.writer.close()
        else:
            unknown = (
                f"Invalid/unknown command: {action.name}. "
                "Use Action: ListCommands to show available commands."
            )
            await self.send(reply(action, "Error", ("Message", unknown)), session=session)

    async def _login(self, session: PeerSession, action: Action) -> None:
        if (action.get("AuthType") or "").lower() == "md5":
            expected = hashlib.md5(f"{session.challenge}{self.secret}".encode()).hexdigest()  # noqa: S324
            accepted = session.challenge is not None and action.get("Key") == expected
        else:
            accepted = action.get("Secret") == self.secret
        if not accepted or action.get("Username") != self.username:
            refused = reply(action, "Error", ("Message", "Authentication failed"))
            await self.send(refused, session=session)
            session.writer.close()  # as Asterisk does (j1/k1 captures)
            return
        session.logged_in = True
        answer: list[Message | bytes] = [
            reply(action, "Success", ("Message", "Authentication accepted"))
        ]
        if self.fully_booted:
            answer.append(FULLY_BOOTED)
        await self.send(*answer, session=session)
        await self._notify()

    async def _write(self, session: PeerSession, packets: Sequence[Message | bytes]) -> None:
        for packet in packets:
            session.writer.write(packet if isinstance(packet, bytes) else encode_message(packet))
        await session.writer.drain()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()
