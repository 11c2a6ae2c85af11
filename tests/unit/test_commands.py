"""Operator commands become exact AMI actions, or are refused with a stable code.

Pure: a ``ConnectorConfig`` and a ``CallView`` in, ``Action`` values out. Where a capture
holds the action a real Asterisk accepted, the test compares against it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from telephony.ami import Action, AmiParser, Field, encode_action
from telephony.commands import (
    CALL_VERBS,
    VERBS,
    CallView,
    Command,
    CommandRejected,
    build_actions,
)
from telephony.config import ConnectorConfig
from tests.factories import make_connector_config
from tests.support.replay import FIXTURES

OPERATOR = "PJSIP/101-00000029"
CUSTOMER = "PJSIP/pstn-0000002a"
INJECTION = "101\r\nAction: Command\r\nCommand: core stop now"

MODERN = make_connector_config()
LEGACY = make_connector_config(dialect="11", channel_template="SIP/{ext}")


def make_call_view(
    *,
    line: str = "101",
    state: str = "connected",
    channel: str | None = OPERATOR,
    peer_channel: str | None = CUSTOMER,
) -> CallView:
    """A live call on ``line``: the operator's channel and the other party's."""
    return CallView(
        call_id="1772443800.41",
        line=line,
        state=state,
        channel=channel,
        peer_channel=peer_channel,
    )


def headers(action: Action) -> list[Field]:
    """The action's headers in wire order, less the generated ActionID."""
    return [(key, value) for key, value in action.fields if key != "ActionID"]


def build(
    verb: str,
    *,
    config: ConnectorConfig = MODERN,
    call: CallView | None = None,
    **fields: Any,
) -> list[Action]:
    command = Command(verb=verb, line=fields.pop("line", "101"), **fields)
    return build_actions(config, command, call)


def rejection(verb: str, **kwargs: Any) -> str:
    """The code ``build_actions`` refuses the command with."""
    with pytest.raises(CommandRejected) as refused:
        build(verb, **kwargs)
    return refused.value.code


def recorded_action(scenario: str, name: str) -> list[Field]:
    """The headers (less ActionID) of the action the capture's recorder sent to Asterisk."""
    path = FIXTURES / scenario / "events.actions.jsonl"
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row["action"] == name:
            (action,) = AmiParser(expect_greeting=False).feed(row["raw"].encode())
            assert isinstance(action, Action)
            return headers(action)
    raise LookupError(f"{scenario} sent no {name}")


# -- make_call ---------------------------------------------------------------------------------


def test_make_call_originates_from_the_operators_device_asynchronously() -> None:
    (action,) = build("make_call", target="+15559870001")

    assert headers(action) == [
        ("Action", "Originate"),
        ("Channel", "PJSIP/101"),
        ("Context", "from-internal"),
        ("Exten", "+15559870001"),
        ("Priority", "1"),
        ("CallerID", '"+15559870001" <+15559870001>'),
        ("Timeout", "30000"),
        ("Async", "true"),
    ]


def test_make_call_rings_the_lines_own_device_before_the_template() -> None:
    config = make_connector_config(lines={"101": "PJSIP/desk-101"})

    (action,) = build("make_call", config=config, target="102")

    assert action["Channel"] == "PJSIP/desk-101"


def test_make_call_on_asterisk_11_rings_the_sip_device() -> None:
    (action,) = build("make_call", config=LEGACY, target="+15559870001")

    assert action["Channel"] == "SIP/101"


def test_make_call_dials_the_number_without_its_formatting() -> None:
    (action,) = build("make_call", target="+1 (555) 987-00.01")

    assert action["Exten"] == "+15559870001"


# -- hang_up, transfers ------------------------------------------------------------------------


def test_hang_up_hangs_up_the_operators_channel_only() -> None:
    (action,) = build("hang_up", call=make_call_view())

    assert headers(action) == [("Action", "Hangup"), ("Channel", OPERATOR)]


def test_blind_transfer_on_asterisk_12_is_the_action_asterisk_22_accepted() -> None:
    call = make_call_view(channel="PJSIP/101-00000030")

    (action,) = build("blind_transfer", call=call, target="102")

    assert headers(action) == recorded_action("asterisk-22/f_blind_transfer", "BlindTransfer")


def test_blind_transfer_on_asterisk_11_redirects_the_other_party_as_asterisk_11_accepted() -> None:
    call = make_call_view(channel="SIP/101-0000000d", peer_channel="SIP/pstn-0000000e")

    (action,) = build("blind_transfer", config=LEGACY, call=call, target="102")

    expected = recorded_action("asterisk-11/f_blind_transfer_redirect", "Redirect")
    assert headers(action) == expected


