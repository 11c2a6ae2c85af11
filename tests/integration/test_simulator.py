"""The simulated PBX against our own AMI client and call model, over real TCP.

Each test starts a ``Simulator`` on an ephemeral port with its clock shrunk (``time_scale``),
connects ``AmiClient`` to it, feeds what arrives through ``DialectReader`` and
``CallTracker`` exactly as the worker does, and checks the call events each scenario must
give an operator's panel, in both the Asterisk 22 and the Asterisk 11 dialect.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from telephony.ami import (
    AmiActionFailed,
    AmiClient,
    AmiConfig,
    AmiLoginFailed,
    AmiParser,
    Event,
    Greeting,
    MalformedPacket,
    Response,
    make_action,
)
from telephony.callmodel import CallTracker, DialectReader, FinishedCall, LineEvent
from telephony.simulator import CUSTOMERS, Call, Channel, Kind, Party, Simulator
from telephony.simulator.pbx import OUTBOUND_CLI
from telephony.simulator.scenarios import Plan
from tests.support.replay import FIXTURES

LINES = ["101", "102"]
DIALECTS = ["22", "11"]
#: 1/100 of real time: a 10 s call lasts 0.1 s.
FAST = 0.01
WAIT = 5.0
IVAN = Party("+15551230002", "Иван Петров")


class Panel:
    """What the worker sees: AMI events -> facts -> call events and finished records."""

    def __init__(self, client: AmiClient, dialect: str) -> None:
        self.client = client
        self.reader = DialectReader(dialect)
        self.tracker = CallTracker(LINES, connector="1")
        self.ami: list[Event] = []
        self.calls: list[LineEvent] = []
        self.records: list[FinishedCall] = []
        self._changed = asyncio.Condition()

    async def run(self) -> None:
        async for event in self.client.events():
            self.ami.append(event)
            for fact in self.reader.read(event, time.time()):
                self.calls.extend(self.tracker.apply(fact))
            self.records.extend(self.tracker.take_records())
            async with self._changed:
                self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], bool], seconds: float = WAIT) -> None:
        async with asyncio.timeout(seconds), self._changed:
            await self._changed.wait_for(predicate)

    async def wait_records(self, count: int) -> None:
        await self.wait_for(lambda: len(self.records) >= count)

    def names(self, line: str) -> list[str]:
        return [event.name for event in self.calls if event.line == line]

    def wire(self, line: str, name: str) -> dict[str, Any]:
        return next(e.to_wire() for e in self.calls if e.line == line and e.name == name)

    def disposition(self, line: str) -> str:
        return next(str(r.disposition) for r in self.records if r.line == line)

    def ami_named(self, name: str) -> list[Event]:
        return [event for event in self.ami if event.name == name]


def config(simulator: Simulator, **overrides: Any) -> AmiConfig:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": simulator.port,
        "username": "cti",
        "secret": "cti",
        "connect_timeout": 1.0,
        "action_timeout": 2.0,
        "ping_interval": 30.0,
        "backoff_initial": 0.05,
        "backoff_max": 0.1,
    }
    values.update(overrides)
    return AmiConfig(**values)


@contextlib.asynccontextmanager
async def connected(
    dialect: str, *, time_scale: float = FAST, **options: Any
) -> AsyncIterator[tuple[Simulator, AmiClient, Panel]]:
    """A started simulator (no schedule unless asked), a logged-in client and its panel."""
    options.setdefault("schedule", False)
    simulator = Simulator(
        port=0, dialect=dialect, lines=LINES, seed=7, time_scale=time_scale, **options
    )
    await simulator.start()
    client = AmiClient(config(simulator))
    panel = Panel(client, simulator.dialect)
    runner = asyncio.create_task(client.run())
    reader = asyncio.create_task(panel.run())
    try:
        await client.wait_connected(timeout=WAIT)
        yield simulator, client, panel
    finally:
        client.stop()
        async with asyncio.timeout(WAIT):
            await runner
            await reader
        await simulator.stop()


async def hang_up_when_102_talks(client: AmiClient, panel: Panel, channel: str) -> None:
    """Cut the call short once 102 is connected (the customer hangs up, via AMI)."""
    await panel.wait_for(lambda: "CommutationStarted" in panel.names("102"))
    await client.send_action("Hangup", [("Channel", channel)])


async def finish(simulator: Simulator, call_finished: asyncio.Event) -> None:
    async with asyncio.timeout(WAIT):
        await call_finished.wait()
    assert simulator.live_channels() == []


# -- scenarios ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_inbound_answered_call_rings_connects_and_finishes_answered(dialect: str) -> None:
    async with connected(dialect) as (simulator, _client, panel):
        call = await simulator.start_call(Kind.INBOUND, "101", customer=IVAN)
        await finish(simulator, call.finished)
        await panel.wait_records(1)
    assert panel.names("101") == ["RingStarted", "CommutationStarted", "RingFinished"]
    assert panel.names("102") == []
    ring = panel.wire("101", "RingStarted")
    assert (ring["direction"], ring["caller_number"], ring["callee_number"]) == (
        "incoming",
        "+15551230002",
        "101",
    )
    assert panel.records[0].caller_name == "Иван Петров"
    assert panel.disposition("101") == "answered"


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_operator_hold_is_reported_as_put_and_end_hold(dialect: str) -> None:
    async with connected(dialect) as (simulator, _client, panel):
        call = await simulator.start_call(Kind.HOLD, "101")
        await finish(simulator, call.finished)
        await panel.wait_records(1)
    assert panel.names("101") == [
        "RingStarted",
        "CommutationStarted",
        "PutHoldAction",
        "EndHoldAction",
        "RingFinished",
    ]
    assert panel.wire("101", "PutHoldAction")["held_by"] == "line"
    assert panel.records[0].hold_count == 1


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_unanswered_call_finishes_missed(dialect: str) -> None:
    async with connected(dialect) as (simulator, _client, panel):
        call = await simulator.start_call(Kind.MISSED, "102")
        await finish(simulator, call.finished)
        await panel.wait_records(1)
    assert panel.names("102") == ["RingStarted", "RingFinished"]
    assert panel.disposition("102") == "missed"


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_busy_phone_finishes_busy_with_cause_17(dialect: str) -> None:
    async with connected(dialect) as (simulator, _client, panel):
        call = await simulator.start_call(Kind.BUSY, "101")
        await finish(simulator, call.finished)
        await panel.wait_records(1)
    assert panel.disposition("101") == "busy"
    assert {event["Cause"] for event in panel.ami_named("Hangup")} == {"17"}


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_queue_rings_all_one_answers_the_other_is_answered_elsewhere(dialect: str) -> None:
    async with connected(dialect) as (simulator, _client, panel):
        call = await simulator.start_call(Kind.QUEUE, "102")
        await finish(simulator, call.finished)
        await panel.wait_records(2)
    assert panel.names("101") == ["RingStarted", "RingFinished"]
    assert panel.names("102") == ["RingStarted", "CommutationStarted", "RingFinished"]
    assert panel.disposition("101") == "answered-elsewhere"
    assert panel.disposition("102") == "answered"
    assert panel.wire("101", "RingStarted")["queue"] == "support"
    lost = [
        e for e in panel.ami_named("Hangup") if e["Channel"].startswith(("PJSIP/101", "SIP/101"))
    ]
    assert [e["Cause"] for e in lost] == ["26"]


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_transfer_scenario_moves_the_call_from_101_to_102(dialect: str) -> None:
    async with connected(dialect) as (simulator, _client, panel):
        call = await simulator.start_call(Kind.TRANSFER, "101", to="102")
        await finish(simulator, call.finished)
        await panel.wait_records(2)
    assert panel.names("102") == ["RingStarted", "CommutationStarted", "RingFinished"]
    assert panel.disposition("101") == "transferred"
    assert panel.disposition("102") == "answered"
    if dialect == "22":
        assert panel.names("101") == [
            "RingStarted",
            "CommutationStarted",
            "CallTransferred",
            "RingFinished",
        ]
        assert panel.wire("101", "CallTransferred")["transferred_to"] == "102"
        assert panel.wire("101", "RingFinished")["disposition"] == "transferred"
        (transfer,) = panel.ami_named("BlindTransfer")
        assert transfer["Extension"] == "102"
    else:
        # Asterisk 11 announces no transfer: 101's call just ends, and its record is set
        # right (transferred) once the customer reaches 102.
        assert panel.names("101") == ["RingStarted", "CommutationStarted", "RingFinished"]


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_outbound_call_from_the_phone_is_outgoing_to_the_customer(dialect: str) -> None:
    async with connected(dialect) as (simulator, _client, panel):
        call = await simulator.start_call(Kind.OUTBOUND, "102", to="+15559870003")
        await finish(simulator, call.finished)
        await panel.wait_records(1)
    ring = panel.wire("102", "RingStarted")
    assert (ring["direction"], ring["callee_number"]) == ("outgoing", "+15559870003")
    assert panel.disposition("102") == "answered"


# -- actions from the CTI ---------------------------------------------------------------------


def originate(channel: str, number: str) -> Any:
    return make_action(
        "Originate",
        [
            ("Channel", channel),
            ("Context", "from-internal"),
            ("Exten", number),
            ("Priority", "1"),
            ("CallerID", f'"{number}" <{number}>'),
            ("Timeout", "30000"),
            ("Async", "true"),
        ],
    )


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_originate_rings_the_operator_then_calls_the_customer(dialect: str) -> None:
    device = "PJSIP/101" if dialect == "22" else "SIP/101"
    async with connected(dialect) as (simulator, client, panel):
        action = originate(device, "+15559870001")
        response = await client.send_action(action)
        assert response.message == "Originate successfully queued"
        await panel.wait_records(1)
        assert simulator.live_channels() == []
        assert [a.name for a in simulator.actions] == ["Login", "Originate"]
    (done,) = panel.ami_named("OriginateResponse")
    assert (done["Response"], done["Reason"], done.action_id) == ("Success", "4", action.action_id)
    assert panel.names("101") == ["RingStarted", "CommutationStarted", "RingFinished"]
    ring = panel.wire("101", "RingStarted")
    assert (ring["direction"], ring["callee_number"]) == ("outgoing", "+15559870001")
    assert panel.disposition("101") == "answered"


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_originate_to_a_colleague_is_internal_on_both_lines_naming_the_phones(
    dialect: str,
) -> None:
    device = "PJSIP/101" if dialect == "22" else "SIP/101"
    async with connected(dialect) as (simulator, client, panel):
        await client.send_action(originate(device, "102"))
        await panel.wait_records(2)
        assert simulator.live_channels() == []
    # The colleague's phone is dialled with the Originate's caller ID, never the trunk's CLI.
    dialled = [
        e
        for e in panel.ami
        if e.name in ("Newchannel", "NewCallerid", "NewConnectedLine", "Newstate")
        and (e.get("Channel") or "").startswith(("PJSIP/102", "SIP/102"))
    ]
    assert dialled and all(e.get("ConnectedLineNum") != OUTBOUND_CLI for e in dialled)
    # 101's phone rings for the Originate first (outgoing, nobody known yet); once it dials
    # the colleague its call is internal and names them.
    assert panel.names("101") == [
        "RingStarted",
        "CallInfoChanged",
        "CommutationStarted",
        "RingFinished",
    ]
    assert panel.names("102") == ["RingStarted", "CommutationStarted", "RingFinished"]
    for line, other in (("101", "102"), ("102", "101")):
        talk = panel.wire(line, "CommutationStarted")
        assert (talk["direction"], panel.wire(line, "RingFinished")["direction"]) == (
            "internal",
            "internal",
        )
        assert other in (talk["caller_number"], talk["callee_number"])
        assert panel.disposition(line) == "answered"
    assert panel.wire("102", "RingStarted")["direction"] == "internal"
    assert panel.wire("102", "RingStarted")["caller_name"] == simulator.pbx.operator_name("101")
    assert panel.wire("101", "CommutationStarted")["callee_name"] == (
        simulator.pbx.operator_name("102")
    )


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_originate_from_an_unknown_device_fails_with_reason_0(dialect: str) -> None:
    device = "PJSIP/103" if dialect == "22" else "SIP/103"
    async with connected(dialect) as (simulator, client, panel):
        await client.send_action(originate(device, "+15559870001"))
        await panel.wait_for(lambda: bool(panel.ami_named("OriginateResponse")))
        assert simulator.live_channels() == []
    (failed,) = panel.ami_named("OriginateResponse")
    assert (failed["Response"], failed["Reason"]) == ("Failure", "0")
    assert panel.calls == []


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_hangup_action_on_the_operator_channel_ends_a_live_call(dialect: str) -> None:
    async with connected(dialect, time_scale=0.2) as (simulator, client, panel):
        call = await simulator.start_call(Kind.INBOUND, "101")
        await panel.wait_for(lambda: "CommutationStarted" in panel.names("101"))
        operator = call.operator_channel("101")
        assert operator is not None
        response = await client.send_action("Hangup", [("Channel", operator.name)])
        assert response.message == "Channel Hungup"
        await finish(simulator, call.finished)
        await panel.wait_records(1)
    assert panel.names("101") == ["RingStarted", "CommutationStarted", "RingFinished"]
    assert panel.disposition("101") == "answered"
    hangups = panel.ami_named("Hangup")
    assert {e["Channel"] for e in hangups} == {c.name for c in call.channels}
    if dialect == "22":
        assert next(e["Channel"] for e in panel.ami_named("BridgeLeave")) == operator.name


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_cti_blind_transfer_action_moves_the_call_to_102(dialect: str) -> None:
    async with connected(dialect, time_scale=0.2) as (simulator, client, panel):
        call = await simulator.start_call(Kind.INBOUND, "101")
        await panel.wait_for(lambda: "CommutationStarted" in panel.names("101"))
        operator, customer = call.operator_channel("101"), call.customer_channel()
        assert operator is not None and customer is not None
        if dialect == "22":
            fields = [("Channel", operator.name), ("Context", "from-internal"), ("Exten", "102")]
            response = await client.send_action("BlindTransfer", fields)
            assert response.message == "Transfer succeeded"
        else:
            # Asterisk 11 has no BlindTransfer: the worker redirects the customer instead.
            fields = [("Channel", customer.name), ("Context", "from-internal"), ("Exten", "102")]
            fields.append(("Priority", "1"))
            response = await client.send_action("Redirect", fields)
            assert response.message == "Redirect successful"
        await hang_up_when_102_talks(client, panel, customer.name)
        await finish(simulator, call.finished)
        await panel.wait_records(2)
    assert panel.names("102") == ["RingStarted", "CommutationStarted", "RingFinished"]
    assert panel.disposition("101") == "transferred"
    assert panel.disposition("102") == "answered"


async def test_blind_transfer_is_an_unknown_command_on_asterisk_11() -> None:
    async with connected("11") as (_simulator, client, _panel):
        with pytest.raises(AmiActionFailed) as failure:
            await client.send_action("BlindTransfer", [("Channel", "SIP/101-00000001")])
    assert failure.value.response.message.startswith("Invalid/unknown command: BlindTransfer.")


@pytest.mark.parametrize(("dialect", "notify"), [("22", "PJSIPNotify"), ("11", "SIPnotify")])
async def test_phone_notify_hold_and_talk_hold_and_resume_the_call(
    dialect: str, notify: str
) -> None:
    target = ("Endpoint", "101") if dialect == "22" else ("Channel", "SIP/101")
    async with connected(dialect, time_scale=0.5) as (simulator, client, panel):
        call = await simulator.start_call(Kind.INBOUND, "101")
        await panel.wait_for(lambda: "CommutationStarted" in panel.names("101"))
        await client.send_action(notify, [target, ("Variable", "Event=hold")])
        await panel.wait_for(lambda: "PutHoldAction" in panel.names("101"))
        await client.send_action(notify, [target, ("Variable", "Event=talk")])
        await panel.wait_for(lambda: "EndHoldAction" in panel.names("101"))
        operator = call.operator_channel("101")
        assert operator is not None
        await client.send_action("Hangup", [("Channel", operator.name)])
        await finish(simulator, call.finished)
    assert panel.names("101")[2:4] == ["PutHoldAction", "EndHoldAction"]


async def test_talk_notify_answers_a_ringing_phone() -> None:
    async with connected("22", time_scale=1.0) as (simulator, client, panel):
        call = await simulator.start_call(Kind.INBOUND, "102")
        await panel.wait_for(lambda: "RingStarted" in panel.names("102"))
        await client.send_action("PJSIPNotify", [("Endpoint", "102"), ("Variable", "Event=talk")])
        await panel.wait_for(lambda: "CommutationStarted" in panel.names("102"), seconds=1.0)
        customer = call.customer_channel()
        assert customer is not None
        await client.send_action("Hangup", [("Channel", customer.name)])
        await finish(simulator, call.finished)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_core_show_channels_lists_exactly_the_live_channels(dialect: str) -> None:
    async with connected(dialect, time_scale=0.5) as (simulator, client, panel):
        first = await simulator.start_call(Kind.HOLD, "101")
        second = await simulator.start_call(Kind.QUEUE, "102")
        await panel.wait_for(lambda: "CommutationStarted" in panel.names("101"))
        response, items = await client.collect_list("CoreShowChannels")
        listed = {item["Channel"] for item in items}
        live = {channel.name for channel in simulator.live_channels()}
        assert response.message == "Channels will follow"
        assert listed == live
        assert len(listed) >= 4
        created = {e["Channel"] for e in panel.ami_named("Newchannel")}
        gone = {e["Channel"] for e in panel.ami_named("Hangup")}
        assert listed == created - gone
        await simulator.stop()  # hangs up what is live, then closes the sessions
    assert first.finished.is_set() and second.finished.is_set()


async def test_status_of_an_unknown_channel_is_an_error() -> None:
    async with connected("22") as (_simulator, client, _panel):
        with pytest.raises(AmiActionFailed) as failure:
            await client.send_action("Status", [("Channel", "PJSIP/101-deadbeef")])
    assert failure.value.response.message == "No such channel"


# -- the protocol itself -----------------------------------------------------------------------


async def raw_session(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def read_packets(reader: asyncio.StreamReader, parser: AmiParser, until: bytes) -> list[Any]:
    data = b""
    async with asyncio.timeout(WAIT):
        while until not in data:
            chunk = await reader.read(65536)
            if not chunk:
                break
            data += chunk
    return parser.feed(data)


async def test_actions_before_login_are_denied_and_a_bad_secret_closes_the_socket() -> None:
    simulator = Simulator(port=0, schedule=False)
    async with simulator:
        reader, writer = await raw_session(simulator.port)
        parser = AmiParser()
        writer.write(b"Action: Ping\r\nActionID: p1\r\n\r\n")
        packets = await read_packets(reader, parser, b"Permission denied")
        assert isinstance(packets[0], Greeting)
        assert packets[0].text == "Asterisk Call Manager/11.0.0"
        assert isinstance(packets[1], Response) and packets[1].message == "Permission denied"
        writer.write(b"Action: Login\r\nActionID: l1\r\nUsername: cti\r\nSecret: nope\r\n\r\n")
        packets = await read_packets(reader, parser, b"Authentication failed")
        assert packets[0].message == "Authentication failed"
        async with asyncio.timeout(WAIT):
            assert await reader.read() == b""  # closed, as Asterisk does
        writer.close()
        refused = AmiClient(config(simulator, secret="wrong"))
        with pytest.raises(AmiLoginFailed):
            async with asyncio.timeout(WAIT):
                await refused.run()


async def test_md5_challenge_login_and_unknown_action_answer() -> None:
    async with Simulator(port=0, schedule=False, secret="s3cret") as simulator:
        reader, writer = await raw_session(simulator.port)
        parser = AmiParser()
        writer.write(b"Action: Challenge\r\nActionID: c1\r\nAuthType: MD5\r\n\r\n")
        (_greeting, challenge) = await read_packets(reader, parser, b"Challenge: ")
        key = hashlib.md5(f"{challenge['Challenge']}s3cret".encode(), usedforsecurity=False)
        login = "Action: Login\r\nActionID: l1\r\nAuthType: MD5\r\nUsername: cti\r\n"
        writer.write(f"{login}Key: {key.hexdigest()}\r\n\r\n".encode())
        packets = await read_packets(reader, parser, b"Fully Booted")
        assert packets[0].message == "Authentication accepted"
        writer.write(b"Action: NoSuchAction\r\nActionID: u1\r\n\r\n")
        (unknown,) = await read_packets(reader, parser, b"ListCommands")
        assert unknown.message == (
            "Invalid/unknown command: NoSuchAction. "
            "Use Action: ListCommands to show available commands."
        )
        writer.write(b"Action: Logoff\r\nActionID: o1\r\n\r\n")
        (goodbye,) = await read_packets(reader, parser, b"fish")
        assert goodbye.status == "Goodbye"
        writer.close()


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_every_scenario_is_well_formed_and_leaves_no_channel_behind(dialect: str) -> None:
    """All scenarios at once on a raw socket: no packet our parser calls malformed, and
    every channel that was created was hung up."""
    async with Simulator(port=0, dialect=dialect, schedule=False, seed=3, time_scale=FAST) as sim:
        reader, writer = await raw_session(sim.port)
        writer.write(b"Action: Login\r\nActionID: 1\r\nUsername: cti\r\nSecret: cti\r\n\r\n")
        parser = AmiParser()
        packets = await read_packets(reader, parser, b"Fully Booted\r\n\r\n")
        calls = [await sim.start_call(kind, "101") for kind in Kind]
        calls.append(await sim.start_call(Kind.QUEUE, "102", customer=CUSTOMERS[3]))
        async with asyncio.timeout(WAIT):
            for call in calls:
                await call.finished.wait()
        writer.write(b"Action: Ping\r\nActionID: last\r\n\r\n")
        packets += await read_packets(reader, parser, b"ActionID: last")
        writer.close()
    assert not [p for p in packets if isinstance(p, MalformedPacket)]
    events = [p for p in packets if isinstance(p, Event)]
    created = {e["Uniqueid"] for e in events if e.name == "Newchannel"}
    hung_up = {e["Uniqueid"] for e in events if e.name == "Hangup"}
    assert created and created == hung_up
    assert sim.live_channels() == []
    if dialect == "11":
        assert not any("Linkedid" in e for e in events)
        assert {"Dial", "Bridge", "Join", "Leave"} <= {e.name for e in events}
    else:
        assert all(e["Linkedid"].startswith("sim-") for e in events if e.name == "Newchannel")
        assert {"DialBegin", "BridgeEnter", "QueueCallerJoin", "AgentConnect"} <= {
            e.name for e in events
        }


# -- the schedule -------------------------------------------------------------------------------


def test_the_same_seed_picks_the_same_calls() -> None:
    def picks(seed: int) -> list[Any]:
        simulator = Simulator(port=0, seed=seed, lines=["101", "102", "103"])
        assert simulator.schedule is not None
        return [
            (simulator.schedule.pick(), simulator.scenarios.customer(), simulator.scenarios.plan())
            for _ in range(30)
        ]

    assert picks(42) == picks(42)
    assert picks(42) != picks(43)
    assert len({kind for (kind, _line), _c, _p in picks(42)}) >= 5


async def test_schedule_starts_calls_on_its_own() -> None:
    async with connected("22", schedule=True, every=0.05) as (simulator, _client, panel):
        await panel.wait_for(lambda: len(panel.records) >= 3)
        assert simulator.calls_started >= 3


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="dialect"):
        Simulator(dialect="99")
    with pytest.raises(ValueError, match="line"):
        Simulator(lines=[])
    with pytest.raises(ValueError, match="rate"):
        Simulator(rate=0)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_park_redirect_back_and_member_actions_are_answered(dialect: str) -> None:
    device = "PJSIP/101" if dialect == "22" else "SIP/101"
    async with connected(dialect, time_scale=0.2) as (simulator, client, panel):
        paused = await client.send_action("QueuePause", [("Interface", device), ("Paused", "true")])
        assert paused.message == "Interface paused successfully"
        await client.send_action("DBPut", [("Family", "DND"), ("Key", "101"), ("Val", "YES")])
        deleted = await client.send_action("DBDel", [("Family", "DND"), ("Key", "101")])
        assert deleted.message == "Key deleted successfully"
        call = await simulator.start_call(Kind.INBOUND, "101")
        await panel.wait_for(lambda: "CommutationStarted" in panel.names("101"))
        operator, customer = call.operator_channel("101"), call.customer_channel()
        assert operator is not None and customer is not None
        dtmf = await client.send_action("PlayDTMF", [("Channel", operator.name), ("Digit", "5")])
        assert dtmf.message == "DTMF successfully queued"
        parker = "TimeoutChannel" if dialect == "22" else "Channel2"
        await client.send_action("Park", [("Channel", customer.name), (parker, operator.name)])
        await panel.wait_for(lambda: "PutHoldAction" in panel.names("101"))
        back = [("Channel", customer.name), ("Context", "from-internal"), ("Exten", "101")]
        await client.send_action("Redirect", [*back, ("Priority", "1")])
        await panel.wait_for(lambda: "EndHoldAction" in panel.names("101"))
        await client.send_action("Hangup", [("Channel", customer.name)])
        await finish(simulator, call.finished)
        await panel.wait_records(1)
    assert panel.disposition("101") == "answered"
    assert panel.ami_named("QueueMemberPause" if dialect == "22" else "QueueMemberPaused")


# -- attended transfer (AMI Atxfer) --------------------------------------------------------------

G_CAPTURE = FIXTURES / "asterisk-22" / "g_attended_transfer" / "events.jsonl"
#: Events the comparison leaves out: dialplan and RTP noise, device and member states.
NOISE = {"VarSet", "Newexten", "RTCPSent", "DeviceStateChange", "QueueMemberStatus"}


def role(channel: str) -> str:
    """What a channel is in the consultation, the same in the capture and the simulator."""
    for mark, name in (("pstn", "customer"), (";1", "local1"), (";2", "local2")):
        if mark in channel:
            return name
    return {"101": "transferer", "102": "target"}.get(
        channel.rsplit("/", maxsplit=1)[-1][:3], channel
    )


def shape(events: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """From the first feature digit to the transferer's Hangup, as (event, role) pairs."""
    start = next(i for i, (name, _) in enumerate(events) if name == "DTMFEnd")
    end = next(i for i, item in enumerate(events) if item == ("Hangup", "transferer"))
    return events[start : end + 1]


