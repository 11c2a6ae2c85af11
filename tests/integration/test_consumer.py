"""The operator socket (/ws/cti/) through the project's real ASGI stack, on both channel layers.

Session cookies come from Django's test client, the origin check and the session middleware
are the production ones (``ctiproject.asgi.application``); the worker is a small fake that
listens on ``worker.<connector>`` and answers ``command.result`` as the real one does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Permission, User
from django.test import Client, override_settings

from ctiproject.asgi import application
from telephony.callmodel.events import CallState, Direction, Feature, RingStarted
from telephony.groups import status_group, supervisor_group, worker_group
from telephony.models import CallEvent, CallRecord, Connector, ConnectorStatus, Extension
from telephony.worker.publisher import publish_call_events, publish_status
from telephony.worker.recorder import Outgoing
from tests.factories import CALL_START, make_call_record, make_connector

pytestmark = [pytest.mark.django_db(transaction=True)]

INJECTION = "101\r\nAction: Command\r\nCommand: core stop now"
ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@dataclass
class World:
    connector: Connector
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def cid(self) -> int:
        return self.connector.pk


@pytest.fixture
def world() -> World:
    """One PBX; alice on 101, bob on 102, carol a supervisor without a line, dave nobody."""
    connector = make_connector()
    ConnectorStatus.objects.create(connector=connector, connected=True)
    users = {name: User.objects.create_user(name) for name in ("alice", "bob")}
    users["carol"] = User.objects.create_user("carol")
    users["dave"] = User.objects.create_user("dave")
    users["carol"].user_permissions.add(Permission.objects.get(codename="supervise"))
    Extension.objects.create(connector=connector, number="101", operator=users["alice"])
    Extension.objects.create(connector=connector, number="102", operator=users["bob"])
    world = World(connector)
    for name, user in users.items():
        client = Client()
        client.force_login(user)
        world.cookies[name] = client.cookies["sessionid"].value
    return world


@pytest_asyncio.fixture
async def layer(channel_layers: dict[str, Any]) -> AsyncIterator[Any]:
    """The channel layer the consumer uses, emptied afterwards."""
    channel_layer = get_channel_layer()
    yield channel_layer
    await channel_layer.flush()


def wire(
    world: World, *, call_id: str, line: str, seq: int, state: str = "ringing"
) -> dict[str, Any]:
    return RingStarted(
        connector=str(world.cid),
        line=line,
        seq=seq,
        time=CALL_START.timestamp(),
        call_id=call_id,
        direction=Direction.INCOMING,
        caller_number="+15551230001",
        caller_name="Ann",
        callee_number=line,
        callee_name=None,
        state=CallState(state),
        features=Feature.CAN_ANSWER | Feature.CAN_DROP,
        queue=None,
    ).to_wire()


def live_call(world: World, *, call_id: str, line: str, state: str = "connected") -> CallRecord:
    record: CallRecord = make_call_record(
        connector=world.connector,
        call_id=call_id,
        line=line,
        disposition="",
        state=state,
        last_event=wire(world, call_id=call_id, line=line, seq=7, state=state),
    )
    return record


async def open_socket(
    world: World, user: str | None, query: str = "", origin: tuple[bytes, bytes] = ORIGIN
) -> WebsocketCommunicator:
    headers = [origin]
    if user is not None:
        headers.append((b"cookie", f"sessionid={world.cookies[user]}".encode()))
    return WebsocketCommunicator(application, f"/ws/cti/{query}", headers=headers)


async def connected(world: World, user: str, query: str = "") -> tuple[Any, dict[str, Any]]:
    """An accepted socket and its hello."""
    socket = await open_socket(world, user, query)
    accepted, _ = await socket.connect(timeout=5)
    assert accepted
    hello = await socket.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return socket, hello


async def command(socket: Any, **message: Any) -> dict[str, Any]:
    await socket.send_json_to(message)
    reply: dict[str, Any] = await socket.receive_json_from(timeout=5)
    return reply


class FakeWorker:
    """Listens on ``worker.<connector>``; answers each ``command.run`` with ``answer``."""

    def __init__(self, layer: Any, connector_id: int, answer: dict[str, Any] | None = None) -> None:
        self.layer = layer
        self.group = worker_group(connector_id)
        self.answer = {"ok": True, "code": None, "message": None} if answer is None else answer
        self.received: list[dict[str, Any]] = []
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FakeWorker:
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        self.task = asyncio.create_task(self._serve())
        return self

    async def _serve(self) -> None:
        while True:
            message = await self.layer.receive(self.channel)
            if message["type"] == "fake.stop":
                return
            self.received.append(message)
            if self.answer:
                reply = {"type": "command.result", "request_id": message["request_id"]}
                await self.layer.send(message["reply_to"], {**reply, **self.answer})

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        # A message, not task.cancel(): a cancelled Redis receive waits out its 5 s poll.
        await self.layer.send(self.channel, {"type": "fake.stop"})
        await self.task
        await self.layer.group_discard(self.group, self.channel)


async def group_members(layer: Any, group: str) -> set[str]:
    """Channels in a group, read from the layer itself: the in-memory dict, or the pub/sub
    layer's per-process map, checked against the subscriptions Redis holds."""
    if not hasattr(layer, "_get_group_channel_name"):
        return set(layer.groups.get(group, {}))
    name = layer._get_group_channel_name(group)
    members = set(layer.groups.get(name, set()))
    shard = layer._get_shard(name)
    shard._ensure_redis()
    [(_, subscribers)] = await shard._redis.pubsub_numsub(name)
    assert subscribers == (1 if members else 0), (name, members, subscribers)
    return members


