"""The operator socket under bad input and account changes, through the real ASGI stack on
both channel layers: malformed frames are answered and the socket stays open; logout, a
password change, deactivation and the loss of the line close it with a documented code."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from telephony.groups import line_group
from telephony.models import Extension
from telephony.web import auth, consumer
from tests.integration.test_consumer import (
    World,
    assert_closed_with,
    connected,
    layer,
    open_socket,
    wire,
    world,
)

pytestmark = [pytest.mark.django_db(transaction=True)]
__all__ = ["layer", "world"]  # fixtures shared with test_consumer.py

MAX_BYTES = 4096
#: Long enough for a message that was going to arrive to have arrived.
QUIET = 0.5


async def next_of(socket: Any, kind: str) -> dict[str, Any]:
    """The next message of type ``kind``: Redis pub/sub ignores the database number, so
    another test run's ``connector.status`` for a connector with the same id may come first."""
    while (message := await socket.receive_json_from(timeout=5))["type"] != kind:
        pass
    return message  # type: ignore[no-any-return]


async def ask(socket: Any, **message: Any) -> dict[str, Any]:
    await socket.send_json_to(message)
    return await next_of(socket, "result")


async def assert_still_open(socket: Any, world: World) -> None:
    reply = await ask(socket, id="still-here", command="QueryActiveCallSnapshot")
    assert (reply["id"], reply["ok"], reply["last_seq"]) == (
        "still-here",
        True,
        {f"{world.cid}:101": 0},
    )


async def test_every_malformed_frame_is_answered_and_the_socket_stays_open(
    world: World, layer: Any
) -> None:
    socket, _ = await connected(world, "alice")
    frames: list[tuple[str, tuple[str, Any]]] = [
        (json.dumps({"id": "a\nb", "command": "DropCall", "callId": "c"}), ("invalid-input", None)),
        (json.dumps({"id": "a\r\nAction: Command", "command": "Nope"}), ("invalid-input", None)),
        ("[" * (MAX_BYTES - 10), ("invalid-input", None)),
        ('{"id": 1, "command": "DropCall", "callId": ' + "[" * 3000 + "}", ("invalid-input", None)),
        (
            json.dumps({"id": 2, "command": "DropCall", "callId": [[[["deep"]]]]}),
            ("invalid-input", 2),
        ),
        (json.dumps({"id": 1.5, "command": "DropCall", "callId": "c"}), ("invalid-input", None)),
        (json.dumps({"id": 3, "command": {"x": 1}}), ("unknown-command", 3)),
        (json.dumps({"id": 4, "command": "DropCall", "callId": 4}), ("invalid-input", 4)),
        (json.dumps({"id": 5, "command": "SetDnd", "enabled": "on"}), ("invalid-input", 5)),
        ("x" * 1_000_000, ("invalid-input", None)),
        ("NaN", ("invalid-input", None)),
        ("not json at all", ("invalid-input", None)),
        (" ", ("invalid-input", None)),
        ('"a string"', ("invalid-input", None)),
    ]
    for text, (code, client_id) in frames:
        await socket.send_to(text_data=text)
        reply = await next_of(socket, "result")
        assert (reply["type"], reply["ok"], reply["code"], reply["id"]) == (
            "result",
            False,
            code,
            client_id,
        ), text[:80]
    await socket.send_input({"type": "websocket.receive", "text": ""})  # an empty text frame
    assert (await next_of(socket, "result"))["code"] == "invalid-input"
    for data in (b"\x00\x01", b'{"id": 1, "command": "QueryActiveCallSnapshot"}', b"\xff" * 5000):
        await socket.send_to(bytes_data=data)
        reply = await next_of(socket, "result")
        assert (reply["ok"], reply["code"]) == (False, "invalid-input")
    await assert_still_open(socket, world)
    await socket.disconnect()


