"""The whole path through real processes: the AMI test peer replays a real capture into the
worker, the worker publishes through Redis, real daphne processes push to real WebSocket
clients (the ``websockets`` library), and browser commands travel back to the peer.

The worker runs in this process (a ``ConnectorRunner`` on the production Redis layer, as in
test_worker.py); daphne runs as child processes on the same SQLite file or PostgreSQL
database and the same Redis, exactly as deployed. Personas: alice owns line 101 (the
captured call rings there), bob owns line 102 and must neither see nor touch it, carol
supervises with ``?supervise=1`` and has no line.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers, get_channel_layer
from django.contrib.auth.models import Permission, User
from django.test import override_settings
from websockets.asyncio.client import ClientConnection, connect

from telephony.connectors import connector_config
from telephony.models import Connector, ConnectorStatus, Extension
from telephony.worker.leadership import FileLease
from telephony.worker.runner import ConnectorRunner
from tests.conftest import REDIS_LAYER, TEST_REDIS_URL
from tests.factories import make_connector
from tests.support.ami_peer import AmiPeer, event_list, strip_greeting, success
from tests.support.daphne import (
    DaphneServer,
    session_cookie,
    shared_database_env,
    start_daphne,
    websocket_options,
)
from tests.support.replay import load_capture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

HOLD_22 = "asterisk-22/b_inbound_answered_hold"
MISSED_22 = "asterisk-22/c_inbound_no_answer"
KEY_EVENTS = ["RingStarted", "CommutationStarted", "PutHoldAction", "EndHoldAction", "RingFinished"]
INJECTION = "101\r\nAction: Command\r\nCommand: core stop now"
#: Long enough for a message that was going to arrive to have arrived (Redis round trips
#: here are well under a millisecond; daphne adds a few).
QUIET = 0.5


@dataclasses.dataclass
class World:
    connector: Connector
    cookies: dict[str, str]


def _make_world(port: int) -> World:
    connector = make_connector(port=port)
    users = {name: User.objects.create_user(name) for name in ("alice", "bob", "carol")}
    users["carol"].user_permissions.add(Permission.objects.get(codename="supervise"))
    for number, owner in (("101", users["alice"]), ("102", users["bob"]), ("103", None)):
        Extension.objects.create(
            connector=connector, number=number, device=f"PJSIP/{number}", operator=owner
        )
    return World(connector, {name: session_cookie(user) for name, user in users.items()})


@dataclasses.dataclass
class Panel:
    """One browser's socket; a reader task keeps every message it receives, in order."""

    socket: ClientConnection
    hello: dict[str, Any]
    messages: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    changed: asyncio.Condition = dataclasses.field(default_factory=asyncio.Condition)
    reader: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        async for raw in self.socket:
            async with self.changed:
                self.messages.append(json.loads(raw))
                self.changed.notify_all()

    def events(self) -> list[dict[str, Any]]:
        return [m["event"] for m in self.messages if m["type"] == "call.event"]

    def names(self) -> list[str]:
        return [event["event"] for event in self.events()]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(predicate)

    async def wait_for_event(self, name: str) -> dict[str, Any]:
        await self.wait_for(lambda: name in self.names())
        return next(event for event in self.events() if event["event"] == name)

    async def command(self, **fields: Any) -> dict[str, Any]:
        """Send a browser command; its ``result``."""
        await self.socket.send(json.dumps(fields))

        def results() -> list[dict[str, Any]]:
            return [m for m in self.messages if m["type"] == "result" and m["id"] == fields["id"]]

        await self.wait_for(lambda: bool(results()))
        return results()[0]


@contextlib.asynccontextmanager
async def panel(server: DaphneServer, cookie: str, query: str = "") -> AsyncIterator[Panel]:
    async with connect(
        server.ws_url(f"/ws/cti/{query}"), **websocket_options(server, cookie)
    ) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert hello["type"] == "hello", hello
        opened = Panel(ws, hello)
        opened.reader = asyncio.create_task(opened._read())
        try:
            yield opened
        finally:
            opened.reader.cancel()


@contextlib.asynccontextmanager
async def daphnes(count: int) -> AsyncIterator[list[DaphneServer]]:
    """``count`` daphne processes on this test's database and Redis, started side by side."""
    env = {**await sync_to_async(shared_database_env)(), "REDIS_URL": TEST_REDIS_URL}
    started = await asyncio.gather(
        *(asyncio.to_thread(start_daphne, env) for _ in range(count)), return_exceptions=True
    )
    servers = [server for server in started if isinstance(server, DaphneServer)]
    try:
        for failure in started:
            if isinstance(failure, BaseException):
                raise failure
        yield servers
    finally:
        await asyncio.gather(*(asyncio.to_thread(server.stop) for server in servers))


@pytest.fixture
def redis_layer() -> Iterator[Any]:
    """This process's channel layer is the production Redis one, shared with daphne."""
    with override_settings(CHANNEL_LAYERS=REDIS_LAYER):
        channel_layers.backends.clear()
        yield get_channel_layer()
        channel_layers.backends.clear()