async def assert_closed_with(socket: Any, code: int) -> None:
    accepted, _ = await socket.connect(timeout=5)
    assert accepted  # accepted first, so the browser sees the code
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": code}


# -- connecting ---------------------------------------------------------------------------


async def test_anonymous_socket_is_closed_with_4401(world: World, layer: Any) -> None:
    await assert_closed_with(await open_socket(world, None), 4401)


async def test_user_without_extension_is_closed_with_4403(world: World, layer: Any) -> None:
    await assert_closed_with(await open_socket(world, "dave"), 4403)


async def test_supervisor_without_line_who_does_not_ask_to_supervise_gets_4403(
    world: World, layer: Any
) -> None:
    await assert_closed_with(await open_socket(world, "carol"), 4403)


async def test_socket_from_a_foreign_origin_is_refused(world: World, layer: Any) -> None:
    socket = await open_socket(world, "alice", origin=(b"origin", b"https://evil.example"))
    accepted, _ = await socket.connect(timeout=5)
    assert not accepted


async def test_hello_names_user_lines_connector_and_live_calls_of_own_lines_only(
    world: World, layer: Any
) -> None:
    await sync_to_async(live_call)(world, call_id="c-101", line="101")
    await sync_to_async(live_call)(world, call_id="c-102", line="102")
    ended = await sync_to_async(live_call)(world, call_id="c-old", line="101")
    ended.ended_at = CALL_START
    await sync_to_async(ended.save)()
    await sync_to_async(CallEvent.objects.create)(
        record=ended,
        connector=world.connector,
        line="101",
        seq=41,
        name="RingStarted",
        occurred_at=CALL_START,
        dedupe_key="RingStarted",
        payload={},
    )
    socket, hello = await connected(world, "alice")
    assert hello["user"]["username"] == "alice"
    assert hello["user"]["supervising"] == []
    assert hello["lines"] == [{"connector": world.cid, "line": "101", "name": "", "dnd": False}]
    [connector] = hello["connectors"]
    assert connector["id"] == world.cid
    assert connector["capabilities"]["hold"] is True
    assert connector["status"] == {"connected": True, "since": None, "last_error": None}
    [call] = hello["snapshot"]
    assert call["event"] == "ActiveCallSnapshot"
    assert call["code"] == 10
    assert (call["call_id"], call["line"], call["state"]) == ("c-101", "101", "connected")
    assert call["seq"] == 7
    assert call["caller_number"] == "+15551230001"
    assert call["started_at"] == CALL_START.timestamp()
    assert hello["last_seq"] == {f"{world.cid}:101": 41}
    assert hello["catch_up"] == "none"
    await socket.disconnect()


# -- events -------------------------------------------------------------------------------


async def test_a_worker_batch_reaches_the_browser_as_single_events_in_order(
    world: World, layer: Any
) -> None:
    socket, _ = await connected(world, "alice")
    first = wire(world, call_id="c1", line="101", seq=1)
    second = wire(world, call_id="c1", line="101", seq=2)
    await publish_call_events(layer, world.cid, [Outgoing("101", first), Outgoing("101", second)])
    assert await socket.receive_json_from(timeout=5) == {"type": "call.event", "event": first}
    assert await socket.receive_json_from(timeout=5) == {"type": "call.event", "event": second}
    await socket.disconnect()


