"""PBX state that is not a call's, end to end over TCP: the worker against the simulator.

DND is the AstDB key ``DND/<line>``: read back after login (and by the poll), stored as
``LineDnd`` and announced; the simulator honours the key like the dialplan of docs/dnd.md,
so a direct call to a DND line never rings it. The queue board comes from ``QueueStatus``
at login and the queue events, and reaches the supervisors' group and the cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache

from telephony.ami import AmiConfig
from telephony.connectors import connector_config
from telephony.groups import line_group, queues_cache_key, supervisor_group, worker_group
from telephony.models import CallRecord, Connector, Extension, LineDnd
from telephony.simulator import Kind, Simulator
from telephony.worker.leadership import FileLease
from telephony.worker.runner import ConnectorRunner
from tests.factories import make_connector
from tests.integration.test_worker import start_worker
from tests.support.ami_peer import AmiPeer, strip_greeting
from tests.support.replay import load_capture

pytestmark = [pytest.mark.django_db(transaction=True)]

WAIT = 10.0


@dataclasses.dataclass
class Setup:
    simulator: Simulator
    runner: ConnectorRunner
    connector_id: int
    layer: Any
    inbox: str

    async def until(self, check: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Layer messages (``call.events`` unpacked) up to the first ``check`` accepts."""
        seen: list[dict[str, Any]] = []
        async with asyncio.timeout(WAIT):
            while True:
                message = await self.layer.receive(self.inbox)
                items = (
                    [{"type": "call.event", "event": e} for e in message["events"]]
                    if message["type"] == "call.events"
                    else [message]
                )
                for item in items:
                    seen.append(item)
                    if check(item):
                        return seen

    async def command(self, **command: Any) -> dict[str, Any]:
        reply_to = await self.layer.new_channel()
        # A fresh id per command: the worker carries out each request id once.
        request_id = uuid.uuid4().hex
        lines = command.pop("lines", ["101", "102", "103"])
        fields = {"call_id": None, "target": None, "digits": None, "enabled": None}
        await self.layer.group_send(
            worker_group(self.connector_id),
            {
                "type": "command.run",
                "request_id": request_id,
                "reply_to": reply_to,
                "user_id": 1,
                "lines": lines,
                "command": {**fields, **command},
            },
        )
        async with asyncio.timeout(WAIT):
            accepted = await self.layer.receive(reply_to)  # the worker took it, then answers
            assert accepted == {"type": "command.accepted", "request_id": request_id}
            result: dict[str, Any] = await self.layer.receive(reply_to)
        return result


def dnd_of(line: str, enabled: bool) -> Callable[[dict[str, Any]], bool]:
    def check(item: dict[str, Any]) -> bool:
        event = item.get("event") or {}
        return (
            event.get("event") == "LineStateChanged"
            and event.get("line") == line
            and event.get("dnd") is enabled
        )

    return check


def queue_state(check: Callable[[dict[str, Any]], bool]) -> Callable[[dict[str, Any]], bool]:
    return lambda item: item.get("type") == "queue.state" and check(item["queues"][0])


def _connector(port: int, dialect: str) -> int:
    connector = make_connector(port=port, dialect=dialect, secret="cti")
    tech = "SIP" if dialect == "11" else "PJSIP"
    for number in ("101", "102", "103"):
        Extension.objects.create(connector=connector, number=number, device=f"{tech}/{number}")
    return int(connector.pk)


@contextlib.asynccontextmanager
async def running(
    dialect: str, tmp_path: Path, *, dnd: tuple[str, ...] = (), paused: tuple[str, ...] = ()
) -> AsyncIterator[Setup]:
    simulator = Simulator(
        port=0, dialect=dialect, lines=("101", "102", "103"), schedule=False, time_scale=0.05
    )
    for line in dnd:
        simulator.pbx.astdb[("DND", line)] = "YES"  # set on the phone, before any worker
    for line in paused:
        simulator.pbx.paused[line] = "break"
    await simulator.start()
    connector_id = await sync_to_async(_connector)(simulator.port, dialect)
    row = await Connector.objects.prefetch_related("extensions").aget(pk=connector_id)
    config = await sync_to_async(connector_config)(row)
    ami = AmiConfig(
        host="127.0.0.1", port=simulator.port, username="cti", secret="cti",
        action_timeout=3.0, ping_interval=30.0, backoff_initial=0.05, backoff_max=0.1,
    )  # fmt: skip
    config = dataclasses.replace(config, ami=ami)
    layer = get_channel_layer()
    inbox = await layer.new_channel()
    for group in (line_group(connector_id, "101"), supervisor_group(connector_id)):
        await layer.group_add(group, inbox)
    runner = ConnectorRunner(config, layer=layer, lease=FileLease(connector_id, directory=tmp_path))
    task = asyncio.create_task(runner.run())
    try:
        async with asyncio.timeout(WAIT):
            await runner.commands.ready.wait()
            await runner.pbx_state.read_once.wait()
        yield Setup(simulator, runner, connector_id, layer, inbox)
    finally:
        runner.stop()
        await asyncio.wait_for(task, WAIT)
        await simulator.stop()


async def _dnd_rows(connector_id: int) -> dict[str, bool]:
    rows = LineDnd.objects.filter(connector_id=connector_id).values_list("line", "enabled")
    return {line: enabled async for line, enabled in rows}