def test_blind_transfer_on_asterisk_11_is_refused_before_the_other_party_is_known() -> None:
    call = make_call_view(peer_channel=None)

    assert rejection("blind_transfer", config=LEGACY, call=call, target="102") == "unsupported"


def test_attended_transfer_sends_atxfer_on_the_operators_channel() -> None:
    (action,) = build("attended_transfer", call=make_call_view(), target="102")

    assert headers(action) == [
        ("Action", "Atxfer"),
        ("Channel", OPERATOR),
        ("Context", "from-internal"),
        ("Exten", "102"),
    ]


def test_attended_transfer_is_the_atxfer_asterisk_22_accepted_and_consulted_with() -> None:
    call = make_call_view(channel="PJSIP/101-00000021")

    (action,) = build("attended_transfer", call=call, target="102")

    assert headers(action) == recorded_action("asterisk-22/g_attended_transfer", "Atxfer")


def test_attended_transfer_on_asterisk_11_is_the_same_atxfer() -> None:
    call = make_call_view(channel="SIP/101-0000000d", peer_channel="SIP/pstn-0000000e")

    (action,) = build("attended_transfer", config=LEGACY, call=call, target="102")

    assert headers(action) == [
        ("Action", "Atxfer"),
        ("Channel", "SIP/101-0000000d"),
        ("Context", "from-internal"),
        ("Exten", "102"),
    ]


@pytest.mark.parametrize(("config", "operator"), [(MODERN, OPERATOR), (LEGACY, "SIP/101-0000000d")])
@pytest.mark.parametrize("state", ["connected", "ringing", "held"])
def test_complete_transfer_hangs_up_the_transferers_channel(
    config: ConnectorConfig, operator: str, state: str
) -> None:
    # g_attended_transfer: 101 hanging up completed it; while 102 rings it is a blond transfer.
    call = make_call_view(channel=operator, peer_channel="Local/102@x-00000000;1", state=state)

    (action,) = build("complete_transfer", config=config, call=call)

    assert headers(action) == [("Action", "Hangup"), ("Channel", operator)]


@pytest.mark.parametrize(
    ("config", "colleague"),
    [(MODERN, "PJSIP/102-00000022"), (LEGACY, "Local/102@from-internal-00000000;1")],
)
def test_cancel_transfer_hangs_up_the_consulted_party(
    config: ConnectorConfig, colleague: str
) -> None:
    call = make_call_view(peer_channel=colleague, state="ringing")

    (action,) = build("cancel_transfer", config=config, call=call)

    assert headers(action) == [("Action", "Hangup"), ("Channel", colleague)]


def test_cancel_transfer_never_hangs_up_the_waiting_customer_of_a_held_call() -> None:
    call = make_call_view(state="held", peer_channel=CUSTOMER)

    assert rejection("cancel_transfer", call=call) == "invalid-state"


def test_cancel_transfer_is_refused_before_the_consulted_party_is_known() -> None:
    call = make_call_view(peer_channel=None)

    assert rejection("cancel_transfer", call=call) == "unsupported"


@pytest.mark.parametrize("verb", ["complete_transfer", "cancel_transfer"])
def test_consultation_commands_act_only_on_the_operators_own_line(verb: str) -> None:
    foreign = make_call_view(line="102", channel="PJSIP/102-00000022")

    assert rejection(verb, call=foreign) == "not-your-call"
    assert rejection(verb, call=None) == "no-such-call"


# -- hold and unhold ---------------------------------------------------------------------------


def test_hold_by_parking_parks_the_other_party_and_returns_it_to_the_operator() -> None:
    config = make_connector_config(hold_method="park", parking_lot="operators")

    (action,) = build("hold", config=config, call=make_call_view())

    assert headers(action) == [
        ("Action", "Park"),
        ("Channel", CUSTOMER),
        ("TimeoutChannel", OPERATOR),
        ("Parkinglot", "operators"),
    ]


def test_hold_by_parking_on_asterisk_11_names_the_operator_as_channel2() -> None:
    call = make_call_view(channel="SIP/101-0000000d", peer_channel="SIP/pstn-0000000e")

    (action,) = build("hold", config=LEGACY, call=call)

    assert headers(action) == [
        ("Action", "Park"),
        ("Channel", "SIP/pstn-0000000e"),
        ("Channel2", "SIP/101-0000000d"),
    ]


