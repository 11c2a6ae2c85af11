"""The worker end to end: the AMI test peer replays real captures over TCP into a running
``ConnectorRunner``; we assert the history rows and the messages on the layer's groups.

Runs on both channel layers (the ``channel_layers`` fixture) and on whichever database the
test pass configures (SQLite, then PostgreSQL in ``make test``'s second pass).
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer

from telephony.callmodel import CallModel
from telephony.connectors import connector_config
from telephony.groups import line_group, status_group, supervisor_group, worker_group
from telephony.models import (
    CallEvent,
    CallRecord,
    Connector,
    ConnectorStatus,
    Contact,
    Extension,
    WorkerLease,
)
from telephony.worker.leadership import DatabaseLease, FileLease
from telephony.worker.publisher import HeldEvents
from telephony.worker.recorder import Outgoing
from telephony.worker.runner import ConnectorRunner
from tests.factories import make_connector
from tests.support.ami_peer import AmiPeer, error, event_list, strip_greeting, success
from tests.support.replay import load_capture, timestamped_capture
from tests.support.tcp_proxy import running_proxy

pytestmark = [pytest.mark.django_db(transaction=True)]

HOLD_22 = "asterisk-22/b_inbound_answered_hold"
HOLD_11 = "asterisk-11/b_inbound_answered_hold"
KEY_EVENTS = ["RingStarted", "CommutationStarted", "PutHoldAction", "EndHoldAction", "RingFinished"]


def _setup_connector(port: int, dialect: str) -> Connector:
    connector: Connector = make_connector(port=port, dialect=dialect)
    tech = "SIP" if dialect == "11" else "PJSIP"
    for number in ("101", "102", "103"):
        Extension.objects.create(connector=connector, number=number, device=f"{tech}/{number}")
    return connector


@dataclasses.dataclass
class Worker:
    runner: ConnectorRunner
    peer: AmiPeer
    connector: Connector
    layer: Any
    task: asyncio.Task[Any]
    leftovers: dict[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)

    async def listen(self, *groups: str) -> str:
        channel: str = await self.layer.new_channel()
        for group in groups:
            await self.layer.group_add(group, channel)
        return channel

    async def messages_until(
        self, channel: str, predicate: Any, *, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """Layer messages, one per call event (``call.events`` lists are unpacked).

        What follows the matching item in the same batch waits for the next call.
        """
        received: list[dict[str, Any]] = []
        pending = self.leftovers.setdefault(channel, [])
        async with asyncio.timeout(timeout):
            while True:
                if not pending:
                    message = await self.layer.receive(channel)
                    pending.extend(
                        [{"type": "call.event", "event": e} for e in message["events"]]
                        if message.get("type") == "call.events"
                        else [message]
                    )
                item = pending.pop(0)
                received.append(item)
                if predicate(item):
                    return received

    async def command(
        self, *, times: int = 1, request_id: str | None = None, **command: Any
    ) -> dict[str, Any]:
        """Send a command (``times`` times, as a consumer resends one not yet acknowledged);
        the worker's acknowledgement comes first, then its result."""
        reply_to = await self.layer.new_channel()
        lines = command.pop("lines", ["101"])
        message = {
            "type": "command.run",
            "request_id": request_id or uuid.uuid4().hex,
            "reply_to": reply_to,
            "user_id": 1,
            "lines": lines,
            "command": command,
        }
        for _ in range(times):
            await self.layer.group_send(worker_group(self.connector.pk), message)
        async with asyncio.timeout(5):
            accepted = await self.layer.receive(reply_to)
            assert accepted == {"type": "command.accepted", "request_id": message["request_id"]}
            result: dict[str, Any] = await self.layer.receive(reply_to)
            while result == accepted:  # each copy is acknowledged (and done once)
                result = await self.layer.receive(reply_to)
        return result