async def test_events_of_own_line_arrive_and_another_lines_do_not(world: World, layer: Any) -> None:
    socket, _ = await connected(world, "alice")
    theirs = wire(world, call_id="c2", line="102", seq=1)
    ours = wire(world, call_id="c1", line="101", seq=1)
    await publish_call_events(layer, world.cid, [Outgoing("102", theirs)])
    await publish_call_events(layer, world.cid, [Outgoing("101", ours)])
    assert await socket.receive_json_from(timeout=5) == {"type": "call.event", "event": ours}
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_supervisor_gets_every_line_once(world: World, layer: Any) -> None:
    await sync_to_async(Extension.objects.create)(
        connector=world.connector,
        number="103",
        operator=await sync_to_async(User.objects.get)(username="carol"),
    )
    socket, hello = await connected(world, "carol", "?supervise=1")
    assert hello["user"]["supervising"] == [world.cid]
    assert set(hello["last_seq"]) == {f"{world.cid}:{line}" for line in ("101", "102", "103")}
    for line in ("101", "102", "103"):
        # The worker sends every event to the line's group and the supervisor group.
        event = wire(world, call_id=line, line=line, seq=1)
        await publish_call_events(layer, world.cid, [Outgoing(line, event)])
    received = [await socket.receive_json_from(timeout=5) for _ in range(3)]
    assert [message["event"]["line"] for message in received] == ["101", "102", "103"]
    assert await socket.receive_nothing(timeout=0.3)  # carol's own 103 not twice
    await socket.disconnect()


async def test_connector_status_changes_reach_the_panel(world: World, layer: Any) -> None:
    socket, _ = await connected(world, "alice")
    status = {"connected": False, "since": None, "last_error": "connection refused"}
    await publish_status(layer, world.cid, status)
    assert await socket.receive_json_from(timeout=5) == {
        "type": "connector.status",
        "connector": world.cid,
        "status": status,
    }
    await socket.disconnect()


async def test_groups_are_left_on_disconnect(world: World, layer: Any) -> None:
    socket, _ = await connected(world, "carol", "?supervise=1")
    groups = [supervisor_group(world.cid), status_group(world.cid)]
    assert all([len(await group_members(layer, group)) == 1 for group in groups])
    await socket.disconnect()
    await socket.wait(timeout=5)
    assert [await group_members(layer, group) for group in groups] == [set(), set()]


async def test_catch_up_sends_the_events_after_the_clients_sequence(
    world: World, layer: Any
) -> None:
    record = await sync_to_async(live_call)(world, call_id="c1", line="101")
    for seq in range(1, 6):
        await sync_to_async(CallEvent.objects.create)(
            record=record,
            connector=world.connector,
            line="101",
            seq=seq,
            name="CallInfoChanged",
            occurred_at=CALL_START,
            dedupe_key=f"k{seq}",
            payload=wire(world, call_id="c1", line="101", seq=seq),
        )
    socket, hello = await connected(world, "alice", f"?since={world.cid}:101:2,{world.cid}:102:0")
    assert hello["catch_up"] == "events"
    assert [event["seq"] for event in hello["missed"]] == [3, 4, 5]
    assert hello["last_seq"] == {f"{world.cid}:101": 5}
    await socket.disconnect()
    with override_settings(CTI_CATCH_UP_LIMIT=2):
        socket, hello = await connected(world, "alice", f"?since={world.cid}:101:2")
    assert (hello["catch_up"], hello["missed"]) == ("snapshot", [])
    assert [call["call_id"] for call in hello["snapshot"]] == ["c1"]
    await socket.disconnect()


# -- commands -----------------------------------------------------------------------------


async def test_command_becomes_command_run_on_the_worker_group_and_result_comes_back(
    world: World, layer: Any
) -> None:
    socket, _ = await connected(world, "alice")
    async with FakeWorker(layer, world.cid) as worker:
        reply = await command(socket, id="m1", command="MakeCall", targetAddress="+1 555 123-4567")
    assert reply == {"type": "result", "id": "m1", "ok": True}
    [run] = worker.received
    assert run["type"] == "command.run"
    assert "specific." in run["reply_to"]  # the consumer's own channel, on any layer
    assert run["lines"] == ["101"]
    assert run["command"] == {
        "verb": "make_call",
        "line": "101",
        "call_id": None,
        "target": "+15551234567",
        "digits": None,
        "enabled": None,
        "queue": None,
        "reason": None,
    }
    await socket.disconnect()


