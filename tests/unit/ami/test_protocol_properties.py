"""Invariants of the parser and encoder, checked with hypothesis on real and random bytes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from telephony.ami import (
    Action,
    AmiEncodeError,
    AmiParser,
    MalformedPacket,
    Packet,
    encode_action,
    make_action,
)
from tests.support.replay import load_capture

CAPTURE = load_capture("asterisk-22/b_inbound_answered_hold")
LEGACY = load_capture("asterisk-11/k_ami_behaviours/k2_actions")


def parse_in_chunks(data: bytes, cuts: list[int]) -> list[Packet]:
    parser = AmiParser()
    packets: list[Packet] = []
    previous = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        packets.extend(parser.feed(data[previous:cut]))
        previous = cut
    packets.extend(parser.feed(b""))
    return packets


WHOLE = parse_in_chunks(CAPTURE, [])
LEGACY_WHOLE = parse_in_chunks(LEGACY, [])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(CAPTURE)), max_size=200))
def test_any_chunking_of_a_capture_yields_the_same_packets(cuts: list[int]) -> None:
    assert parse_in_chunks(CAPTURE, cuts) == WHOLE


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(LEGACY)), max_size=100))
def test_any_chunking_of_legacy_command_output_yields_the_same_packets(cuts: list[int]) -> None:
    assert parse_in_chunks(LEGACY, cuts) == LEGACY_WHOLE


header_name = st.from_regex(r"\A[A-Za-z][A-Za-z0-9_-]{0,20}\Z")
header_value = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"),
    max_size=40,
).filter(lambda value: value == value.strip() or not value.startswith(" "))


@settings(max_examples=200, deadline=None)
@given(
    st.from_regex(r"\A[A-Za-z]{1,20}\Z"),
    st.lists(st.tuples(header_name, header_value), max_size=10),
)
def test_encoded_action_parses_back_to_the_same_fields(
    name: str, fields: list[tuple[str, str]]
) -> None:
    fields = [(key, value) for key, value in fields if key.lower() not in {"action", "actionid"}]
    action = make_action(name, fields, action_id="rt-1")
    (parsed,) = AmiParser(expect_greeting=False).feed(encode_action(action))
    assert isinstance(parsed, Action)
    assert parsed.fields == action.fields


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(header_name, st.text(max_size=30)), min_size=1, max_size=6))
def test_no_cr_or_lf_from_a_value_ever_reaches_the_wire(fields: list[tuple[str, str]]) -> None:
    action = make_action("Originate", fields, action_id="x")
    try:
        wire = encode_action(action)
    except AmiEncodeError as error:
        assert any("\r" in value or "\n" in value for _, value in fields)
        assert error.field in {key for key, _ in fields}
        return
    lines = wire.split(b"\r\n")
    # One line per field plus the terminating blank line: nothing smuggled a line in.
    assert len(lines) == len(action.fields) + 2
    assert b"\n" not in b"".join(lines) and b"\r" not in b"".join(lines)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=20), st.booleans())
def test_random_bytes_never_raise(chunks: list[bytes], greeting: bool) -> None:
    parser = AmiParser(expect_greeting=greeting, max_packet=512)
    for chunk in chunks:
        for packet in parser.feed(chunk):
            if isinstance(packet, MalformedPacket):
                assert packet.reason
    parser.feed(b"")
    assert parser.buffered == 0