async def start_worker(
    peer: AmiPeer, dialect: str, tmp_path: Path, *, port: int | None = None
) -> Worker:
    peer.answer("CoreShowChannels", event_list([], "CoreShowChannelsComplete"))
    connector = await sync_to_async(_setup_connector)(port or peer.port, dialect)
    config = await sync_to_async(connector_config)(connector)
    config = dataclasses.replace(config, ami=peer.config())
    layer = get_channel_layer()
    runner = ConnectorRunner(config, layer=layer, lease=FileLease(connector.pk, directory=tmp_path))
    task = asyncio.create_task(runner.run())
    await peer.wait_logged_in()
    await peer.wait_for_action("CoreShowChannels")
    async with asyncio.timeout(5):
        await runner.commands.ready.wait()
    return Worker(runner, peer, connector, layer, task)


@pytest.fixture
async def worker(
    ami_peer: AmiPeer, channel_layers: dict[str, Any], tmp_path: Path
) -> AsyncIterator[Worker]:
    running = await start_worker(ami_peer, "12", tmp_path)
    yield running
    running.runner.stop()
    await asyncio.wait_for(running.task, 10)


def names(messages: list[dict[str, Any]], line: str | None = None) -> list[str]:
    return [
        m["event"]["event"]
        for m in messages
        if m.get("type") == "call.event" and (line is None or m["event"]["line"] == line)
    ]


def is_finished(line: str) -> Any:
    def check(message: dict[str, Any]) -> bool:
        event = message.get("event") or {}
        return event.get("event") == "RingFinished" and event.get("line") == line

    return check


def only_key_events(sequence: list[str]) -> list[str]:
    return [name for name in sequence if name in KEY_EVENTS]


async def test_an_answered_held_call_is_saved_and_published_to_its_line(worker: Worker) -> None:
    line_101 = await worker.listen(line_group(worker.connector.pk, "101"))
    line_102 = await worker.listen(line_group(worker.connector.pk, "102"))
    supervisors = await worker.listen(supervisor_group(worker.connector.pk))

    # With the PBX's own timestamps (timestampevents=yes) a fast replay keeps real durations.
    await worker.peer.replay(timestamped_capture(HOLD_22))
    received = await worker.messages_until(line_101, is_finished("101"))

    assert only_key_events(names(received)) == KEY_EVENTS
    events = [m["event"] for m in received if m["event"].get("call_id")]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    # After each batch the line's CallFeaturesSet follows (Creatio's LineStateChanged):
    # once the call is over, the line can only dial.
    (after,) = await worker.messages_until(
        line_101, lambda m: m["event"]["event"] == "LineStateChanged"
    )
    assert (after["event"]["features"], after["event"]["calls"]) == (0x2, 0)
    assert after["event"]["seq"] == events[-1]["seq"]
    assert {e["call_id"] for e in events} == {events[0]["call_id"]}
    assert events[0]["caller_number"] == "+15551230001"
    assert events[-1]["disposition"] == "answered"
    seen_by_supervisor = await worker.messages_until(supervisors, is_finished("101"))
    assert names(seen_by_supervisor) == names(received)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await worker.layer.receive(line_102)

    record = await CallRecord.objects.aget(line="101")
    assert record.direction == "incoming"
    assert record.disposition == "answered"
    assert record.hold_count == 1
    assert 3 <= record.hold_seconds <= 7  # truth.md: 101 held for 5 s
    assert record.answered_at is not None and record.ended_at is not None
    stored = [e async for e in CallEvent.objects.filter(record=record).order_by("seq")]
    assert [e.name for e in stored] == [e["event"] for e in events]
    assert [e.payload for e in stored] == events


async def test_legacy_asterisk_11_call_gives_the_same_history(
    ami_peer: AmiPeer, channel_layers: dict[str, Any], tmp_path: Path
) -> None:
    worker = await start_worker(ami_peer, "11", tmp_path)
    try:
        line_101 = await worker.listen(line_group(worker.connector.pk, "101"))
        await worker.peer.replay(strip_greeting(load_capture(HOLD_11)))
        received = await worker.messages_until(line_101, is_finished("101"))
        assert only_key_events(names(received)) == KEY_EVENTS
        record = await CallRecord.objects.aget(line="101")
        assert (record.disposition, record.hold_count) == ("answered", 1)
    finally:
        worker.runner.stop()
        await asyncio.wait_for(worker.task, 10)


