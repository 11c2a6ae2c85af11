"""A panel socket on a real daphne, open across a 10 s Redis outage while the simulated PBX
places calls: afterwards it has received every call event of its line the worker saved
since its hello, once each and in sequence order; nothing is silently missing. The first
command sent as Redis comes back is carried out."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from websockets.asyncio.client import connect

from telephony.models import CallEvent, Extension
from tests.faults.conftest import finish
from tests.faults.stack import Stack
from tests.faults.test_faults import AFTER, BEFORE, OUTAGE, calls_flow, lead, wait_until
from tests.support.daphne import (
    session_cookie,
    shared_database_env,
    start_daphne,
    websocket_options,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]

LINE = "101"


def _operator() -> str:
    alice = User.objects.create_user("alice")
    Extension.objects.filter(number=LINE).update(operator=alice)
    return session_cookie(alice)


def _saved(after: int) -> list[tuple[int, str]]:
    rows = CallEvent.objects.filter(line=LINE, seq__gt=after).order_by("seq")
    return list(rows.values_list("seq", "name"))


def _stored_names() -> set[str]:
    return set(CallEvent.objects.values_list("name", flat=True).distinct())


async def test_panel_socket_gets_every_event_after_a_redis_outage(stack: Stack) -> None:
    await lead(stack)
    cookie = await sync_to_async(_operator)()
    env = {**await sync_to_async(shared_database_env)(), "REDIS_URL": stack.redis.url}
    messages: list[dict[str, Any]] = []
    server = await asyncio.to_thread(start_daphne, env)  # the proxies keep pumping meanwhile
    try:
        async with connect(server.ws_url(), **websocket_options(server, cookie)) as socket:
            hello = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert hello["type"] == "hello", hello
            since = max(hello["last_seq"].values(), default=0)

            async def read() -> None:
                async for raw in socket:
                    messages.append(json.loads(raw))  # noqa: PERF401 - seen as they come

            reader = asyncio.create_task(read())

            def events() -> list[dict[str, Any]]:
                return [m["event"] for m in messages if m.get("type") == "call.event"]

            await wait_until(lambda: bool(events()), 30, "a call event on the panel")
            stack.redis.kill()
            await asyncio.sleep(OUTAGE)
            await stack.redis.start()
            # The first command after Redis is back reaches the worker (issue #10), although
            # the worker's subscription comes back a moment later than daphne's publish.
            command = {"id": "after-outage", "command": "SetDnd", "enabled": True, "line": LINE}
            await socket.send(json.dumps(command))

            def answer() -> dict[str, Any] | None:
                return next((m for m in messages if m.get("id") == "after-outage"), None)

            await wait_until(lambda: answer() is not None, 20, "the command's answer")
            await calls_flow(stack, AFTER + BEFORE)
            result = await finish(stack)

            saved = await sync_to_async(_saved)(since)
            stored = await sync_to_async(_stored_names)()

            def received() -> list[tuple[int, str]]:
                return [(e["seq"], e["event"]) for e in events() if e["event"] in stored]

            with contextlib.suppress(AssertionError):  # the comparison below says what is missing
                await wait_until(lambda: len(received()) >= len(saved), 15, "every saved event")
            reader.cancel()
            closed = socket.close_code
    finally:
        await asyncio.to_thread(server.stop)

    assert saved, "no call on the panel's line at all"
    assert answer() == {"type": "result", "id": "after-outage", "ok": True}, answer()
    got = received()
    missing = sorted(set(saved) - set(got))
    assert closed is None, f"daphne closed the panel socket ({closed})"
    assert got == saved, (
        f"{len(got)} events received, {len(saved)} saved; missing {missing[:20]}; "
        f"received in order: {[seq for seq, _ in got][:60]}"
    )
    assert result.ok, str(result)