@pytest.mark.parametrize("dialect", ["12", "11"])
async def test_dnd_set_on_the_phone_is_read_at_login_stored_and_announced(
    dialect: str, tmp_path: Path
) -> None:
    async with running(dialect, tmp_path, dnd=("101",)) as setup:
        announced = await setup.until(dnd_of("101", True))
        assert announced[-1]["event"]["features"] == 2  # the line's real features: it may dial
        # Only a difference from the history is written (and announced).
        assert await _dnd_rows(setup.connector_id) == {"101": True}

        # The phone's feature code clears the key; the next reading (login or poll) sees it.
        del setup.simulator.pbx.astdb[("DND", "101")]
        await setup.runner.pbx_state.read_dnd(setup.runner.client)
        await setup.until(dnd_of("101", False))
        assert (await _dnd_rows(setup.connector_id))["101"] is False


async def test_set_dnd_from_a_panel_is_stored_and_announced_by_the_worker(tmp_path: Path) -> None:
    async with running("12", tmp_path) as setup:
        result = await setup.command(verb="set_dnd", line="101", enabled=True)
        assert result["ok"], result
        await setup.until(dnd_of("101", True))
        assert setup.simulator.pbx.is_dnd("101")
        assert (await _dnd_rows(setup.connector_id))["101"] is True


@pytest.mark.parametrize("dialect", ["12", "11"])
async def test_a_direct_call_to_a_dnd_line_does_not_ring_it(dialect: str, tmp_path: Path) -> None:
    async with running(dialect, tmp_path, dnd=("101",)) as setup:
        await setup.until(dnd_of("101", True))
        outside = await setup.simulator.start_call(Kind.INBOUND, "101")
        colleague = await setup.simulator.start_call(Kind.OUTBOUND, "102", to="101")
        async with asyncio.timeout(WAIT):
            await outside.finished.wait()
            await colleague.finished.wait()

        def busy_102(item: dict[str, Any]) -> bool:
            event = item.get("event") or {}
            return event.get("event") == "RingFinished" and event.get("line") == "102"

        seen = await setup.until(busy_102)
        assert seen[-1]["event"]["disposition"] == "busy"
        on_101 = [i["event"] for i in seen if (i.get("event") or {}).get("line") == "101"]
        assert [e for e in on_101 if e.get("call_id")] == []  # 101 never rang
        records = CallRecord.objects.filter(connector_id=setup.connector_id)
        assert not await records.filter(line="101").aexists()
        assert await records.filter(line="102", disposition="busy").aexists()


@pytest.mark.parametrize("dialect", ["12", "11"])
async def test_the_queue_board_follows_status_pauses_and_waiting_callers(
    dialect: str, tmp_path: Path
) -> None:
    async with running(dialect, tmp_path, paused=("103",)) as setup:

        def members(queue: dict[str, Any]) -> dict[str, tuple[bool, str]]:
            return {m["interface"][-3:]: (m["paused"], m["reason"]) for m in queue["members"]}

        # QueueStatus at login: 103 was paused before the worker came (11 lists no reason).
        listed = (True, "" if dialect == "11" else "break")
        await setup.until(queue_state(lambda q: members(q).get("103") == listed))

        # A supervisor pauses the two others with a reason, through the command path.
        for line in ("101", "102"):
            result = await setup.command(
                verb="queue_pause", line=line, enabled=True, queue="support", reason="lunch"
            )
            assert result["ok"], result
        await setup.until(queue_state(lambda q: members(q).get("102") == (True, "lunch")))

        # Everyone paused: the caller waits (shown with when it started), then gives up.
        call = await setup.simulator.start_call(Kind.QUEUE, "101")
        seen = await setup.until(queue_state(lambda q: bool(q["callers"])))
        [caller] = seen[-1]["queues"][0]["callers"]
        assert caller["number"] and caller["joined_at"] > 0
        cached = await sync_to_async(cache.get)(queues_cache_key(setup.connector_id))
        assert cached["queues"][0]["callers"]
        async with asyncio.timeout(WAIT):
            await call.finished.wait()
        await setup.until(queue_state(lambda q: not q["callers"]))

        result = await setup.command(verb="queue_pause", line="101", enabled=False)
        assert result["ok"], result
        await setup.until(queue_state(lambda q: members(q).get("101") == (False, "")))


@pytest.mark.parametrize("dialect", ["12", "11"])
async def test_the_board_follows_a_recorded_ringall_queue_call(
    ami_peer: AmiPeer, dialect: str, tmp_path: Path
) -> None:
    """Real Asterisk bytes (e_queue_ringall, 22 and 11) through the worker: the caller shows
    as waiting from Join to Leave, and the members as Asterisk named them."""
    capture = f"asterisk-{'11' if dialect == '11' else '22'}/e_queue_ringall"
    worker = await start_worker(ami_peer, dialect, tmp_path)
    try:
        inbox = await worker.listen(supervisor_group(worker.connector.pk))
        data = strip_greeting(load_capture(capture))
        # Up to the caller leaving the queue, then the rest: the board is published as it
        # stands after what was read (a burst read at once is one board).
        cut = data.index(b"Event: Leave\r\n" if dialect == "11" else b"Event: QueueCallerLeave\r\n")
        await ami_peer.replay(data[:cut])

        def waiting(numbers: list[str]) -> Callable[[dict[str, Any]], bool]:
            def check(message: dict[str, Any]) -> bool:
                if message.get("type") != "queue.state":
                    return False
                callers = [c["number"] for q in message["queues"] for c in q["callers"]]
                return callers == numbers

            return check

        await worker.messages_until(inbox, waiting(["+15551230001"]), timeout=WAIT)
        await ami_peer.replay(data[cut:])
        seen = await worker.messages_until(inbox, waiting([]), timeout=WAIT)
        members = {m["line"]: m["name"] for m in seen[-1]["queues"][0]["members"]}
        assert members == {"101": "Operator Alice", "102": "Operator Bob"}
    finally:
        worker.runner.stop()
        await asyncio.wait_for(worker.task, WAIT)