async def test_replaying_the_same_call_again_creates_no_duplicates(worker: Worker) -> None:
    line_101 = await worker.listen(line_group(worker.connector.pk, "101"))
    capture = strip_greeting(load_capture("asterisk-22/c_inbound_no_answer"))
    await worker.peer.replay(capture)
    first = await worker.messages_until(line_101, is_finished("101"))
    assert only_key_events(names(first)) == ["RingStarted", "RingFinished"]

    # A second worker process would rebuild its model from scratch: so does a new model.
    worker.runner.model = CallModel(
        worker.runner.tracker.lines, dialect="12", connector=str(worker.connector.pk)
    )
    await worker.peer.replay(capture)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(1.0):
            await worker.layer.receive(line_101)

    assert await CallRecord.objects.filter(line="101").acount() == 1
    record = await CallRecord.objects.aget(line="101")
    assert record.disposition == "missed"
    stored = [m for m in first if m["event"].get("call_id")]
    assert await CallEvent.objects.filter(record=record).acount() == len(stored)


def _live_part(name: str, before: str) -> bytes:
    """The capture up to (not including) the first ``before`` event: the call is live."""
    data = strip_greeting(load_capture(name))
    return data[: data.index(before.encode())]


async def test_hang_up_command_sends_hangup_for_the_operators_channel(worker: Worker) -> None:
    worker.peer.answer("Hangup", success("Channel Hungup"))
    line_101 = await worker.listen(line_group(worker.connector.pk, "101"))
    await worker.peer.replay(_live_part(HOLD_22, "Event: Hold\r\n"))
    received = await worker.messages_until(
        line_101, lambda m: m["event"]["event"] == "CommutationStarted"
    )
    call_id = received[0]["event"]["call_id"]

    result = await worker.command(verb="hang_up", line="101", call_id=call_id)

    assert result["ok"] is True, result
    action = await worker.peer.wait_for_action("Hangup")
    assert (action.get("Channel") or "").startswith("PJSIP/101-")
    assert action.action_id


async def test_a_command_sent_again_before_its_acknowledgement_is_carried_out_once(
    worker: Worker,
) -> None:
    """The consumer resends a command the worker has not acknowledged (its subscription may
    be coming back after a Redis restart): the same ``request_id`` acts on the PBX once."""
    worker.peer.answer("Hangup", success("Channel Hungup"))
    line_101 = await worker.listen(line_group(worker.connector.pk, "101"))
    await worker.peer.replay(_live_part(HOLD_22, "Event: Hold\r\n"))
    received = await worker.messages_until(
        line_101, lambda m: m["event"]["event"] == "CommutationStarted"
    )

    result = await worker.command(
        times=3, verb="hang_up", line="101", call_id=received[0]["event"]["call_id"]
    )

    assert result["ok"] is True, result
    await worker.peer.wait_for_action("Hangup")
    # A later command's answer: the copies before it on the worker group were handled.
    late = await worker.command(verb="hang_up", line="102", call_id="x", lines=["102"])
    assert late["ok"] is False
    assert worker.peer.action_names().count("Hangup") == 1, worker.peer.action_names()


async def test_asterisk_errors_come_back_with_asterisks_message(worker: Worker) -> None:
    worker.peer.answer("Hangup", error("No such channel"))
    line_101 = await worker.listen(line_group(worker.connector.pk, "101"))
    await worker.peer.replay(_live_part(HOLD_22, "Event: Hold\r\n"))
    received = await worker.messages_until(
        line_101, lambda m: m["event"]["event"] == "CommutationStarted"
    )

    result = await worker.command(
        request_id="r1", verb="hang_up", line="101", call_id=received[0]["event"]["call_id"]
    )

    assert result == {
        "type": "command.result",
        "request_id": "r1",
        "ok": False,
        "code": "pbx-error",
        "message": "No such channel",
    }


