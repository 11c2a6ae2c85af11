"""The action encoder: ActionID always set, line breaks refused with the field named."""

from __future__ import annotations

import pytest

from telephony.ami import AmiEncodeError, encode_action, make_action


def test_encoded_action_is_crlf_lines_and_a_blank_line() -> None:
    action = make_action("Hangup", [("Channel", "PJSIP/101-0000002a")], action_id="a1")
    assert encode_action(action) == (
        b"Action: Hangup\r\nActionID: a1\r\nChannel: PJSIP/101-0000002a\r\n\r\n"
    )


def test_action_id_is_always_set() -> None:
    first = make_action("Ping")
    second = make_action("Ping")
    assert first.action_id and second.action_id and first.action_id != second.action_id
    assert encode_action(first).startswith(b"Action: Ping\r\nActionID: ")


def test_repeated_variable_fields_are_all_sent() -> None:
    action = make_action("Originate", [("Variable", "A=1"), ("Variable", "B=2")], action_id="o")
    assert encode_action(action).count(b"Variable: ") == 2


@pytest.mark.parametrize(
    "value",
    [
        "101\r\nAction: Command\r\nCommand: core stop now",
        "101\nAction: Command",
        "101\r",
    ],
)
def test_line_break_in_a_value_is_refused_and_names_the_field(value: str) -> None:
    action = make_action("Originate", [("Exten", value)])
    with pytest.raises(AmiEncodeError) as caught:
        encode_action(action)
    assert caught.value.field == "Exten"
    assert "line break" in str(caught.value)


@pytest.mark.parametrize("key", ["Bad\r\nKey", "", "Colon:Key"])
def test_bad_header_names_are_refused(key: str) -> None:
    with pytest.raises(AmiEncodeError):
        encode_action(make_action("Ping", [(key, "x")]))


def test_cyrillic_values_are_sent_as_utf8() -> None:
    action = make_action("Setvar", [("Value", "Иван")], action_id="s")
    assert "Иван".encode() in encode_action(action)