async def test_hold_call_toggles_from_the_records_state(world: World, layer: Any) -> None:
    await sync_to_async(live_call)(world, call_id="talking", line="101", state="connected")
    await sync_to_async(live_call)(world, call_id="waiting", line="101", state="held")
    await sync_to_async(live_call)(world, call_id="ringing", line="101", state="ringing")
    socket, _ = await connected(world, "alice")
    async with FakeWorker(layer, world.cid) as worker:
        assert (await command(socket, id=1, command="HoldCall", callId="talking"))["ok"]
        assert (await command(socket, id=2, command="HoldCall", callId="waiting"))["ok"]
        refused = await command(socket, id=3, command="HoldCall", callId="ringing")
    assert [run["command"]["verb"] for run in worker.received] == ["hold", "unhold"]
    assert refused["code"] == "invalid-state"
    await socket.disconnect()


async def test_worker_error_comes_back_with_asterisks_message(world: World, layer: Any) -> None:
    await sync_to_async(live_call)(world, call_id="c1", line="101")
    socket, _ = await connected(world, "alice")
    answer = {"ok": False, "code": "pbx-error", "message": "No such channel"}
    async with FakeWorker(layer, world.cid, answer):
        reply = await command(socket, id="d", command="DropCall", callId="c1")
    assert reply == {"type": "result", "id": "d", "ok": False, **answer}
    await socket.disconnect()


async def test_command_on_another_lines_call_is_refused_before_the_worker(
    world: World, layer: Any
) -> None:
    await sync_to_async(live_call)(world, call_id="bobs", line="102")
    socket, _ = await connected(world, "alice")
    async with FakeWorker(layer, world.cid) as worker:
        reply = await command(socket, id=9, command="DropCall", callId="bobs")
        scoped = await command(socket, id=10, command="DropCall", callId="bobs", line="102")
        await asyncio.sleep(0.2)
    assert reply["code"] == scoped["code"] == "not-your-call"
    assert worker.received == []
    await socket.disconnect()


async def test_a_line_given_to_someone_else_is_no_longer_yours_on_an_open_socket(
    world: World, layer: Any
) -> None:
    # alice's socket opened while 101 was hers; then an admin gave 101 to bob.
    await sync_to_async(live_call)(world, call_id="c1", line="101")
    socket, _ = await connected(world, "alice")
    await sync_to_async(Extension.objects.filter(number="101").update)(
        operator=await sync_to_async(User.objects.get)(username="bob")
    )
    async with FakeWorker(layer, world.cid) as worker:
        drop = await command(socket, id=1, command="DropCall", callId="c1")
        dial = await command(socket, id=2, command="MakeCall", targetAddress="102")
        await asyncio.sleep(0.2)
    assert (drop["code"], dial["code"]) == ("not-your-call", "not-your-call")
    assert worker.received == []
    await socket.disconnect()


async def test_a_supervisor_whose_permission_was_removed_can_no_longer_act(
    world: World, layer: Any
) -> None:
    await sync_to_async(live_call)(world, call_id="bobs", line="102")
    socket, _ = await connected(world, "carol", "?supervise=1")
    carol = await sync_to_async(User.objects.get)(username="carol")
    # Behind the signals' back (they would close the socket, 4413): a command racing the
    # change must still be refused from the database.
    through = User.user_permissions.through.objects.filter(user_id=carol.pk)
    await sync_to_async(through.delete)()
    async with FakeWorker(layer, world.cid) as worker:
        reply = await command(socket, id=1, command="DropCall", callId="bobs")
        await asyncio.sleep(0.2)
    assert reply["code"] == "not-your-call"
    assert worker.received == []
    await socket.disconnect()