def capture_events() -> list[tuple[str, str]]:
    pairs = []
    with G_CAPTURE.open(encoding="utf-8") as lines:
        for line in lines:
            packet = json.loads(line)
            fields = dict(packet["fields"])
            if packet["kind"] == "event" and fields["Event"] not in NOISE:
                who = fields.get("Channel") or fields.get("DestChannel") or ""
                pairs.append((fields["Event"], role(who) if who else "-"))
    return pairs


def simulated(panel: Panel) -> list[tuple[str, str]]:
    pairs = []
    for event in panel.ami:
        who = event.get("Channel") or event.get("DestChannel") or ""
        pairs.append((event.name, role(who) if who else "-"))
    return pairs


def consulting(simulator: Simulator, ring: float = 1.0) -> None:
    """The consulted colleague answers after ``ring`` seconds; nobody else ends a call."""
    plan = Plan(ring=ring, talk=600.0, hold_after=60.0, hold=60.0, far_end_ring=1.0)
    # Deliberate: a fixed plan instead of the seeded dice, so only the test ends the call.
    simulator.scenarios.plan = lambda rng=None: plan  # type: ignore[method-assign]


async def consult_102(
    simulator: Simulator, client: AmiClient, panel: Panel
) -> tuple[Call, Channel, Channel]:
    """101 answers a customer and consults 102 by AMI ``Atxfer``; returns the call, the
    operator's and the customer's channel."""
    call = await simulator.start_call(Kind.INBOUND, "101", customer=IVAN)
    await panel.wait_for(
        lambda: (call.operator_channel("101") or customer_alone).bridge is not None
    )
    operator, customer = call.operator_channel("101"), call.customer_channel()
    assert operator is not None and customer is not None
    target = [("Channel", operator.name), ("Context", "from-internal"), ("Exten", "102")]
    queued = await client.send_action("Atxfer", target)
    assert queued.message == "Atxfer successfully queued"
    return call, operator, customer