async def test_commands_on_other_lines_and_injections_never_reach_the_pbx(worker: Worker) -> None:
    line_101 = await worker.listen(line_group(worker.connector.pk, "101"))
    await worker.peer.replay(_live_part(HOLD_22, "Event: Hold\r\n"))
    received = await worker.messages_until(
        line_101, lambda m: m["event"]["event"] == "CommutationStarted"
    )
    call_id = received[0]["event"]["call_id"]
    before = len(worker.peer.actions)

    # operator_102 owns line 102 only; the call is on 101.
    foreign = await worker.command(verb="hang_up", line="101", call_id=call_id, lines=["102"])
    wrong_line = await worker.command(verb="hang_up", line="102", call_id=call_id, lines=["102"])
    injection = await worker.command(
        verb="blind_transfer",
        line="101",
        call_id=call_id,
        target="101\r\nAction: Command\r\nCommand: core stop now",
    )

    assert foreign["code"] == "not-your-call"
    assert wrong_line["code"] == "not-your-call"
    assert injection["code"] == "invalid-input"
    await asyncio.sleep(0.2)
    assert worker.peer.commanded(before) == []


async def test_make_call_originates_from_the_operators_device(worker: Worker) -> None:
    worker.peer.answer("Originate", success("Originate successfully queued"))

    result = await worker.command(verb="make_call", line="101", target="+15559870001")

    assert result["ok"] is True
    action = await worker.peer.wait_for_action("Originate")
    assert action.get("Channel") == "PJSIP/101"
    assert action.get("Exten") == "+15559870001"
    assert action.get("Context") == "from-internal"


async def test_calls_that_ended_while_disconnected_are_finished_on_resync(worker: Worker) -> None:
    line_101 = await worker.listen(line_group(worker.connector.pk, "101"))
    await worker.peer.replay(_live_part(HOLD_22, "Event: Hold\r\n"))
    await worker.messages_until(line_101, lambda m: m["event"]["event"] == "CommutationStarted")

    await worker.peer.drop(mid_packet=True)
    await worker.peer.wait_logged_in(sessions=2)
    await worker.messages_until(line_101, is_finished("101"))

    record = await CallRecord.objects.aget(line="101")
    assert record.ended_at is not None
    assert record.disposition == "answered"


async def test_status_row_follows_the_pbx_link(worker: Worker) -> None:
    async with asyncio.timeout(5):
        while not await ConnectorStatus.objects.filter(  # noqa: ASYNC110 - polls the database
            connector=worker.connector, connected=True
        ).aexists():
            await asyncio.sleep(0.05)
    status = await ConnectorStatus.objects.aget(connector=worker.connector)
    assert status.worker_host
    assert status.since is not None


async def test_the_caller_is_named_from_the_phone_book(worker: Worker) -> None:
    # Stored with other formatting than Asterisk sends (+15551230001): matched on digits.
    contact = await Contact.objects.acreate(
        name="Иван Петров", company="Ромашка", phones="+1 (555) 123-00-01, 8 800 1"
    )
    line_101 = await worker.listen(line_group(worker.connector.pk, "101"))

    await worker.peer.replay(strip_greeting(load_capture("asterisk-22/c_inbound_no_answer")))
    received = await worker.messages_until(line_101, is_finished("101"))

    first = received[0]["event"]
    assert first["event"] == "RingStarted"
    assert first["contact"] == {"id": contact.pk, "name": "Иван Петров", "company": "Ромашка"}
    record = await CallRecord.objects.aget(line="101")
    assert record.contact_id == contact.pk


def _listed(channel: str, unique_id: str, state: str, caller: tuple[str, str], **more: str) -> Any:
    """A ``CoreShowChannel`` item as Asterisk 22 lists a live channel."""
    return (
        ("Event", "CoreShowChannel"),
        ("Channel", channel),
        ("ChannelState", {"Ring": "4", "Ringing": "5", "Up": "6"}[state]),
        ("ChannelStateDesc", state),
        ("CallerIDNum", caller[0]),
        ("CallerIDName", caller[1]),
        ("Uniqueid", unique_id),
        ("Linkedid", "ctilab-1796038173.41"),
        *more.items(),
    )


