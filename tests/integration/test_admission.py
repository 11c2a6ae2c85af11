"""Opening sockets under load (telephony/web/admission.py): hellos off channels' shared
database thread, load shedding with 4503, the per-user socket cap, and the hello's connector
cache that a change invalidates. Through the production ASGI stack, on both channel layers."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Permission, User
from django.test import override_settings

from telephony.models import Connector, ConnectorStatus, Extension
from telephony.web import admission
from tests.integration import test_consumer
from tests.integration.test_consumer import (
    FakeWorker,
    World,
    assert_closed_with,
    command,
    connected,
    open_socket,
)

world = test_consumer.world  # the fixtures: one PBX, alice on 101, bob on 102
layer = test_consumer.layer

pytestmark = [pytest.mark.django_db(transaction=True)]


async def test_hello_does_not_wait_for_the_shared_database_thread(world: World, layer: Any) -> None:
    release = threading.Event()
    # Occupies channels' one thread-sensitive thread (where database_sync_to_async runs)
    # until released: a hello queued there would never come.
    blocker = asyncio.create_task(sync_to_async(release.wait)())
    try:
        socket, hello = await connected(world, "alice")
        assert [line["line"] for line in hello["lines"]] == ["101"]
        assert not blocker.done()
        await socket.disconnect()
    finally:
        release.set()
        await blocker


async def test_commands_do_not_wait_behind_other_users_hellos(world: World, layer: Any) -> None:
    socket, _ = await connected(world, "alice")
    gate = admission.gate()
    taken = 0
    # Every opening slot busy: bob's socket waits for its hello...
    while not gate.slots.locked():
        await gate.slots.acquire()
        taken += 1
    waiting = await open_socket(world, "bob")
    try:
        accepted, _ = await waiting.connect(timeout=5)
        assert accepted  # accepted before its turn: daphne's handshake timeout cannot hit it
        assert await waiting.receive_nothing(timeout=0.3)
        # ...while alice's command is answered.
        async with FakeWorker(layer, world.cid):
            reply = await command(socket, id="m1", command="MakeCall", targetAddress="102")
        assert reply == {"type": "result", "id": "m1", "ok": True}
    finally:
        for _ in range(taken):
            gate.slots.release()
    hello = await waiting.receive_json_from(timeout=5)
    assert hello["type"] == "hello" and hello["user"]["username"] == "bob"
    await waiting.disconnect()
    await socket.disconnect()


async def test_a_busy_server_refuses_with_try_again_later(world: World, layer: Any) -> None:
    with override_settings(CTI_MAX_WAITING_HELLOS=0):
        await assert_closed_with(await open_socket(world, "alice"), 4503)


async def test_over_the_per_user_cap_the_oldest_socket_is_closed(world: World, layer: Any) -> None:
    with override_settings(CTI_MAX_SOCKETS_PER_USER=2):
        first, _ = await connected(world, "alice")
        second, _ = await connected(world, "alice")
        other, _ = await connected(world, "bob")
        assert await first.receive_nothing(timeout=0.2)
        third, _ = await connected(world, "alice")
        closed = await first.receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": 4409}
        assert await second.receive_nothing(timeout=0.2)
        assert await other.receive_nothing(timeout=0.2)
        for socket in (second, third, other):
            await socket.disconnect()
        await first.disconnect()
    assert admission.gate().open_sockets() == 0


async def test_the_next_hello_shows_a_changed_connector_and_status(
    world: World, layer: Any
) -> None:
    socket, hello = await connected(world, "alice")
    [before] = hello["connectors"]
    assert before["status"]["connected"] is True
    await socket.disconnect()

    def change() -> None:
        status = ConnectorStatus.objects.get(connector=world.connector)
        status.connected = False
        status.last_error = "connection refused"
        status.save()
        connector = Connector.objects.get(pk=world.cid)
        connector.name = "renamed"
        connector.save()

    await sync_to_async(change)()
    socket, hello = await connected(world, "alice")
    [after] = hello["connectors"]
    assert after["name"] == "renamed"
    assert after["status"]["connected"] is False
    assert after["status"]["last_error"] == "connection refused"
    await socket.disconnect()


async def test_the_next_socket_sees_a_new_line_and_a_new_permission(
    world: World, layer: Any
) -> None:
    await assert_closed_with(await open_socket(world, "dave"), 4403)
    socket, hello = await connected(world, "bob", "?supervise=1")
    assert hello["user"]["supervisor"] is False
    await socket.disconnect()

    def change() -> None:
        dave = User.objects.get(username="dave")
        Extension.objects.create(connector=world.connector, number="103", operator=dave)
        bob = User.objects.get(username="bob")
        bob.user_permissions.add(Permission.objects.get(codename="supervise"))

    await sync_to_async(change)()
    socket, hello = await connected(world, "dave")
    assert [line["line"] for line in hello["lines"]] == ["103"]
    await socket.disconnect()
    socket, hello = await connected(world, "bob", "?supervise=1")
    assert hello["user"]["supervisor"] is True
    assert hello["user"]["supervising"] == [world.cid]
    await socket.disconnect()
