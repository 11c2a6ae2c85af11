"""The test AMI peer answers as the recorded Asterisk 22 does (j1/j1b captures).

Checked with a bare socket, so the client's tests rest on a peer that is itself tested.
"""

from __future__ import annotations

import asyncio

import pytest

from telephony.ami import AmiParser, Greeting, Packet, Response, encode_action, make_action
from tests.support.ami_peer import AmiPeer
from tests.support.replay import recorded_packets


async def exchange(peer: AmiPeer, *actions: tuple[str, list[tuple[str, str]]]) -> list[Packet]:
    """Send the actions on a raw socket and read until the peer closes it or goes quiet."""
    reader, writer = await asyncio.open_connection("127.0.0.1", peer.port)
    for number, (name, fields) in enumerate(actions, start=1):
        writer.write(encode_action(make_action(name, fields, action_id=f"cti-{number}")))
    parser = AmiParser()
    packets: list[Packet] = []
    try:
        while True:
            async with asyncio.timeout(0.3):
                data = await reader.read(65536)
            packets.extend(parser.feed(data))
            if not data:
                packets.append(Response.from_fields([("Response", "EOF")]))
                break
    except TimeoutError:
        pass  # the socket stayed open
    writer.close()
    await writer.wait_closed()
    return packets


def recorded_responses(name: str) -> list[list[list[str]]]:
    return [p["fields"] for p in recorded_packets(name) if p["kind"] == "response"]


@pytest.mark.asyncio
async def test_peer_denies_actions_before_login_and_closes_after_a_bad_login(
    ami_peer: AmiPeer,
) -> None:
    packets = await exchange(ami_peer, ("Ping", []), ("Login", [("Username", "nobody")]))
    greeting, *responses, eof = packets
    assert isinstance(greeting, Greeting) and greeting.text == "Asterisk Call Manager/11.0.0"
    assert [list(map(list, r.fields)) for r in responses if isinstance(r, Response)] == (
        recorded_responses("asterisk-22/j_ami_behaviours/j1b_action_before_login")
    )
    assert isinstance(eof, Response) and eof.status == "EOF"


@pytest.mark.asyncio
async def test_peer_keeps_the_socket_open_after_permission_denied(ami_peer: AmiPeer) -> None:
    packets = await exchange(ami_peer, ("Ping", []))
    assert [p.status for p in packets if isinstance(p, Response)] == ["Error"]
    assert ami_peer.action_names() == ["Ping"]
    assert ami_peer.session.received.startswith(b"Action: Ping\r\nActionID: cti-1\r\n")