def test_hold_by_parking_is_refused_before_the_other_party_is_known() -> None:
    assert rejection("hold", call=make_call_view(peer_channel=None)) == "unsupported"


def test_unhold_by_parking_redirects_the_parked_party_back_to_the_line() -> None:
    (action,) = build("unhold", call=make_call_view())

    assert headers(action) == [
        ("Action", "Redirect"),
        ("Channel", CUSTOMER),
        ("Context", "from-internal"),
        ("Exten", "101"),
        ("Priority", "1"),
    ]


def test_hold_by_phone_notify_asks_the_pjsip_endpoint_to_hold() -> None:
    config = make_connector_config(hold_method="phone-notify")

    (action,) = build("hold", config=config, call=make_call_view())

    assert headers(action) == [
        ("Action", "PJSIPNotify"),
        ("Endpoint", "101"),
        ("Variable", "Event=hold"),
    ]


def test_unhold_by_phone_notify_asks_the_pjsip_endpoint_to_talk() -> None:
    config = make_connector_config(hold_method="phone-notify")

    (action,) = build("unhold", config=config, call=make_call_view())

    assert headers(action) == [
        ("Action", "PJSIPNotify"),
        ("Endpoint", "101"),
        ("Variable", "Event=talk"),
    ]


def test_hold_by_phone_notify_on_asterisk_11_sends_sipnotify_to_the_sip_device() -> None:
    config = make_connector_config(
        dialect="11", channel_template="SIP/{ext}", hold_method="phone-notify"
    )

    (action,) = build("hold", config=config, call=make_call_view(channel="SIP/101-0000000d"))

    assert headers(action) == [
        ("Action", "SIPnotify"),
        ("Channel", "SIP/101"),
        ("Variable", "Event=hold"),
    ]


@pytest.mark.parametrize("verb", ["hold", "unhold"])
def test_hold_and_unhold_are_refused_when_the_connector_has_no_hold_method(verb: str) -> None:
    config = make_connector_config(hold_method="none")

    assert rejection(verb, config=config, call=make_call_view()) == "unsupported"


# -- answer ------------------------------------------------------------------------------------


def test_answer_is_refused_as_unsupported_when_phones_cannot_be_answered_remotely() -> None:
    config = make_connector_config(answer_method="none")

    code = rejection("answer", config=config, call=make_call_view(state="ringing"))

    assert code == "unsupported"


def test_answer_by_phone_notify_tells_the_ringing_phone_to_talk() -> None:
    config = make_connector_config(answer_method="phone-notify")

    (action,) = build("answer", config=config, call=make_call_view(state="ringing"))

    assert headers(action) == [
        ("Action", "PJSIPNotify"),
        ("Endpoint", "101"),
        ("Variable", "Event=talk"),
    ]


def test_answer_is_refused_for_a_call_that_is_not_ringing() -> None:
    config = make_connector_config(answer_method="phone-notify")

    code = rejection("answer", config=config, call=make_call_view(state="connected"))

    assert code == "invalid-state"


# -- do not disturb, queue pause, DTMF ---------------------------------------------------------


def test_set_dnd_on_stores_dnd_and_pauses_the_device_in_every_queue() -> None:
    dnd, pause = build("set_dnd", enabled=True)

    assert headers(dnd) == [
        ("Action", "DBPut"),
        ("Family", "DND"),
        ("Key", "101"),
        ("Val", "YES"),
    ]
    assert headers(pause) == [
        ("Action", "QueuePause"),
        ("Interface", "PJSIP/101"),
        ("Paused", "true"),
        ("Reason", "DND"),
    ]


def test_set_dnd_off_clears_dnd_and_unpauses_the_device() -> None:
    dnd, pause = build("set_dnd", enabled=False)

    assert headers(dnd) == [("Action", "DBDel"), ("Family", "DND"), ("Key", "101")]
    assert pause["Paused"] == "false"


@pytest.mark.parametrize("verb", ["set_dnd", "queue_pause"])
def test_a_switch_without_on_or_off_is_refused_rather_than_read_as_off(verb: str) -> None:
    assert rejection(verb, enabled=None) == "invalid-input"


def test_queue_pause_names_the_queue_and_the_reason() -> None:
    (action,) = build("queue_pause", enabled=True, queue="support", reason="Lunch break")

    assert headers(action) == [
        ("Action", "QueuePause"),
        ("Interface", "PJSIP/101"),
        ("Paused", "true"),
        ("Queue", "support"),
        ("Reason", "Lunch break"),
    ]