async def test_an_unexpected_failure_on_a_message_is_internal_error_not_a_close(
    world: World, layer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket, _ = await connected(world, "alice")

    async def broken(audience: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(consumer, "_snapshot", broken)
    reply = await ask(socket, id="q", command="QueryActiveCallSnapshot")
    assert (reply["ok"], reply["code"]) == (False, "internal-error")
    monkeypatch.undo()
    await assert_still_open(socket, world)
    await socket.disconnect()


# -- closing sockets whose session, account or line is gone ----------------------------


async def login(world: World, username: str, as_name: str) -> Client:
    """A second login session for ``username``; its socket cookie is ``world.cookies[as_name]``."""

    def sync() -> Client:
        client = Client()
        client.force_login(User.objects.get(username=username))
        world.cookies[as_name] = client.cookies["sessionid"].value
        return client

    return await sync_to_async(sync)()


async def assert_closed(socket: Any, code: int) -> None:
    """The socket closes with ``code``; what it was sent before that does not matter here
    (Redis pub/sub ignores the database number: other test runs' status messages can come)."""
    while (output := await socket.receive_output(timeout=5))["type"] == "websocket.send":
        pass
    assert output == {"type": "websocket.close", "code": code}


def members(layer: Any, group: str) -> set[str]:
    """This process's members of ``group`` (on both layers; Redis's subscriber count is not
    checked, other test runs on the same server may subscribe to the same names)."""
    if hasattr(layer, "_get_group_channel_name"):
        group = layer._get_group_channel_name(group)
    return set(layer.groups.get(group, ()))


async def publish_ring(layer: Any, world: World, line: str, seq: int) -> None:
    event = wire(world, call_id=f"after-{seq}", line=line, seq=seq)
    await layer.group_send(line_group(world.cid, line), {"type": "call.events", "events": [event]})


async def test_logout_closes_that_sessions_socket_with_4410_and_nothing_arrives_after(
    world: World, layer: Any
) -> None:
    client = await login(world, "alice", "alice-laptop")
    laptop, _ = await connected(world, "alice-laptop")
    desk, _ = await connected(world, "alice")  # another session of hers: it stays
    await sync_to_async(client.logout)()
    await assert_closed(laptop, 4410)
    await publish_ring(layer, world, "101", 30)
    assert (await next_of(desk, "call.event"))["event"]["call_id"] == "after-30"
    assert await laptop.receive_nothing(timeout=QUIET)
    assert len(members(layer, line_group(world.cid, "101"))) == 1  # only the desk's socket
    await laptop.send_json_to({"id": "late", "command": "MakeCall", "targetAddress": "102"})
    assert await laptop.receive_nothing(timeout=QUIET)
    await assert_still_open(desk, world)
    await desk.disconnect()
    await laptop.wait()


async def test_a_password_change_closes_every_socket_of_the_user_with_4411(
    world: World, layer: Any
) -> None:
    await login(world, "alice", "alice-laptop")
    laptop, _ = await connected(world, "alice-laptop")
    desk, _ = await connected(world, "alice")
    bob, _ = await connected(world, "bob")

    def change_password() -> None:
        alice = User.objects.get(username="alice")
        alice.set_password("a new long passphrase")
        alice.save()

    await sync_to_async(change_password)()
    await assert_closed(laptop, 4411)
    await assert_closed(desk, 4411)
    await publish_ring(layer, world, "101", 31)
    assert await desk.receive_nothing(timeout=QUIET)
    assert members(layer, line_group(world.cid, "101")) == set()
    # Her old sessions no longer authenticate: a reconnect is refused as not logged in.
    await assert_closed_with(await open_socket(world, "alice"), 4401)
    await assert_still_open_as(bob, world, "102")
    await bob.disconnect()


async def test_deactivation_closes_with_4412_and_a_reconnect_is_refused(
    world: World, layer: Any
) -> None:
    socket, _ = await connected(world, "alice")

    def deactivate() -> None:
        alice = User.objects.get(username="alice")
        alice.is_active = False
        alice.save()

    await sync_to_async(deactivate)()
    await assert_closed(socket, 4412)
    await assert_closed_with(await open_socket(world, "alice"), 4401)


async def test_a_line_given_to_someone_else_closes_both_operators_sockets_with_4413(
    world: World, layer: Any
) -> None:
    alice, _ = await connected(world, "alice")
    bob, _ = await connected(world, "bob")

    def reassign() -> None:
        extension = Extension.objects.get(connector=world.connector, number="101")
        extension.operator = User.objects.get(username="bob")
        extension.save()

    await sync_to_async(reassign)()
    await assert_closed(alice, 4413)
    await assert_closed(bob, 4413)  # bob gains 101: his reconnect joins its group
    await publish_ring(layer, world, "101", 32)
    assert await alice.receive_nothing(timeout=QUIET)
    await assert_closed_with(await open_socket(world, "alice"), 4403)  # no line left
    bob, hello = await connected(world, "bob")
    assert sorted(line["line"] for line in hello["lines"]) == ["101", "102"]
    await bob.disconnect()


async def test_a_deleted_line_closes_its_operators_socket_with_4413(
    world: World, layer: Any
) -> None:
    alice, _ = await connected(world, "alice")
    await sync_to_async(lambda: Extension.objects.get(number="101").delete())()
    await assert_closed(alice, 4413)


async def test_changes_that_take_nothing_away_leave_the_socket_open(
    world: World, layer: Any
) -> None:
    alice, _ = await connected(world, "alice")

    def harmless() -> None:
        user = User.objects.get(username="alice")
        user.first_name = "Alice"
        user.save()
        extension = Extension.objects.get(number="101")
        extension.display_name = "Alice at the desk"
        extension.save()

    await sync_to_async(harmless)()
    await login(world, "alice", "alice-again")  # a login elsewhere (last_login) neither
    await assert_not_closed(alice, QUIET)
    await assert_still_open(alice, world)
    await alice.disconnect()


async def assert_not_closed(socket: Any, seconds: float) -> None:
    """Nothing but ordinary messages for ``seconds`` (other runs' status may come, see next_of)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if not await socket.receive_nothing(timeout=0.05):
            output = await socket.receive_output(timeout=1)
            assert output["type"] != "websocket.close", output


async def assert_still_open_as(socket: Any, world: World, line: str) -> None:
    reply = await ask(socket, id="still-here", command="QueryActiveCallSnapshot")
    assert (reply["ok"], reply["last_seq"]) == (True, {f"{world.cid}:{line}": 0})


async def test_a_logout_while_the_socket_is_being_opened_still_closes_it(
    world: World, layer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The logout lands after the handshake authenticated the socket but before it joined
    its groups, so its ``session.revoked`` reached no one: the re-read session refuses it."""
    client = await login(world, "alice", "alice-racing")
    open_audience = auth.open_audience

    def logout_meanwhile(scope: dict[str, Any], supervise: bool) -> Any:
        client.logout()  # on the hello pool's thread, between authenticating and joining
        return open_audience(scope, supervise)

    monkeypatch.setattr(auth, "open_audience", logout_meanwhile)
    await assert_closed_with(await open_socket(world, "alice-racing"), 4401)


async def test_taking_away_the_supervise_permission_closes_the_supervising_socket(
    world: World, layer: Any
) -> None:
    carol, hello = await connected(world, "carol", "?supervise=1")
    assert hello["user"]["supervising"] == [world.cid]
    permission = await sync_to_async(Permission.objects.get)(codename="supervise")

    def take_away() -> None:
        User.objects.get(username="carol").user_permissions.remove(permission)

    await sync_to_async(take_away)()
    await assert_closed(carol, 4413)
    await publish_ring(layer, world, "101", 33)
    assert await carol.receive_nothing(timeout=QUIET)
    # She no longer supervises and has no line: the reconnect is refused.
    await assert_closed_with(await open_socket(world, "carol", "?supervise=1"), 4403)


async def test_a_group_losing_the_permission_closes_its_members_sockets(
    world: World, layer: Any
) -> None:
    def supervisors_group() -> Group:
        group = Group.objects.create(name="supervisors")
        group.permissions.add(Permission.objects.get(codename="supervise"))
        dave = User.objects.get(username="dave")
        dave.groups.add(group)
        return group

    group = await sync_to_async(supervisors_group)()
    dave, hello = await connected(world, "dave", "?supervise=1")
    assert hello["user"]["supervising"] == [world.cid]
    await sync_to_async(group.permissions.clear)()
    await assert_closed(dave, 4413)