#: A channel in no bridge, for waiting on one that does not exist yet.
customer_alone = Channel("", "", "", Party(), Party(), "", "")


def bridged(panel: Panel) -> list[Event]:
    """Channels joining a bridge in either dialect (22 ``BridgeEnter``, 11 ``Bridge Link``)."""
    enters = panel.ami_named("BridgeEnter")
    links = [e for e in panel.ami_named("Bridge") if e["Bridgestate"] == "Link"]
    return enters + [
        Event.from_fields((("Event", "BridgeEnter"), ("Channel", e[key] or "")))
        for e in links
        for key in ("Channel1", "Channel2")
    ]


def target_talks(panel: Panel) -> bool:
    return any(
        (e.get("Channel") or "").startswith(("PJSIP/102-", "SIP/102-")) for e in bridged(panel)
    )


async def test_atxfer_consult_and_completion_match_the_asterisk_22_capture() -> None:
    async with connected("22", time_scale=0.05) as (simulator, client, panel):
        consulting(simulator)
        call, operator, customer = await consult_102(simulator, client, panel)
        await panel.wait_for(lambda: target_talks(panel))
        simulator.pbx.hang_up(call, operator)  # 101's phone hangs up (BYE), as in the capture
        await panel.wait_for(lambda: bool(panel.ami_named("AttendedTransfer")))
        await client.send_action("Hangup", [("Channel", customer.name)])
        await finish(simulator, call.finished)
    assert shape(simulated(panel)) == shape(capture_events())
    (done,) = panel.ami_named("AttendedTransfer")
    assert done["TransfereeChannel"] == customer.name
    assert done["OrigTransfererChannel"] == done["SecondTransfererChannel"] == operator.name
    assert (done["TransferTargetChannel"] or "").endswith(";1")
    assert done["DestBridgeUniqueid"] == done["OrigBridgeUniqueid"]
    (local,) = panel.ami_named("LocalBridge")
    assert local["LocalOneChannel"] == "Local/102@from-internal-00000000;1"
    # Every channel of the call, Local halves and 102 included, hung up exactly once.
    hung = [e["Channel"] for e in panel.ami_named("Hangup")]
    assert sorted(hung) == sorted(c.name for c in call.channels)