def test_queue_pause_without_a_queue_unpauses_the_device_in_every_queue() -> None:
    (action,) = build("queue_pause", enabled=False)

    assert headers(action) == [
        ("Action", "QueuePause"),
        ("Interface", "PJSIP/101"),
        ("Paused", "false"),
    ]


def test_queue_pause_cuts_a_long_reason_to_80_characters() -> None:
    (action,) = build("queue_pause", enabled=True, reason="x" * 200)

    assert action["Reason"] == "x" * 80


@pytest.mark.parametrize("queue", ["support sales", "support;sales", "q" * 81])
def test_queue_pause_refuses_what_is_not_a_queue_name(queue: str) -> None:
    assert rejection("queue_pause", enabled=True, queue=queue) == "invalid-input"


def test_send_dtmf_plays_one_digit_per_action_in_order() -> None:
    actions = build("send_dtmf", call=make_call_view(), digits="12*#A")

    assert [headers(action) for action in actions] == [
        [("Action", "PlayDTMF"), ("Channel", OPERATOR), ("Digit", digit)] for digit in "12*#A"
    ]


@pytest.mark.parametrize("digits", [None, "", "12x", "1 2", "E", "1" * 33])
def test_send_dtmf_refuses_what_a_phone_cannot_dial(digits: str | None) -> None:
    assert rejection("send_dtmf", call=make_call_view(), digits=digits) == "invalid-input"


# -- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["make_call", "blind_transfer", "attended_transfer"])
def test_a_number_outside_the_dial_pattern_is_refused_as_invalid_number(verb: str) -> None:
    config = make_connector_config(outbound_dial_pattern=r"^8[0-9]{10}$")

    code = rejection(verb, config=config, call=make_call_view(), target="+15559870001")

    assert code == "invalid-number"


def test_a_number_matching_the_dial_pattern_is_accepted() -> None:
    config = make_connector_config(outbound_dial_pattern=r"^8[0-9]{10}$")

    (action,) = build("make_call", config=config, target="8 (495) 123-45-67")

    assert action["Exten"] == "84951234567"


def test_a_configured_extension_is_accepted_whatever_the_dial_pattern() -> None:
    # operator_101 transfers to colleague 102: an extension of this connector.
    config = make_connector_config(
        outbound_dial_pattern=r"^\+7495[0-9]{7}$",
        lines={"101": "PJSIP/101", "102": "PJSIP/102"},
    )

    (action,) = build("blind_transfer", config=config, call=make_call_view(), target="102")

    assert action["Exten"] == "102"


@pytest.mark.parametrize("verb", ["make_call", "blind_transfer", "attended_transfer"])
@pytest.mark.parametrize("target", ["12345678", "900", "112", "103"])
def test_a_short_number_that_is_no_configured_extension_must_match_the_dial_pattern(
    verb: str, target: str
) -> None:
    # Toll fraud: a premium or service number must not pass as "internal".
    config = make_connector_config(
        outbound_dial_pattern=r"^\+7495[0-9]{7}$",
        lines={"101": "PJSIP/101", "102": "PJSIP/102"},
    )

    code = rejection(verb, config=config, call=make_call_view(), target=target)

    assert code == "invalid-number"


@pytest.mark.parametrize("target", [None, "", "  ", "sales", "1", "+", "102@other-context"])
def test_what_is_not_a_number_is_refused_as_invalid_number(target: str | None) -> None:
    assert rejection("make_call", target=target) == "invalid-number"


# -- injection ---------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["make_call", "blind_transfer", "attended_transfer"])
def test_an_injection_attempt_as_target_is_refused(verb: str) -> None:
    config = make_connector_config(outbound_dial_pattern=r".*")  # even a careless pattern

    with pytest.raises(CommandRejected):
        build(verb, config=config, call=make_call_view(), target=INJECTION)


def test_an_injection_attempt_as_dtmf_digits_is_refused() -> None:
    assert rejection("send_dtmf", call=make_call_view(), digits=INJECTION) == "invalid-input"


def test_an_injection_attempt_as_pause_reason_is_refused() -> None:
    assert rejection("queue_pause", enabled=True, reason=INJECTION) == "invalid-input"


def test_an_injection_attempt_as_queue_is_refused() -> None:
    assert rejection("queue_pause", enabled=True, queue=INJECTION) == "invalid-input"


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_an_injection_attempt_as_line_is_refused_for_every_verb(verb: str) -> None:
    call = make_call_view(line=INJECTION)

    code = rejection(verb, line=INJECTION, call=call, target="102", digits="1", enabled=True)

    assert code == "invalid-input"


