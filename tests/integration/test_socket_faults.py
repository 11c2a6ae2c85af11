"""The operator socket under bad input and account changes, through the real ASGI stack on
both channel layers: malformed frames are answered and the socket stays open; logout, a
password change, deactivation and the loss of the line close it with a documented code."""

from __future__ import annotations

import json
from typing import Any

import pytest

from telephony.web import consumer
from tests.integration.test_consumer import World, command, connected, layer, world

pytestmark = [pytest.mark.django_db(transaction=True)]
__all__ = ["layer", "world"]  # fixtures shared with test_consumer.py

MAX_BYTES = 4096


async def assert_still_open(socket: Any, world: World) -> None:
    reply = await command(socket, id="still-here", command="QueryActiveCallSnapshot")
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
        reply = await socket.receive_json_from(timeout=5)
        assert (reply["type"], reply["ok"], reply["code"], reply["id"]) == (
            "result",
            False,
            code,
            client_id,
        ), text[:80]
    await socket.send_input({"type": "websocket.receive", "text": ""})  # an empty text frame
    assert (await socket.receive_json_from(timeout=5))["code"] == "invalid-input"
    for data in (b"\x00\x01", b'{"id": 1, "command": "QueryActiveCallSnapshot"}', b"\xff" * 5000):
        await socket.send_to(bytes_data=data)
        reply = await socket.receive_json_from(timeout=5)
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
    reply = await command(socket, id="q", command="QueryActiveCallSnapshot")
    assert (reply["ok"], reply["code"]) == (False, "internal-error")
    monkeypatch.undo()
    await assert_still_open(socket, world)
    await socket.disconnect()
