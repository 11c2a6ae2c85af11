"""Pausing a queue member from a socket (``PauseQueueMember``) and the queue board reaching
the supervisors, through the real ASGI stack on both channel layers. The worker is the fake
of ``test_consumer``; the real one is in ``test_pbx_state``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from telephony.groups import queues_cache_key
from telephony.worker.publisher import publish_queues
from tests.integration import test_consumer as base
from tests.integration.test_consumer import FakeWorker, World, command, connected

pytestmark = [pytest.mark.django_db(transaction=True)]

# The fixtures of the socket tests: one PBX, alice on 101, bob on 102, carol a supervisor.
world = base.world
layer = base.layer

BOARD = {
    "queue": "support",
    "callers": [
        {"unique_id": "u1", "number": "+1555", "name": None, "position": 1, "joined_at": 1.0}
    ],
    "members": [
        {"interface": "PJSIP/101", "line": "101", "name": "Alice", "paused": True,
         "reason": "lunch", "status": 1, "in_call": False},
    ],
}  # fmt: skip


async def test_an_operator_pauses_their_own_membership_with_a_reason(
    world: World, layer: Any
) -> None:
    socket, _ = await connected(world, "alice")
    async with FakeWorker(layer, world.cid) as worker:
        reply = await command(
            socket, id=1, command="PauseQueueMember", line="101", enabled=True,
            queue="support", reason="lunch",
        )  # fmt: skip
    assert reply["ok"], reply
    [run] = worker.received
    assert {k: run["command"][k] for k in ("verb", "line", "enabled", "queue", "reason")} == {
        "verb": "queue_pause", "line": "101", "enabled": True, "queue": "support",
        "reason": "lunch",
    }  # fmt: skip
    await socket.disconnect()


async def test_only_a_supervisor_pauses_another_operators_line(world: World, layer: Any) -> None:
    alice, _ = await connected(world, "alice")
    carol, _ = await connected(world, "carol", "?supervise=1")
    async with FakeWorker(layer, world.cid) as worker:
        refused = await command(alice, id=1, command="PauseQueueMember", line="102", enabled=True)
        await asyncio.sleep(0.1)
        assert worker.received == []
        allowed = await command(carol, id=2, command="PauseQueueMember", line="102", enabled=False)
    assert refused["code"] == "not-your-call"
    assert allowed["ok"], allowed
    [run] = worker.received
    assert (run["command"]["line"], run["command"]["enabled"]) == ("102", False)
    await alice.disconnect()
    await carol.disconnect()


@pytest.mark.parametrize(
    "fields",
    [
        {"reason": "lunch\r\nAction: Command"},
        {"reason": "x" * 81},
        {"queue": "support\nAction: Logoff"},
        {"queue": "two words"},
        {},  # no line
    ],
)
async def test_bad_pause_fields_never_reach_the_worker(
    world: World, layer: Any, fields: dict[str, str]
) -> None:
    socket, _ = await connected(world, "carol", "?supervise=1")
    message = {"line": "101", **fields} if fields else {}
    async with FakeWorker(layer, world.cid) as worker:
        reply = await command(socket, id=1, command="PauseQueueMember", enabled=True, **message)
        await asyncio.sleep(0.1)
    assert reply["code"] == "invalid-input"
    assert worker.received == []
    await socket.disconnect()


async def test_the_queue_board_reaches_supervisors_only(world: World, layer: Any) -> None:
    carol, _ = await connected(world, "carol", "?supervise=1")
    alice, _ = await connected(world, "alice")
    await publish_queues(layer, world.cid, {"connector": world.cid, "at": 5.0, "queues": [BOARD]})
    message = await carol.receive_json_from(timeout=5)
    assert message == {"type": "queue.state", "connector": world.cid, "at": 5.0, "queues": [BOARD]}
    assert await alice.receive_nothing(timeout=0.3)
    await carol.disconnect()
    await alice.disconnect()


def test_a_page_that_opens_later_reads_the_board_from_the_cache(world: World) -> None:
    cache.set(queues_cache_key(world.cid), {"connector": world.cid, "at": 5.0, "queues": [BOARD]})
    try:
        supervisor, operator = Client(), Client()
        supervisor.cookies["sessionid"] = world.cookies["carol"]
        operator.cookies["sessionid"] = world.cookies["alice"]
        answer = supervisor.get("/api/supervisor/queues/")
        assert answer.status_code == 200
        assert answer.json() == {
            "connectors": [{"connector": world.cid, "at": 5.0, "queues": [BOARD]}]
        }
        assert operator.get("/api/supervisor/queues/").status_code == 403
    finally:
        cache.delete(queues_cache_key(world.cid))