async def test_an_unexpected_failure_while_routing_is_answered_with_internal_error(
    world: World, layer: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # A live record left behind by a deleted connector (connector set to NULL): routing it
    # fails inside the ORM, not with a CommandRejected. carol still supervises another PBX.
    await sync_to_async(make_connector)(name="branch")
    orphan = await sync_to_async(live_call)(world, call_id="orphan", line="102")
    await sync_to_async(CallRecord.objects.filter(pk=orphan.pk).update)(connector=None)
    socket, _ = await connected(world, "carol", "?supervise=1")
    async with FakeWorker(layer, world.cid) as worker:
        reply = await command(socket, id="o", command="DropCall", callId="orphan")
        still_there = await command(socket, id="s", command="QueryActiveCallSnapshot")
    assert (reply["id"], reply["ok"], reply["code"]) == ("o", False, "internal-error")
    assert still_there["ok"]
    assert worker.received == []
    assert "cannot route command DropCall" in caplog.text
    await socket.disconnect()


async def test_supervisor_may_act_on_any_line_and_the_worker_is_told_all_lines(
    world: World, layer: Any
) -> None:
    await sync_to_async(live_call)(world, call_id="bobs", line="102")
    socket, _ = await connected(world, "carol", "?supervise=1")
    async with FakeWorker(layer, world.cid) as worker:
        reply = await command(socket, id=1, command="DropCall", callId="bobs")
    assert reply["ok"]
    [run] = worker.received
    assert (run["command"]["line"], sorted(run["lines"])) == ("102", ["101", "102"])
    await socket.disconnect()


async def test_injection_attempt_is_refused_and_nothing_reaches_the_worker(
    world: World, layer: Any
) -> None:
    await sync_to_async(live_call)(world, call_id="c1", line="101")
    socket, _ = await connected(world, "alice")
    async with FakeWorker(layer, world.cid) as worker:
        attempts = [
            {"command": "MakeCall", "targetAddress": INJECTION},
            {"command": "BlindTransferCall", "callId": "c1", "targetAddress": INJECTION},
            {"command": "DropCall", "callId": "c1\r\nAction: Command"},
            {"command": "SendDtmf", "callId": "c1", "digits": "1\r\n"},
        ]
        replies = [await command(socket, id=n, **a) for n, a in enumerate(attempts)]
        await asyncio.sleep(0.2)
    assert [reply["code"] for reply in replies] == ["invalid-input"] * 4
    assert worker.received == []
    await socket.disconnect()


async def test_number_outside_the_dial_pattern_is_invalid_number(world: World, layer: Any) -> None:
    socket, _ = await connected(world, "alice")
    async with FakeWorker(layer, world.cid) as worker:
        reply = await command(socket, id="x", command="MakeCall", targetAddress="call mom")
        await asyncio.sleep(0.1)
    assert reply["code"] == "invalid-number"
    assert worker.received == []
    await socket.disconnect()


async def test_bad_messages_get_error_replies_and_the_socket_stays_open(
    world: World, layer: Any
) -> None:
    socket, _ = await connected(world, "alice")
    bad = {
        "{not json": ("invalid-input", None),
        "[1, 2]": ("invalid-input", None),
        json.dumps({"command": "DropCall"}): ("invalid-input", None),
        json.dumps({"id": 1, "command": "ReformatDisk"}): ("unknown-command", 1),
        json.dumps({"id": 2, "command": "DropCall"}): ("invalid-input", 2),
        json.dumps({"id": 3, "command": "SetDnd", "enabled": "yes"}): ("invalid-input", 3),
        json.dumps({"id": 4, "command": "DropCall", "callId": "c", "x": 1}): ("invalid-input", 4),
        json.dumps({"id": 5, "command": "MakeCall", "targetAddress": "1" * 5000}): (
            "invalid-input",
            None,
        ),
    }
    for text, (code, client_id) in bad.items():
        await socket.send_to(text_data=text)
        reply = await socket.receive_json_from(timeout=5)
        assert (reply["ok"], reply["code"], reply["id"]) == (False, code, client_id), text
    await socket.send_to(bytes_data=b"\x00\x01")
    assert (await socket.receive_json_from(timeout=5))["code"] == "invalid-input"
    reply = await command(socket, id="still-here", command="QueryActiveCallSnapshot")
    assert reply == {
        "type": "result",
        "id": "still-here",
        "ok": True,
        "snapshot": [],
        "last_seq": {f"{world.cid}:101": 0},
    }
    await socket.disconnect()


async def test_a_flood_of_commands_is_rate_limited(world: World, layer: Any) -> None:
    with override_settings(CTI_COMMAND_RATE=0.01, CTI_COMMAND_BURST=3):
        socket, _ = await connected(world, "alice")
        for n in range(6):
            await socket.send_json_to({"id": n, "command": "Nope"})
        codes = [(await socket.receive_json_from(timeout=5))["code"] for _ in range(6)]
    assert codes == ["unknown-command"] * 3 + ["rate-limited"] * 3
    await socket.disconnect()


async def test_no_worker_answer_gives_timeout(world: World, layer: Any) -> None:
    socket, _ = await connected(world, "alice")
    with override_settings(CTI_COMMAND_TIMEOUT=0.3):
        reply = await command(socket, id="t", command="SetDnd", enabled=True)
    assert (reply["ok"], reply["code"]) == (False, "timeout")
    await socket.disconnect()


async def test_known_disconnected_pbx_gives_pbx_unreachable_at_once(
    world: World, layer: Any
) -> None:
    await sync_to_async(ConnectorStatus.objects.filter(connector=world.connector).update)(
        connected=False, last_error="Connection refused"
    )
    socket, _ = await connected(world, "alice")
    async with FakeWorker(layer, world.cid) as worker:
        reply = await command(socket, id="p", command="MakeCall", targetAddress="102")
        await asyncio.sleep(0.1)
    assert (reply["code"], reply["message"]) == ("pbx-unreachable", "Connection refused")
    assert worker.received == []
    await socket.disconnect()


async def test_a_late_final_result_is_relayed_with_the_same_id(world: World, layer: Any) -> None:
    socket, _ = await connected(world, "alice")
    async with FakeWorker(layer, world.cid) as worker:
        assert (await command(socket, id="o", command="MakeCall", targetAddress="5551234567"))["ok"]
        [run] = worker.received
        await layer.send(
            run["reply_to"],
            {
                "type": "command.result",
                "request_id": run["request_id"],
                "ok": False,
                "code": "pbx-error",
                "message": "the call could not be placed (Originate reason 5)",
                "final": True,
            },
        )
        late = await socket.receive_json_from(timeout=5)
    assert (late["id"], late["ok"], late["code"], late["final"]) == ("o", False, "pbx-error", True)
    await socket.disconnect()


async def test_dnd_becomes_the_lines_server_state_only_when_the_pbx_accepts(
    world: World, layer: Any
) -> None:
    from telephony.models import LineDnd

    socket, hello = await connected(world, "alice")
    assert hello["lines"][0]["dnd"] is False
    refused = {"ok": False, "code": "pbx-error", "message": "Interface not found"}
    async with FakeWorker(layer, world.cid, answer=refused):
        assert not (await command(socket, id=1, command="SetDnd", enabled=True))["ok"]
    assert not await LineDnd.objects.filter(enabled=True).aexists()
    async with FakeWorker(layer, world.cid):
        assert (await command(socket, id=2, command="SetDnd", enabled=True))["ok"]
    await socket.disconnect()
    socket, hello = await connected(world, "alice")
    assert hello["lines"][0]["dnd"] is True  # a reload, a new tab: the server remembers
    await socket.disconnect()


async def test_the_audit_reads_last_seq_once_per_connector_and_sees_a_lost_final_event(
    world: World, layer: Any
) -> None:
    """``QueryLastSeq`` (the panel's audit every 30 s) answers from one read per connector
    shared by every socket, so 10,000 panels cost no 333 snapshots a second; an event that
    was stored but never relayed (the lost RingFinished) shows in the next read, which the
    panel's audit compares with (static/telephony/js/sequence.js)."""
    alice, _ = await connected(world, "alice")
    bob, _ = await connected(world, "bob")
    carol, _ = await connected(world, "carol", "?supervise=1")
    with override_settings(CTI_LAST_SEQ_MAX_AGE=3600):
        first = await command(alice, id="a1", command="QueryLastSeq")
        assert first == {
            "type": "result",
            "id": "a1",
            "ok": True,
            "last_seq": {f"{world.cid}:101": 0},
        }
        record = await sync_to_async(live_call)(world, call_id="lost", line="101")
        await sync_to_async(CallEvent.objects.create)(
            record=record, connector=world.connector, line="101", seq=1, name="RingFinished",
            occurred_at=CALL_START, dedupe_key="RingFinished", payload={},
        )  # fmt: skip
        # Stored but never published: no socket's read of this hour sees it...
        for socket, who in ((alice, "a2"), (bob, "b1")):
            reply = await command(socket, id=who, command="QueryLastSeq")
            assert set(reply["last_seq"].values()) == {0}
        assert (await command(bob, id="b2", command="QueryLastSeq"))["last_seq"] == {
            f"{world.cid}:102": 0
        }
    # ...and once the read is older than CTI_LAST_SEQ_MAX_AGE, every socket's audit does.
    with override_settings(CTI_LAST_SEQ_MAX_AGE=0):
        reply = await command(alice, id="a3", command="QueryLastSeq")
        assert reply["last_seq"] == {f"{world.cid}:101": 1}
        supervising = await command(carol, id="c1", command="QueryLastSeq")
        assert supervising["last_seq"] == {f"{world.cid}:101": 1, f"{world.cid}:102": 0}
        assert "snapshot" not in supervising
    for socket in (alice, bob, carol):
        await socket.disconnect()