async def test_atxfer_on_asterisk_11_consults_by_local_pair_and_completes_by_masquerade() -> None:
    async with connected("11", time_scale=0.05) as (simulator, client, panel):
        consulting(simulator)
        call, operator, customer = await consult_102(simulator, client, panel)
        old_id = customer.unique_id
        await panel.wait_for(lambda: target_talks(panel))
        await client.send_action("Hangup", [("Channel", operator.name)])  # complete
        await panel.wait_for(lambda: bool(panel.ami_named("Masquerade")))
        assert customer.unique_id != old_id  # the live customer is the masquerade's Original
        await client.send_action("Hangup", [("Channel", customer.name)])
        await finish(simulator, call.finished)
    names = [e.name for e in panel.ami]
    assert "AttendedTransfer" not in names and "Hold" not in names  # README 11 facts 5 and 7
    digits = [e["Digit"] for e in panel.ami_named("DTMF") if e["Channel"] == operator.name]
    assert "".join(digits) == "*2102"
    (local,) = panel.ami_named("LocalBridge")
    assert local["LocalOptimization"] == "No"
    (masquerade,) = panel.ami_named("Masquerade")
    xfer = f"Transfered/{customer.name}"
    assert (masquerade["Clone"], masquerade["Original"]) == (customer.name, xfer)
    renames = [(e["Channel"], e["Newname"], e["Uniqueid"]) for e in panel.ami_named("Rename")]
    assert renames == [
        (customer.name, f"{customer.name}<MASQ>", old_id),
        (xfer, customer.name, customer.unique_id),
        (f"{customer.name}<MASQ>", f"{xfer}<ZOMBIE>", old_id),
    ]
    zombie = [e.name for e in panel.ami if e.get("Channel") == f"{xfer}<ZOMBIE>"]
    assert zombie == ["Dial", "SoftHangupRequest", "Hangup"]
    links = [
        (e["Channel1"], e["Channel2"])
        for e in panel.ami_named("Bridge")
        if e["Bridgestate"] == "Link"
    ]
    assert links[-1] == (customer.name, "Local/102@from-internal-00000000;1")
    # 101's own Hangup comes after the masquerade, once its feature returns.
    operator_hangup = next(
        i for i, e in enumerate(panel.ami) if e.name == "Hangup" and e["Channel"] == operator.name
    )
    assert names.index("Masquerade") < operator_hangup


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("how", ["cancelled", "no-answer", "busy"])
async def test_a_failed_consultation_takes_the_operator_back_to_the_customer(
    dialect: str, how: str
) -> None:
    async with connected(dialect, time_scale=0.02) as (simulator, client, panel):
        consulting(simulator, ring=20.0 if how == "no-answer" else 1.0)
        if how == "busy":
            other = await simulator.start_call(Kind.INBOUND, "102")
            await panel.wait_for(lambda: target_talks(panel))
        call, operator, customer = await consult_102(simulator, client, panel)
        dialled = f"{'SIP' if dialect == '11' else 'PJSIP'}/102-"
        if how == "cancelled":
            # CancelTransfer: the transferer's side hangs up the consulted party.
            await panel.wait_for(lambda: target_talks(panel))
            target = next(c for c in call.channels if c.name.startswith(dialled))
            await panel.wait_for(lambda: target.bridge is not None)
            await client.send_action("Hangup", [("Channel", target.name)])
        await panel.wait_for(lambda: call.consult is None)
        assert operator.bridge is not None and operator.bridge is customer.bridge
        assert not operator.is_hung_up and not customer.is_hung_up
        stop = "MusicOnHoldStop" if dialect == "22" else "MusicOnHold"
        await panel.wait_for(lambda: bool(panel.ami_named(stop)))
        if how == "busy":
            other_customer = other.customer_channel()
            assert other_customer is not None
            await client.send_action("Hangup", [("Channel", other_customer.name)])
            async with asyncio.timeout(WAIT):
                await other.finished.wait()
        await client.send_action("Hangup", [("Channel", customer.name)])
        await finish(simulator, call.finished)
    names = [e.name for e in panel.ami]
    assert "AttendedTransfer" not in names and "Masquerade" not in names
    local_twos = [c for c in call.channels if c.name.endswith(";2")]
    assert len(local_twos) == 1 and local_twos[0].is_hung_up
    if dialect == "22":
        statuses = [
            e["DialStatus"]
            for e in panel.ami_named("DialEnd")
            if (e.get("Channel") or "").endswith(";2")
        ]
        expected = {"cancelled": "ANSWER", "no-answer": "NOANSWER", "busy": "BUSY"}[how]
        assert statuses[:1] == [expected]
        back = [e for e in panel.ami_named("BridgeEnter") if e["Channel"] == operator.name]
        assert len(back) == 3  # the call, the consultation, and back to the customer
        assert back[-1]["BridgeUniqueid"] == back[0]["BridgeUniqueid"]
        assert [e["Channel"] for e in panel.ami_named("Unhold")] == [operator.name]