async def test_a_call_still_ringing_at_reconnect_ends_with_its_real_outcome(
    worker: Worker,
) -> None:
    # The resync list is applied where it stands in the stream: the ringing call is live at
    # that point, so its Hangup just after the list gives the real outcome (missed), never a
    # guessed one for a call the history merely shows open.
    line_101 = await worker.listen(line_group(worker.connector.pk, "101"))
    capture = strip_greeting(load_capture("asterisk-22/c_inbound_no_answer"))
    cut = capture.index(b"Event: DialEnd\r\n")
    await worker.peer.replay(capture[:cut])
    await worker.messages_until(line_101, lambda m: m["event"]["event"] == "RingStarted")
    worker.peer.answer(
        "CoreShowChannels",
        event_list(
            [
                _listed(
                    "PJSIP/pstn-00000027",
                    "ctilab-1796038173.41",
                    "Ring",
                    ("+15551230001", "Customer"),
                ),
                _listed(
                    "PJSIP/101-00000028",
                    "ctilab-1796038173.42",
                    "Ringing",
                    ("101", "Operator Alice"),
                ),
            ],
            "CoreShowChannelsComplete",
        ),
    )

    await worker.peer.drop()
    await worker.peer.wait_logged_in(sessions=2)
    await worker.peer.wait_for_action("CoreShowChannels", count=2)
    await worker.peer.replay(capture[cut:])
    finished = await worker.messages_until(line_101, is_finished("101"))

    assert finished[-1]["event"]["disposition"] == "missed"
    record = await CallRecord.objects.aget(line="101")
    assert record.disposition == "missed"
    assert await CallEvent.objects.filter(record=record, name="RingFinished").acount() == 1
    assert [m["event"]["event"] for m in finished].count("RingStarted") == 0


# -- consultation: MakeConsultCall, TransferCall, CancelTransfer ----------------------------------


async def test_make_consult_call_sends_atxfer_on_the_operators_channel(worker: Worker) -> None:
    worker.peer.answer("Atxfer", success("Atxfer successfully queued"))
    line_101 = await worker.listen(line_group(worker.connector.pk, "101"))
    await worker.peer.replay(_live_part(HOLD_22, "Event: Hold\r\n"))
    received = await worker.messages_until(
        line_101, lambda m: m["event"]["event"] == "CommutationStarted"
    )
    call_id = received[0]["event"]["call_id"]

    result = await worker.command(
        verb="attended_transfer", line="101", call_id=call_id, target="102"
    )

    assert result["ok"] is True, result
    action = await worker.peer.wait_for_action("Atxfer")
    assert (action.get("Channel") or "").startswith("PJSIP/101-")
    assert (action.get("Context"), action.get("Exten")) == ("from-internal", "102")


@pytest.mark.parametrize("verb", ["complete_transfer", "cancel_transfer"])
async def test_complete_and_cancel_need_a_consultation_on_the_line(
    worker: Worker, verb: str
) -> None:
    line_101 = await worker.listen(line_group(worker.connector.pk, "101"))
    await worker.peer.replay(_live_part(HOLD_22, "Event: Hold\r\n"))
    received = await worker.messages_until(
        line_101, lambda m: m["event"]["event"] == "CommutationStarted"
    )
    before = len(worker.peer.actions)

    # One call on the line: hanging up either party would not be a transfer.
    result = await worker.command(verb=verb, line="101", call_id=received[0]["event"]["call_id"])

    assert result["code"] == "invalid-state", result
    await asyncio.sleep(0.2)
    assert worker.peer.commanded(before) == []


G_22 = "asterisk-22/g_attended_transfer"


async def _consulting_101(worker: Worker) -> tuple[str, str]:
    """g_attended_transfer up to 101's hangup: the caller held, 101 talks to 102. Returns the
    caller's call id and the consultation's, as line 101's panel received them."""
    line_101 = await worker.listen(line_group(worker.connector.pk, "101"))
    await worker.peer.replay(_live_part(G_22, "Event: HangupRequest\r\n"))
    received = await worker.messages_until(
        line_101,
        lambda m: (
            m["event"]["direction"] == "internal" and m["event"]["event"] == "CommutationStarted"
        ),
    )
    caller = received[0]["event"]["call_id"]
    consultation = received[-1]["event"]["call_id"]
    assert caller != consultation
    return caller, consultation


@pytest.mark.parametrize("on", ["caller", "consultation"])
async def test_transfer_call_completes_by_hanging_up_the_transferers_channel(
    worker: Worker, on: str
) -> None:
    worker.peer.answer("Hangup", success("Channel Hungup"))
    calls = dict(zip(["caller", "consultation"], await _consulting_101(worker), strict=True))

    result = await worker.command(verb="complete_transfer", line="101", call_id=calls[on])

    assert result["ok"] is True, result
    action = await worker.peer.wait_for_action("Hangup")
    assert action.get("Channel") == "PJSIP/101-00000021"


