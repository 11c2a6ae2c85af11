"""Every packet of every real capture parses exactly as the recorder listed it."""

from __future__ import annotations

import pytest

from telephony.ami import AmiParser, Event, Greeting, MalformedPacket, Packet, Response
from tests.support.replay import all_captures, load_capture, recorded_packets

KINDS = {Greeting: "greeting", Event: "event", Response: "response"}


def parse(data: bytes, chunk: int | None = None) -> list[Packet]:
    parser = AmiParser()
    packets: list[Packet] = []
    step = chunk or len(data) or 1
    for start in range(0, len(data), step):
        packets.extend(parser.feed(data[start : start + step]))
    packets.extend(parser.feed(b""))
    return packets


@pytest.mark.parametrize("name", all_captures())
def test_capture_parses_to_the_recorded_packets(name: str) -> None:
    expected = recorded_packets(name)
    packets = parse(load_capture(name))
    assert not [p for p in packets if isinstance(p, MalformedPacket)]
    assert len(packets) == len(expected)
    for packet, recorded in zip(packets, expected, strict=True):
        assert KINDS[type(packet)] == recorded["kind"], recorded["seq"]
        if isinstance(packet, Greeting):
            assert packet.text == recorded["raw"].strip()
        else:
            assert not isinstance(packet, MalformedPacket)
            assert [list(field) for field in packet.fields] == recorded["fields"], recorded["seq"]


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_small_reads_give_the_same_packets(chunk: int) -> None:
    data = load_capture("asterisk-11/k_ami_behaviours/k2_actions")
    assert parse(data, chunk) == parse(data)


def test_asterisk_11_command_output_is_one_body_field() -> None:
    packets = parse(load_capture("asterisk-11/k_ami_behaviours/k2_actions"))
    (follows,) = [p for p in packets if isinstance(p, Response) and p.status == "Follows"]
    assert follows.output == [
        "Asterisk 11.25.3 built by root @ vm on a x86_64 running Linux on 2026-11-30 11:35:42 UTC"
    ]


def test_shutdown_capture_ends_with_the_shutdown_event() -> None:
    packets = parse(load_capture("asterisk-22/j_ami_behaviours/j3_restart"))
    events = [p for p in packets if isinstance(p, Event)]
    assert events[-1].name == "Shutdown" and events[-1]["Restart"] == "True"