# -- verbs and calls ---------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["", "originate", "Hangup", "hang-up", "make_call\r\n"])
def test_an_unknown_verb_is_refused_as_unknown_command(verb: str) -> None:
    assert rejection(verb, call=make_call_view(), target="102") == "unknown-command"


@pytest.mark.parametrize("verb", sorted(CALL_VERBS))
def test_a_call_verb_without_a_live_call_is_refused_as_no_such_call(verb: str) -> None:
    config = make_connector_config(hold_method="phone-notify", answer_method="phone-notify")

    code = rejection(verb, config=config, call=None, target="102", digits="1")

    assert code == "no-such-call"


@pytest.mark.parametrize("verb", sorted(CALL_VERBS))
def test_a_call_verb_on_a_call_without_the_operators_channel_is_refused(verb: str) -> None:
    call = make_call_view(channel=None)

    assert rejection(verb, call=call, target="102", digits="1") == "no-such-call"


@pytest.mark.parametrize("verb", sorted(CALL_VERBS))
def test_a_call_verb_on_another_lines_call_is_refused_as_not_your_call(verb: str) -> None:
    # operator_101 sends a command for a call the worker knows on line 102.
    call = make_call_view(line="102", channel="PJSIP/102-0000002b")

    assert rejection(verb, call=call, target="103", digits="1") == "not-your-call"


@pytest.mark.parametrize(
    ("verb", "fields"),
    [
        ("make_call", {"target": "102"}),
        ("set_dnd", {"enabled": True}),
        ("queue_pause", {"enabled": True}),
    ],
)
def test_line_verbs_need_no_call(verb: str, fields: dict[str, Any]) -> None:
    actions = build(verb, call=None, **fields)

    assert actions


# -- the connector config ----------------------------------------------------------------------


def test_device_for_builds_the_device_from_the_template_when_the_line_has_none() -> None:
    config = make_connector_config(channel_template="SIP/{ext}", lines={"101": "SIP/desk"})

    assert (config.device_for("101"), config.device_for("102")) == ("SIP/desk", "SIP/102")


def test_capabilities_offer_only_what_the_connector_can_do() -> None:
    config = make_connector_config(dialect="11", hold_method="none", answer_method="none")

    capabilities = config.capabilities

    assert capabilities["hold"] is False
    assert capabilities["answer"] is False
    # Atxfer works on Asterisk 11 too; cancelling hangs up the consulted party there as well.
    assert capabilities["attended_transfer"] is True
    assert capabilities["cancel_transfer"] is True
    assert capabilities["blind_transfer"] is True


def test_the_connector_configs_repr_never_shows_the_secret() -> None:
    config = make_connector_config(secret="pa55-unique-Zq9")

    assert "pa55-unique-Zq9" not in repr(config)
    assert "***" in repr(config)


# -- the wire invariant ------------------------------------------------------------------------

#: Dialable-looking numbers, so the property also reaches the accepted path.
numbers = st.from_regex(r"\+?[0-9][0-9 ()\-.]{1,18}", fullmatch=True)
line_breaks = st.sampled_from(["\r", "\n", "\r\n", "\r\n\r\n", "\0", "\x85", "\u2028"])
targets = st.one_of(
    st.text(),
    numbers,
    st.tuples(numbers, line_breaks, st.text()).map("".join),
    st.tuples(st.text(), line_breaks, numbers).map("".join),
)


@given(
    target=targets,
    verb=st.sampled_from(["make_call", "blind_transfer", "attended_transfer"]),
    config=st.sampled_from([MODERN, LEGACY, make_connector_config(outbound_dial_pattern=".*")]),
)
# Both paths run on every run, whatever hypothesis draws: an accepted number and an injection.
@example(target="+15559870001", verb="make_call", config=MODERN)
@example(target="101\r\nAction: Command", verb="blind_transfer", config=MODERN)
def test_any_target_is_refused_or_encodes_to_clean_single_packets(
    target: str, verb: str, config: ConnectorConfig
) -> None:
    command = Command(verb=verb, line="101", target=target)
    try:
        actions = build_actions(config, command, make_call_view())
    except CommandRejected as refused:
        assert refused.code in {"invalid-number", "invalid-input"}
        return

    for action in actions:
        data = encode_action(action)
        assert data.endswith(b"\r\n\r\n")
        assert data.count(b"\r\n\r\n") == 1
        lines = data[: -len(b"\r\n\r\n")].split(b"\r\n")
        # One wire line per header: no CR or LF of the input survived inside a value.
        assert len(lines) == len(action.fields)
        assert not any(b"\r" in line or b"\n" in line for line in lines)