@pytest.mark.parametrize("on", ["caller", "consultation"])
async def test_cancel_transfer_hangs_up_the_consulted_party_never_the_caller(
    worker: Worker, on: str
) -> None:
    worker.peer.answer("Hangup", success("Channel Hungup"))
    calls = dict(zip(["caller", "consultation"], await _consulting_101(worker), strict=True))

    result = await worker.command(verb="cancel_transfer", line="101", call_id=calls[on])

    assert result["ok"] is True, result
    action = await worker.peer.wait_for_action("Hangup")
    assert action.get("Channel") in {
        "PJSIP/102-00000022",
        "Local/102@from-internal-00000000;1",
    }


async def test_a_deposed_leader_writes_nothing_and_logs_off(
    ami_peer: AmiPeer, settings: Any
) -> None:
    """Fencing (ADR 0003): a leader that lost its lease unawares is stopped by its next write."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    ami_peer.answer("CoreShowChannels", event_list([], "CoreShowChannelsComplete"))
    connector = await sync_to_async(_setup_connector)(ami_peer.port, "12")
    config = dataclasses.replace(
        await sync_to_async(connector_config)(connector), ami=ami_peer.config()
    )
    lease = DatabaseLease(connector.pk, ttl=30)
    # It never renews on its own (a process frozen past its TTL, as far as the others see).
    runner = ConnectorRunner(config, layer=get_channel_layer(), lease=lease, lease_interval=3600)
    task = asyncio.create_task(runner.run())
    usurper = DatabaseLease(connector.pk, ttl=30)
    try:
        await ami_peer.wait_for_action("CoreShowChannels")
        # Its resync's write renews the lease once: expire it until the usurper gets it.
        async with asyncio.timeout(5):
            while True:
                await WorkerLease.objects.filter(connector=connector).aupdate(
                    expires_at=datetime.now(tz=UTC) - timedelta(hours=1)
                )
                if await usurper.acquire():
                    break
                await asyncio.sleep(0.05)

        await ami_peer.replay(strip_greeting(load_capture("asterisk-22/c_inbound_no_answer")))
        summary = await asyncio.wait_for(task, 10)

        assert runner.deposed and summary.was_leader
        await ami_peer.wait_for_action("Logoff")
        assert await CallRecord.objects.acount() == 0
        assert await CallEvent.objects.acount() == 0
        lease_row = await WorkerLease.objects.aget(connector=connector)
        assert lease_row.token == usurper.token  # its release did not free the new lease
        # Nor did it announce "worker stopped" over the new leader's status.
        status = await ConnectorStatus.objects.aget(connector=connector)
        assert status.last_error != "worker stopped"
    finally:
        runner.stop()
        await asyncio.wait_for(task, 10)
        await usurper.release()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[int]:
    """A redis-server of this test's own on a free port (the shared one is never touched)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(tmp_path)]
    server = subprocess.Popen(  # noqa: S603 - a fixed command line
        command,
        stdout=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()
        yield port
    finally:
        server.terminate()
        server.wait(10)


async def test_a_redis_outage_costs_no_record_nor_the_pbx_session_and_held_events_follow(
    ami_peer: AmiPeer, own_redis: int
) -> None:
    """Redis unreachable for the worker (a proxy cut) for several lease TTLs: the worker
    keeps the PBX, saves every call, holds what it could not publish and, once Redis is back,
    publishes it in order and answers the next command."""
    ami_peer.answer("CoreShowChannels", event_list([], "CoreShowChannelsComplete"))
    ami_peer.answer("Originate", success("Originate successfully queued"))
    connector = await sync_to_async(_setup_connector)(ami_peer.port, "12")
    config = dataclasses.replace(
        await sync_to_async(connector_config)(connector), ami=ami_peer.config()
    )
    panels = RedisPubSubChannelLayer(hosts=[f"redis://127.0.0.1:{own_redis}/0"])
    async with running_proxy(own_redis) as proxy:
        layer = RedisPubSubChannelLayer(hosts=[f"redis://127.0.0.1:{proxy.port}/0"])
        ttl = 1.0
        runner = ConnectorRunner(config, layer=layer, lease=DatabaseLease(connector.pk, ttl=ttl))
        task = asyncio.create_task(runner.run())
        worker = Worker(runner, ami_peer, connector, panels, task)
        try:
            await ami_peer.wait_for_action("CoreShowChannels")
            async with asyncio.timeout(5):
                await runner.commands.ready.wait()
            line_101 = await worker.listen(line_group(connector.pk, "101"))

            proxy.cut()
            capture = strip_greeting(load_capture("asterisk-22/c_inbound_no_answer"))
            await ami_peer.replay(capture)
            await ami_peer.replay(capture.replace(b"ctilab-", b"second-"))
            async with asyncio.timeout(10):
                while await CallRecord.objects.filter(disposition="missed").acount() < 2:  # noqa: ASYNC110 - polls the database
                    await asyncio.sleep(0.05)
                while len(runner.held) == 0:  # noqa: ASYNC110 - the publish loop's state
                    await asyncio.sleep(0.05)
            # Three lease TTLs with Redis down: a Redis lease would have been lost by now.
            await asyncio.sleep(3 * ttl)
            assert not task.done()
            assert len(ami_peer.sessions) == 1
            assert "Logoff" not in [action.name for action in ami_peer.actions]

            proxy.restore()
            received = await worker.messages_until(line_101, is_finished("101"), timeout=15)
            received += await worker.messages_until(line_101, is_finished("101"), timeout=15)
            events = [m["event"] for m in received if m["event"].get("call_id")]
            assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
            first, second = events[0]["call_id"], events[-1]["call_id"]
            assert first != second
            assert [e["call_id"] for e in events] == sorted(
                (e["call_id"] for e in events), key=lambda call: call != first
            )
            async with asyncio.timeout(5):
                while len(runner.held):  # noqa: ASYNC110 - the publish loop's state
                    await asyncio.sleep(0.05)
            assert runner.held.dropped == 0

            result = await worker.command(verb="make_call", line="101", target="+15559870001")
            assert result["ok"] is True, result
        finally:
            runner.stop()
            await asyncio.wait_for(task, 15)
            await layer.flush()
            await panels.flush()


async def test_a_silent_pbx_link_is_announced_down_with_the_connectors_own_ping_settings(
    ami_peer: AmiPeer, channel_layers: dict[str, Any]
) -> None:
    """The connector row's ping interval and timeout reach the AMI client: a PBX that stops
    answering Pings is seen as down, and the panels' status group is told so."""
    ami_peer.answer("CoreShowChannels", event_list([], "CoreShowChannelsComplete"))
    connector = await sync_to_async(_setup_connector)(ami_peer.port, "12")
    connector.ping_interval = connector.ping_timeout = 0.5
    await connector.asave()
    config = await sync_to_async(connector_config)(connector)  # the row's own AMI settings
    assert (config.ami.ping_interval, config.ami.ping_timeout) == (0.5, 0.5)
    layer = get_channel_layer()
    panel = await layer.new_channel()
    await layer.group_add(status_group(connector.pk), panel)
    runner = ConnectorRunner(config, layer=layer, lease=DatabaseLease(connector.pk))
    task = asyncio.create_task(runner.run())
    try:
        await ami_peer.wait_for_action("Ping")
        ami_peer.answer_pings = False
        async with asyncio.timeout(10):
            while True:
                message = await layer.receive(panel)
                status = message["status"]
                if not status["connected"] and "Pong" in (status["last_error"] or ""):
                    break
        assert message["type"] == "connector.status"
        assert message["connector"] == connector.pk
    finally:
        runner.stop()
        await asyncio.wait_for(task, 10)


async def test_a_call_that_started_in_a_gap_keeps_the_pbxs_start_and_marks_its_answer_estimated(
    worker: Worker,
) -> None:
    """Reconnect: the resync list reveals a call answered while nobody read the stream. Its
    start comes from the PBX's ``Duration``; its answer time is only known to lie in the gap."""
    line_101 = await worker.listen(line_group(worker.connector.pk, "101"))
    bridge = ("BridgeId", "bridge-gap-1")
    worker.peer.answer(
        "CoreShowChannels",
        event_list(
            [
                _listed(
                    "PJSIP/pstn-00000027",
                    "ctilab-1796038173.41",
                    "Up",
                    ("+15551230001", "Customer"),
                    Duration="00:00:07",
                    BridgeId=bridge[1],
                ),
                _listed(
                    "PJSIP/101-00000028",
                    "ctilab-1796038173.42",
                    "Up",
                    ("101", "Operator Alice"),
                    Duration="00:00:06",
                    BridgeId=bridge[1],
                ),
            ],
            "CoreShowChannelsComplete",
        ),
    )
    await worker.peer.drop()
    await worker.peer.wait_logged_in(sessions=2)
    listed_at = time.time()  # the list is answered right after the login
    received = await worker.messages_until(
        line_101, lambda m: m["event"]["event"] == "CommutationStarted"
    )

    events = {m["event"]["event"]: m["event"] for m in received if m["event"].get("call_id")}
    assert "estimated" not in events["RingStarted"]
    assert events["CommutationStarted"]["estimated"] is True
    record = await CallRecord.objects.aget(line="101")
    assert abs(record.started_at.timestamp() - (listed_at - 6)) <= 1.0
    assert record.times_estimated
    stored = await CallEvent.objects.aget(record=record, name="CommutationStarted")
    assert stored.payload["estimated"] is True


async def test_a_queue_call_answered_in_a_gap_leaves_the_other_member_answered_elsewhere(
    worker: Worker,
) -> None:
    """Ring-all queue: 101 and 102 ring, the link drops, 102 answers meanwhile. The resync
    list shows the caller bridged with 102; 101 must end answered-elsewhere, not failed."""
    line_101 = await worker.listen(line_group(worker.connector.pk, "101"))
    capture = strip_greeting(load_capture("asterisk-22/e_queue_ringall"))
    answered = capture.index(b"Channel: PJSIP/102-0000002e\r\nChannelState: 6\r\n")
    cut = capture.rindex(b"Event: Newstate\r\n", 0, answered)  # just before 102 answers
    await worker.peer.replay(capture[:cut])
    await worker.messages_until(line_101, lambda m: m["event"]["event"] == "RingStarted")
    linked = {"Linkedid": "ctilab-1796038205.46", "BridgeId": "bridge-queue-gap"}
    worker.peer.answer(
        "CoreShowChannels",
        event_list(
            [
                _listed(
                    "PJSIP/pstn-0000002c",
                    "ctilab-1796038205.46",
                    "Up",
                    ("+15551230001", "Customer"),
                    Duration="00:00:09",
                    **linked,
                ),
                _listed(
                    "PJSIP/102-0000002e",
                    "ctilab-1796038206.48",
                    "Up",
                    ("102", "Operator Bob"),
                    Duration="00:00:08",
                    **linked,
                ),
            ],
            "CoreShowChannelsComplete",
        ),
    )

    await worker.peer.drop()
    await worker.peer.wait_logged_in(sessions=2)
    finished = await worker.messages_until(line_101, is_finished("101"))

    assert finished[-1]["event"]["disposition"] == "answered-elsewhere"
    assert finished[-1]["event"]["estimated"] is True
    async with asyncio.timeout(5):
        while not await CallRecord.objects.filter(  # noqa: ASYNC110 - polls the database
            line="102", answered_at__isnull=False
        ).aexists():
            await asyncio.sleep(0.05)
    record = await CallRecord.objects.aget(line="101")
    assert record.disposition == "answered-elsewhere"
    assert record.times_estimated


def test_held_events_drop_only_the_oldest_and_only_past_their_bound() -> None:
    held = HeldEvents(limit=5)
    batches = [[Outgoing("101", {"seq": n * 2 + i}) for i in range(2)] for n in range(4)]
    for batch in batches[:2]:
        held.add(batch)
    assert (len(held), held.dropped) == (4, 0)

    for batch in batches[2:]:
        held.add(batch)

    assert (len(held), held.dropped) == (4, 4)  # two whole batches went, oldest first
    assert held.first() is batches[2]
    held.pop_first()
    assert held.first() is batches[3]