@contextlib.asynccontextmanager
async def running_worker(
    peer: AmiPeer, world: World, layer: Any, tmp_path: Path
) -> AsyncIterator[None]:
    """The connector's worker, logged in to the peer and serving commands."""
    peer.answer("CoreShowChannels", event_list([], "CoreShowChannelsComplete"))
    config = await sync_to_async(connector_config)(world.connector)
    config = dataclasses.replace(config, ami=peer.config())
    lease = FileLease(world.connector.pk, directory=tmp_path)
    runner = ConnectorRunner(config, layer=layer, lease=lease)
    task = asyncio.create_task(runner.run())
    try:
        await peer.wait_logged_in()
        await peer.wait_for_action("CoreShowChannels")
        # Commands to a worker not yet subscribed to worker.<id> would vanish (pub/sub).
        async with asyncio.timeout(5):
            while not await ConnectorStatus.objects.filter(  # noqa: ASYNC110 - polls the database
                connector=world.connector, connected=True
            ).aexists():
                await asyncio.sleep(0.05)
            await runner.commands.ready.wait()
        yield
    finally:
        runner.stop()
        await asyncio.wait_for(task, 10)


def _split_before(name: str, marker: bytes) -> tuple[bytes, bytes]:
    """A capture cut where ``marker`` starts: up to there the call is live."""
    data = strip_greeting(load_capture(name))
    cut = data.index(marker)
    return data[:cut], data[cut:]


async def test_a_call_reaches_its_operator_and_the_supervisor_and_commands_reach_the_pbx(
    ami_peer: AmiPeer, redis_layer: Any, tmp_path: Path
) -> None:
    ami_peer.answer("Hangup", success("Channel Hungup"))
    world = await sync_to_async(_make_world)(ami_peer.port)
    live, rest = _split_before(HOLD_22, b"Event: Hold\r\n")
    async with (
        daphnes(1) as [server],
        running_worker(ami_peer, world, redis_layer, tmp_path),
        panel(server, world.cookies["alice"]) as alice,
        panel(server, world.cookies["bob"]) as bob,
        panel(server, world.cookies["carol"], "?supervise=1") as carol,
    ):
        assert [line["line"] for line in alice.hello["lines"]] == ["101"]
        assert carol.hello["user"]["supervising"] == [world.connector.pk]

        await ami_peer.replay(live)
        answered = await alice.wait_for_event("CommutationStarted")
        await carol.wait_for_event("CommutationStarted")
        call_id = answered["call_id"]
        before = len(ami_peer.actions)

        # bob owns 102 only: his DropCall of alice's call is refused before the worker.
        foreign = await bob.command(id="b1", command="DropCall", callId=call_id)
        injection = await alice.command(
            id="a1", command="BlindTransferCall", callId=call_id, targetAddress=INJECTION
        )
        assert (foreign["ok"], foreign["code"]) == (False, "not-your-call")
        assert (injection["ok"], injection["code"]) == (False, "invalid-input")
        await asyncio.sleep(QUIET)
        assert ami_peer.commanded(before) == []

        dropped = await alice.command(id="a2", command="DropCall", callId=call_id)
        assert dropped == {"type": "result", "id": "a2", "ok": True}
        hangup = await ami_peer.wait_for_action("Hangup")
        assert (hangup.get("Channel") or "").startswith("PJSIP/101-")
        assert [action.name for action in ami_peer.commanded(before)] == ["Hangup"]

        await ami_peer.replay(rest)
        await alice.wait_for_event("RingFinished")
        await carol.wait_for_event("RingFinished")
        await asyncio.sleep(QUIET)

    assert [name for name in alice.names() if name in KEY_EVENTS] == KEY_EVENTS
    assert {event["line"] for event in alice.events()} == {"101"}
    calls = [event for event in alice.events() if event["event"] != "LineStateChanged"]
    assert {event["call_id"] for event in calls} == {call_id}
    assert [event["seq"] for event in calls] == list(range(1, len(calls) + 1))
    assert alice.events()[-1]["event"] == "LineStateChanged"
    assert (alice.events()[-1]["features"], alice.events()[-1]["calls"]) == (0x2, 0)
    assert carol.events() == alice.events()
    assert bob.events() == []
    assert [m["type"] for m in bob.messages if m["type"] != "connector.status"] == ["result"]


async def test_operators_on_two_daphne_processes_get_the_same_events(
    ami_peer: AmiPeer, redis_layer: Any, tmp_path: Path
) -> None:
    world = await sync_to_async(_make_world)(ami_peer.port)
    async with (
        daphnes(2) as [first, second],
        running_worker(ami_peer, world, redis_layer, tmp_path),
        panel(first, world.cookies["alice"]) as on_first,
        panel(second, world.cookies["alice"]) as on_second,
        panel(second, world.cookies["bob"]) as bob_on_second,
    ):
        await ami_peer.replay(strip_greeting(load_capture(MISSED_22)))
        finished = await on_first.wait_for_event("RingFinished")
        await on_second.wait_for_event("RingFinished")
        await asyncio.sleep(QUIET)

    assert finished["disposition"] == "missed"
    assert on_first.names()[0] == "RingStarted"
    assert on_second.events() == on_first.events()
    assert bob_on_second.events() == []