# -- the consultation as the call model sees it (needs the consult call of issue #9) -----------


def call_of(event: LineEvent) -> str:
    return str(event.to_wire()["call_id"])


def records_of(panel: Panel, line: str) -> list[FinishedCall]:
    return [record for record in panel.records if record.line == line]


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_completed_consultation_is_a_call_of_its_own_and_transfers_the_caller(
    dialect: str,
) -> None:
    async with connected(dialect, time_scale=0.05) as (simulator, client, panel):
        consulting(simulator)
        call, operator, customer = await consult_102(simulator, client, panel)
        await panel.wait_for(lambda: target_talks(panel))
        await panel.wait_for(lambda: len({call_of(e) for e in panel.calls if e.line == "101"}) == 2)
        await client.send_action("Hangup", [("Channel", operator.name)])  # TransferCall
        await panel.wait_for(lambda: len(records_of(panel, "101")) == 2)
        await client.send_action("Hangup", [("Channel", customer.name)])
        await finish(simulator, call.finished)
        await panel.wait_records(3)  # 101's call and consultation, 102's call
    first, consultation = sorted(records_of(panel, "101"), key=lambda r: r.started_at or 0)
    assert (first.caller_number, str(first.disposition)) == (IVAN.number, "transferred")
    assert first.transferred_to == "102"
    assert str(consultation.direction) == "internal"
    assert (consultation.caller_number, consultation.callee_number) == ("101", "102")
    assert consultation.call_id != first.call_id
    colleague = records_of(panel, "102")[-1]
    assert IVAN.number in (colleague.caller_number, colleague.callee_number)
    assert str(colleague.disposition) == "answered"


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_cancelled_consultation_leaves_the_operator_with_the_caller(dialect: str) -> None:
    async with connected(dialect, time_scale=0.05) as (simulator, client, panel):
        consulting(simulator)
        call, _operator, customer = await consult_102(simulator, client, panel)
        await panel.wait_for(lambda: target_talks(panel))
        target = next(c for c in call.channels if c.line == "102")
        await client.send_action("Hangup", [("Channel", target.name)])  # CancelTransfer
        await panel.wait_for(lambda: len(records_of(panel, "101")) == 1)
        (consultation,) = records_of(panel, "101")
        assert str(consultation.direction) == "internal"
        original = next(call_of(e) for e in panel.calls if e.line == "101")
        if dialect == "22":
            # 22 held the caller with a Hold event; back with the caller, the hold ends.
            await panel.wait_for(
                lambda: (
                    [e.name for e in panel.calls if call_of(e) == original][-1] == "EndHoldAction"
                )
            )
        await client.send_action("Hangup", [("Channel", customer.name)])
        await finish(simulator, call.finished)
        await panel.wait_for(lambda: len(records_of(panel, "101")) == 2)
    last = records_of(panel, "101")[-1]
    assert (last.call_id, str(last.disposition)) == (original, "answered")
    assert last.transferred_to is None
