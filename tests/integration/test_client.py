"""The asyncio AMI client against the project's AMI peer over real TCP on 127.0.0.1.

No socket is mocked: every test talks to ``tests.support.ami_peer`` the way it would talk
to Asterisk, with timings shrunk so the whole file runs in a few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from telephony.ami import (
    AmiActionFailed,
    AmiConnectionLost,
    AmiLoginFailed,
    AmiTimeout,
    Event,
    make_action,
)
from telephony.ami.client import AmiClient
from telephony.ami.config import AmiConfig
from tests.support.ami_peer import (
    CUT_PACKET,
    AmiPeer,
    event,
    event_list,
    recorded_answer,
    reply,
    silence,
    strip_greeting,
    success,
)
from tests.support.replay import load_capture, recorded_packets

J2 = "asterisk-22/j_ami_behaviours/j2_actions"
K2 = "asterisk-11/k_ami_behaviours/k2_actions"


@contextlib.asynccontextmanager
async def running(client: AmiClient) -> AsyncIterator[asyncio.Task[None]]:
    """Run the client for the block, then stop it and wait for ``run()`` to return."""
    task = asyncio.create_task(client.run())
    try:
        yield task
    finally:
        client.stop()
        async with asyncio.timeout(3):
            with contextlib.suppress(AmiLoginFailed):
                await task


async def take(client: AmiClient, count: int, seconds: float = 3.0) -> list[Event]:
    """The next ``count`` events the client hands its consumer."""
    taken: list[Event] = []
    async with asyncio.timeout(seconds), contextlib.aclosing(client.events()) as events:
        async for item in events:
            taken.append(item)
            if len(taken) == count:
                break
    return taken


class Resyncs:
    """A resync hook that counts its calls and reads the channel list, as the worker will."""

    def __init__(self) -> None:
        self.client: AmiClient | None = None
        self.calls = 0
        self.channel_lists: list[int] = []

    async def __call__(self) -> None:
        self.calls += 1
        assert self.client is not None
        _, items = await self.client.collect_list("CoreShowChannels")
        self.channel_lists.append(len(items))


def client_with_resync(config: AmiConfig) -> tuple[AmiClient, Resyncs]:
    resyncs = Resyncs()
    client = AmiClient(config, on_login=resyncs)
    resyncs.client = client
    return client, resyncs


def answer_channel_lists(peer: AmiPeer) -> None:
    peer.answer("CoreShowChannels", recorded_answer(load_capture(J2), "cti-7"))


# -- login ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_client_logs_in_and_reports_itself_connected(
    ami_peer: AmiPeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = AmiClient(ami_peer.config())
    async with running(client):
        await client.wait_connected(2)
        status = client.status
        login = ami_peer.actions[0]
        assert status.connected and status.since is not None and status.last_error is None
        assert (login.name, login["Username"], login["Secret"]) == ("Login", "cti", "s3cret")
        assert ami_peer.session.logged_in
    assert "s3cret" not in caplog.text


@pytest.mark.asyncio
async def test_refused_login_raises_login_failed_with_asterisks_message_and_never_retries(
    ami_peer: AmiPeer,
) -> None:
    client = AmiClient(ami_peer.config(secret="wrong"))
    with pytest.raises(AmiLoginFailed, match="Authentication failed") as raised:
        async with asyncio.timeout(2):
            await client.run()
    await asyncio.sleep(0.2)  # several backoff periods: a retry would have come by now
    assert raised.value.permanent
    assert ami_peer.action_names() == ["Login"]
    assert len(ami_peer.sessions) == 1 and ami_peer.session.is_closed
    assert client.status.stopped_permanently
    assert "Authentication failed" in (client.status.last_error or "")
    assert await take(client, 1, 0.5) == []  # the event stream ended with run()


@pytest.mark.asyncio
async def test_md5_login_sends_a_key_and_never_the_secret(ami_peer: AmiPeer) -> None:
    client = AmiClient(ami_peer.config(use_md5=True))
    async with running(client):
        await client.wait_connected(2)
    challenge, login = ami_peer.actions[:2]
    assert challenge.name == "Challenge" and challenge["AuthType"] == "md5"
    assert login["AuthType"] == "md5" and len(login["Key"]) == 32
    assert b"s3cret" not in ami_peer.session.received


@pytest.mark.asyncio
async def test_nothing_is_sent_before_the_greeting_and_no_action_before_login(
    ami_peer: AmiPeer,
) -> None:
    ami_peer.greeting_delay = 0.2
    client = AmiClient(ami_peer.config())
    async with running(client):
        await ami_peer.wait_for(lambda: bool(ami_peer.sessions))
        with pytest.raises(AmiConnectionLost, match="not connected"):
            await client.send_action("Ping")
        await asyncio.sleep(0.1)
        assert ami_peer.session.received == b""  # still waiting for the greeting
        await client.wait_connected(2)
        await client.send_action("Ping")
    assert bytes(ami_peer.session.received).startswith(b"Action: Login\r\n")
    assert ami_peer.action_names() == ["Login", "Ping", "Logoff"]


def test_config_repr_never_shows_the_secret() -> None:
    config = AmiConfig(host="pbx", username="cti", secret="s3cret")
    assert "s3cret" not in repr(config) and "s3cret" not in str(config)


# -- actions -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_response_is_matched_by_action_id_among_interleaved_events(
    ami_peer: AmiPeer,
) -> None:
    def originate(action: Any) -> list[Any]:
        # Events and a stranger's response arrive before ours, as on a busy PBX.
        return [
            event("Newchannel", ("Channel", "PJSIP/101-00000001")),
            reply(make_action("Ping", action_id="someone-else"), "Success"),
            event("VarSet", ("Variable", "X"), ("ActionID", "not-a-list")),
            reply(action, "Success", ("Message", "Originate successfully queued")),
            event("OriginateResponse", ("ActionID", action.action_id), ("Response", "Success")),
        ]

    ami_peer.answer("Originate", originate)
    client = AmiClient(ami_peer.config())
    async with running(client):
        await client.wait_connected(2)
        action = make_action("Originate", [("Channel", "PJSIP/101")])
        response, pong = await asyncio.gather(
            client.send_action(action), client.send_action("Ping")
        )
        events = await take(client, 4)
    assert response.action_id == action.action_id
    assert response.message == "Originate successfully queued"
    assert pong["Ping"] == "Pong"
    assert [e.name for e in events] == ["FullyBooted", "Newchannel", "VarSet", "OriginateResponse"]


@pytest.mark.asyncio
async def test_unanswered_action_times_out_and_the_connection_stays_up(
    ami_peer: AmiPeer,
) -> None:
    ami_peer.answer("Originate", silence())
    client = AmiClient(ami_peer.config())
    async with running(client):
        await client.wait_connected(2)
        with pytest.raises(AmiTimeout, match="Originate"):
            await client.send_action("Originate", timeout=0.2)
        assert (await client.send_action("Ping"))["Ping"] == "Pong"
        assert client.is_connected and len(ami_peer.sessions) == 1


@pytest.mark.asyncio
async def test_error_response_raises_action_failed_carrying_asterisks_answer(
    ami_peer: AmiPeer,
) -> None:
    ami_peer.answer("Hangup", success("Channel Hungup"))
    client = AmiClient(ami_peer.config())
    async with running(client):
        await client.wait_connected(2)
        with pytest.raises(AmiActionFailed) as raised:
            await client.send_action("NoSuchAction")
        unchecked = await client.send_action("NoSuchAction", check=False)
        hung_up = await client.send_action("Hangup", [("Channel", "PJSIP/101-00000001")])
    assert raised.value.response.message.startswith("Invalid/unknown command: NoSuchAction")
    assert raised.value.action.name == "NoSuchAction"
    assert unchecked.status == "Error"
    assert hung_up.message == "Channel Hungup"


@pytest.mark.asyncio
async def test_event_list_is_collected_from_a_real_asterisk_22_answer(ami_peer: AmiPeer) -> None:
    capture = load_capture(J2)
    ami_peer.answer("QueueStatus", recorded_answer(capture, "cti-8"))
    ami_peer.answer("PJSIPShowEndpoints", recorded_answer(capture, "cti-9"))
    answer_channel_lists(ami_peer)
    client = AmiClient(ami_peer.config())
    async with running(client):
        await client.wait_connected(2)
        queue, queue_items = await client.collect_list("QueueStatus")
        _, endpoints = await client.collect_list("PJSIPShowEndpoints")
        _, channels = await client.collect_list("CoreShowChannels")
    assert queue.starts_event_list
    assert [e.name for e in queue_items] == ["QueueParams", "QueueMember", "QueueMember"]
    assert {e.action_id for e in queue_items} == {queue.action_id}
    assert [e["ObjectName"] for e in endpoints] == ["101", "102", "103", "pstn"]
    assert channels == []


@pytest.mark.asyncio
async def test_asterisk_11_lists_without_eventlist_headers_are_collected(
    ami_peer: AmiPeer,
) -> None:
    # Asterisk 11 answers Status and QueueStatus with no "EventList: start" and closes
    # them with StatusComplete / QueueStatusComplete that lack "EventList: Complete".
    capture = load_capture(K2)
    ami_peer.answer("Status", recorded_answer(capture, "cti-8"))
    ami_peer.answer("QueueStatus", recorded_answer(capture, "cti-9"))
    client = AmiClient(ami_peer.config())
    async with running(client):
        await client.wait_connected(2)
        status, channels = await client.collect_list("Status")
        _, queue_items = await client.collect_list("QueueStatus")
    assert not status.starts_event_list and channels == []
    assert [e.name for e in queue_items][:1] == ["QueueParams"]
    assert not any(e.name.endswith("Complete") for e in queue_items)


@pytest.mark.asyncio
async def test_list_items_are_kept_apart_from_interleaved_ordinary_events(
    ami_peer: AmiPeer,
) -> None:
    rows = [[("Event", "CoreShowChannel"), ("Channel", f"PJSIP/10{n}-0001")] for n in (1, 2)]
    listing = event_list(rows, "CoreShowChannelsComplete", message="Channels will follow")

    def interleaved(action: Any) -> list[Any]:
        packets = list(listing(action))
        packets.insert(2, event("Hangup", ("Channel", "PJSIP/103-0001")))
        return packets

    ami_peer.answer("CoreShowChannels", interleaved)
    client = AmiClient(ami_peer.config())
    async with running(client):
        await client.wait_connected(2)
        _, items = await client.collect_list("CoreShowChannels")
        events = await take(client, 2)
    assert [e["Channel"] for e in items] == ["PJSIP/101-0001", "PJSIP/102-0001"]
    assert [e.name for e in events] == ["FullyBooted", "Hangup"]


# -- keeping the link alive ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_missing_pong_is_a_dead_link_and_the_client_reconnects(ami_peer: AmiPeer) -> None:
    ami_peer.answer_pings = False
    client = AmiClient(ami_peer.config(ping_interval=0.05, ping_timeout=0.1))
    async with running(client):
        await ami_peer.wait_for_action("Ping")
        await ami_peer.wait_for(lambda: ami_peer.sessions[0].is_closed)
        ami_peer.answer_pings = True
        await ami_peer.wait_logged_in(sessions=2)
        await ami_peer.wait_for_action("Ping", count=3)
        assert "no Pong" in (client.status.last_error or "")
        assert client.status.ping_round_trip is not None


@pytest.mark.asyncio
async def test_client_reconnects_after_a_drop_and_resyncs_after_each_login(
    ami_peer: AmiPeer,
) -> None:
    answer_channel_lists(ami_peer)
    client, resyncs = client_with_resync(ami_peer.config())
    async with running(client):
        await ami_peer.wait_for_action("CoreShowChannels")
        await ami_peer.drop()
        await ami_peer.wait_for_action("CoreShowChannels", count=2)
        await client.wait_connected(2)
        assert (await client.send_action("Ping"))["Ping"] == "Pong"
    assert resyncs.calls == 2 and resyncs.channel_lists == [0, 0]
    assert ami_peer.action_names()[:3] == ["Login", "CoreShowChannels", "Login"]


@pytest.mark.asyncio
async def test_packet_cut_by_an_abort_is_logged_and_the_client_reconnects_and_resyncs(
    ami_peer: AmiPeer, caplog: pytest.LogCaptureFixture
) -> None:
    answer_channel_lists(ami_peer)
    client, resyncs = client_with_resync(ami_peer.config())
    async with running(client):
        await ami_peer.wait_for_action("CoreShowChannels")
        await ami_peer.drop(mid_packet=True)
        await ami_peer.wait_for_action("CoreShowChannels", count=2)
        events = await take(client, 2)
    assert resyncs.calls == 2
    assert [e.name for e in events] == ["FullyBooted", "FullyBooted"]  # the cut one is not
    assert repr(CUT_PACKET) in caplog.text


@pytest.mark.asyncio
async def test_shutdown_event_reaches_the_consumer_and_the_client_reconnects(
    ami_peer: AmiPeer,
) -> None:
    answer_channel_lists(ami_peer)
    client, resyncs = client_with_resync(ami_peer.config())
    async with running(client):
        await ami_peer.wait_for_action("CoreShowChannels")
        await ami_peer.shutdown(restart=True)
        await ami_peer.wait_for_action("CoreShowChannels", count=2)
        events = await take(client, 3)
    assert [e.name for e in events] == ["FullyBooted", "Shutdown", "FullyBooted"]
    assert "shutting down" in (client.status.last_error or "")
    assert resyncs.calls == 2


@pytest.mark.asyncio
async def test_unreachable_pbx_is_retried_with_growing_backoff(ami_peer: AmiPeer) -> None:
    config = ami_peer.config(backoff_initial=0.02, backoff_max=0.05)
    await ami_peer.stop()  # nothing listens on the port any more
    client = AmiClient(config)
    async with running(client):
        await asyncio.sleep(0.3)
        status = client.status
    assert not status.connected and status.failed_attempts >= 3
    assert "cannot connect" in (status.last_error or "")


@pytest.mark.asyncio
async def test_consumer_that_falls_far_behind_forces_a_fresh_session_and_resync(
    ami_peer: AmiPeer,
) -> None:
    answer_channel_lists(ami_peer)
    client, resyncs = client_with_resync(ami_peer.config(max_queued_events=5))
    async with running(client):
        await ami_peer.wait_for_action("CoreShowChannels")
        await ami_peer.send(*[event("VarSet", ("Value", str(n))) for n in range(10)])
        await ami_peer.wait_for(lambda: ami_peer.sessions[0].is_closed)
        await asyncio.sleep(0.1)  # several backoff periods: no reconnect while still behind
        assert len(ami_peer.sessions) == 1
        behind = await take(client, 5)
        await ami_peer.wait_for_action("CoreShowChannels", count=2)
    assert resyncs.calls == 2
    assert "behind" in (client.status.last_error or "")
    assert [e.get("Value") for e in behind] == [None, "0", "1", "2", "3"]  # in order, then cut


@pytest.mark.asyncio
async def test_stop_logs_off_and_ends_the_event_stream(ami_peer: AmiPeer) -> None:
    client = AmiClient(ami_peer.config())
    task = asyncio.create_task(client.run())
    await client.wait_connected(2)
    client.stop()
    async with asyncio.timeout(2):
        await task
        events = [e async for e in client.events()]
    await ami_peer.wait_for(lambda: ami_peer.session.is_closed)
    assert ami_peer.action_names() == ["Login", "Logoff"]
    assert [e.name for e in events] == ["FullyBooted"]
    assert not client.status.connected


# -- real traffic --------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("name", "chunk_size"),
    [
        ("asterisk-22/b_inbound_answered_hold", 997),
        ("asterisk-11/e_queue_ringall", 1),
        # 15 413 events, 7 MB through the socket in 64 KiB writes: the reader keeps up.
        pytest.param("asterisk-22/i_burst_200_calls", 65536, marks=pytest.mark.slow),
    ],
)
async def test_replaying_a_real_capture_delivers_exactly_its_events(
    ami_peer: AmiPeer, name: str, chunk_size: int
) -> None:
    ami_peer.fully_booted = False
    recorded = [p for p in recorded_packets(name) if p["kind"] == "event"]
    client = AmiClient(ami_peer.config())
    async with running(client):
        await client.wait_connected(2)
        await ami_peer.replay(strip_greeting(load_capture(name)), chunk_size=chunk_size)
        events = await take(client, len(recorded), seconds=30)
        await ami_peer.send_event("Marker")
        (after,) = await take(client, 1)
    assert [list(map(list, e.fields)) for e in events] == [p["fields"] for p in recorded]
    assert after.name == "Marker"  # nothing extra was queued in between


@pytest.mark.asyncio
async def test_malformed_packet_is_logged_with_its_bytes_and_the_stream_goes_on(
    ami_peer: AmiPeer, caplog: pytest.LogCaptureFixture
) -> None:
    ami_peer.fully_booted = False
    garbage = b"this is not AMI\r\nnor is this\r\n\r\n"
    client = AmiClient(ami_peer.config())
    async with running(client):
        await client.wait_connected(2)
        await ami_peer.send(event("Newchannel"), garbage, event("Hangup"))
        events = await take(client, 2)
        assert (await client.send_action("Ping"))["Ping"] == "Pong"
    assert [e.name for e in events] == ["Newchannel", "Hangup"]
    (warning,) = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    assert repr(garbage.rstrip(b"\r\n")) in warning.getMessage()
