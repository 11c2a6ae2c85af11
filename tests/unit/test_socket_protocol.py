"""The socket's message grammar refuses every malformed frame with ``BadMessage``, and only that
(anything else would close the socket with 1011)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telephony.web.protocol import BadMessage, parse_message

MAX = 4096

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=12,
)


def refusal(text: str | None) -> tuple[str, Any]:
    with pytest.raises(BadMessage) as refused:
        parse_message(text, max_bytes=MAX)
    return refused.value.code, refused.value.client_id


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"id": "a\nb", "command": "DropCall", "callId": "c"}),
        json.dumps({"id": "a\rb", "command": "DropCall", "callId": "c"}),
        json.dumps({"id": "a\x00", "command": "DropCall", "callId": "c"}),
        json.dumps({"id": "\u2028", "command": "DropCall", "callId": "c"}),
    ],
)
def test_a_line_break_or_control_character_in_the_id_is_refused_without_echoing_it(
    text: str,
) -> None:
    assert refusal(text) == ("invalid-input", None)


@pytest.mark.parametrize("depth", [100, 1000, 2000])
def test_deeply_nested_json_is_invalid_input(depth: int) -> None:
    assert refusal("[" * depth + "]" * depth)[0] == "invalid-input"
    nested = '{"id": 1, "command": "DropCall", "callId": ' + "[" * depth + "]" * depth + "}"
    if len(nested) <= MAX:  # deeper than the stack, even the id is unreadable: answered null
        assert refusal(nested)[0] == "invalid-input"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"id": 1.5, "command": "DropCall", "callId": "c"}, ("invalid-input", None)),
        ({"id": [1], "command": "DropCall", "callId": "c"}, ("invalid-input", None)),
        ({"id": True, "command": "DropCall", "callId": "c"}, ("invalid-input", None)),
        ({"id": 2**60, "command": "DropCall", "callId": "c"}, ("invalid-input", None)),
        ({"id": 1, "command": 5}, ("unknown-command", 1)),
        ({"id": 1, "command": ["DropCall"]}, ("unknown-command", 1)),
        ({"id": 1, "command": "DropCall", "callId": 5}, ("invalid-input", 1)),
        ({"id": 1, "command": "DropCall", "callId": {"a": 1}}, ("invalid-input", 1)),
        ({"id": 1, "command": "MakeCall", "targetAddress": ["101"]}, ("invalid-input", 1)),
        ({"id": 1, "command": "MakeCall", "targetAddress": "101", "line": 1}, ("invalid-input", 1)),
        (
            {"id": 1, "command": "MakeCall", "targetAddress": "101", "connector": "3"},
            ("invalid-input", 1),
        ),
        ({"id": 1, "command": "SetDnd", "enabled": 1}, ("invalid-input", 1)),
        ({"id": 1, "command": "SendDtmf", "callId": "c", "digits": 12}, ("invalid-input", 1)),
    ],
)
def test_wrong_types_are_refused_with_the_id_when_it_was_readable(
    message: dict[str, Any], expected: tuple[str, Any]
) -> None:
    assert refusal(json.dumps(message)) == expected


@pytest.mark.parametrize(
    "text", ["", "hello", "NaN", "Infinity", "{'id': 1}", '{"id": 1', "\ud800", "1" * 5000]
)
def test_non_json_and_huge_text_is_invalid_input(text: str) -> None:
    assert refusal(text) == ("invalid-input", None)


def test_a_binary_frame_is_invalid_input() -> None:
    assert refusal(None) == ("invalid-input", None)


@given(st.text(max_size=300))
def test_any_text_is_either_a_request_or_bad_message(text: str) -> None:
    with contextlib.suppress(BadMessage):
        parse_message(text, max_bytes=MAX)


@given(JSON_VALUES, st.sampled_from(["id", "command", "callId", "targetAddress", "x"]))
def test_any_json_value_in_any_field_is_either_a_request_or_bad_message(
    value: object, field: str
) -> None:
    message: dict[str, object] = {"id": 1, "command": "MakeCall", "targetAddress": "101"}
    message[field] = value
    with contextlib.suppress(BadMessage):
        parse_message(json.dumps(message), max_bytes=MAX)
