"""A panel that stops reading (telephony/web/sendbuffer.py), through a real daphne and Redis:
it is closed with 4408 once ``CTI_MAX_SEND_BUFFER_BYTES`` wait for it, a reading panel on the
same line misses nothing meanwhile, and the closed one comes back with ``since=``."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from telephony.groups import line_group
from tests.conftest import TEST_REDIS_URL
from tests.integration import test_daphne
from tests.integration.test_daphne import _make_world, panel
from tests.support.daphne import running_daphne, shared_database_env, websocket_options

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

redis_layer = test_daphne.redis_layer  # the fixture: this process publishes on daphne's Redis layer
LIMIT = 256 * 1024


def big_event(connector_id: int, seq: int) -> dict[str, Any]:
    return {
        "event": "CallInfoChanged",
        "connector": str(connector_id),
        "line": "101",
        "seq": seq,
        "call_id": "slow-1",
        "caller_name": "x" * 4000,
    }


async def test_a_client_that_stops_reading_is_closed_with_4408_and_others_miss_nothing(
    redis_layer: Any,
) -> None:
    world = await sync_to_async(_make_world)(5038)  # no worker: events come from this test
    env = {
        **await sync_to_async(shared_database_env)(),
        "REDIS_URL": TEST_REDIS_URL,
        "CTI_MAX_SEND_BUFFER_BYTES": str(LIMIT),
    }
    cid = world.connector.pk
    with running_daphne(env) as server:
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.setblocking(False)
        await asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", server.port))
        options = websocket_options(server, world.cookies["alice"])
        # max_queue=1: the client library stops reading the TCP socket once one message
        # waits, so the server's buffer fills as with a frozen browser.
        async with (
            connect(server.ws_url(), sock=raw, max_queue=1, **options) as slow,
            panel(server, world.cookies["alice"]) as reader,
        ):
            assert json.loads(await slow.recv())["type"] == "hello"
            seq = 0
            deadline = time.monotonic() + 60
            while "does not read" not in server.log():
                assert time.monotonic() < deadline, server.log()
                for _ in range(50):
                    seq += 1
                    event = big_event(cid, seq)
                    await redis_layer.group_send(
                        line_group(cid, "101"), {"type": "call.events", "events": [event]}
                    )
                await asyncio.sleep(0.02)
            assert "with 4408" in server.log()
            await reader.wait_for(lambda: len(reader.events()) == seq, timeout=30)
            assert [event["seq"] for event in reader.events()] == list(range(1, seq + 1))
            # The slow socket's connection ends (the close frame may sit behind the unread
            # bytes that the abort throws away).
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(30):
                    while True:
                        await slow.recv()
        async with panel(server, world.cookies["alice"], f"?since={cid}:101:1") as back:
            assert back.hello["user"]["username"] == "alice"
            assert back.hello["catch_up"] == "snapshot"  # nothing was stored: the snapshot rules
