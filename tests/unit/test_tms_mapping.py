"""The TMS mapping from the protocol text: frames in, frames out, no I/O."""

from __future__ import annotations

import json
from typing import Any

import pytest

from telephony.callmodel.events import (
    CallState,
    CommutationStarted,
    Direction,
    Feature,
    LineStateChanged,
    RingStarted,
)
from telephony.commands import CommandRejected
from telephony.tms import mapping
from telephony.tms.mapping import ErrorType, EventType, TmsError

V2 = "Terrasoft.Messaging.Asterisk.V2.AsteriskConnector, Terrasoft.Messaging.Asterisk.V2"
CALL_TYPE = "Terrasoft.Messaging.Common.Call, Terrasoft.Messaging.Common"


def _wire(kind: type[Any] = RingStarted, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "connector": "3", "line": "101", "seq": 4, "time": 1.0, "call_id": "1700000000.42",
        "direction": Direction.INCOMING, "caller_number": "5551234", "caller_name": "Ann",
        "callee_number": "101", "callee_name": None, "state": CallState.RINGING,
        "features": Feature.CAN_ANSWER | Feature.CAN_DROP, "queue": None,
    }  # fmt: skip
    fields.update(overrides)
    wire: dict[str, Any] = kind(**fields).to_wire()
    return wire


def test_the_captured_load_library_frame_parses() -> None:
    frame = (
        '{"commandUId":"","command":"LoadLibrary","libraryInstanceUId":"","connectionUId":"",'
        f'"commandExecutorId":"","commandExecutorType":"","parameters":{{"AssemblyName":"{V2}"}}}}'
    )
    command = mapping.parse_command(frame, max_bytes=4096)
    assert command.name == "LoadLibrary" and command.parameters["AssemblyName"] in mapping.LIBRARIES


def test_the_call_executor_is_double_encoded_and_its_id_used() -> None:
    executor = json.dumps({"id": "c-1", "deviceId": "101", "state": 1})
    frame = json.dumps(
        {
            "commandUId": "", "command": "AnswerCall", "libraryInstanceUId": "l",
            "connectionUId": "c", "commandExecutorId": "c-1",
            "commandExecutorType": CALL_TYPE, "commandExecutor": executor,
        }
    )  # fmt: skip
    assert mapping.parse_command(frame, max_bytes=4096).executor_id == "c-1"
    mismatch = json.loads(frame) | {"commandExecutorId": "c-2"}
    with pytest.raises(TmsError):
        mapping.parse_command(json.dumps(mismatch), max_bytes=4096)


@pytest.mark.parametrize(
    "frame",
    [None, "nope", "[]", '{"command": 5}', '{"command":"X","extra":1}', "x" * 5000],
)
def test_frames_that_are_not_commands_are_refused(frame: str | None) -> None:
    with pytest.raises(TmsError):
        mapping.parse_command(frame, max_bytes=4096)


def test_crlf_never_passes_into_a_request() -> None:
    command = mapping.TmsCommand(
        "BlindTransferCall", executor_id="c-1", parameters={"targetAddress": "1\r\nAction: X"}
    )
    with pytest.raises(CommandRejected):
        mapping.panel_request(command, line="101", connector_id=3, client_id=1)


def test_call_commands_become_our_panels_requests() -> None:
    consult = mapping.TmsCommand(
        "MakeConsultCall", executor_id="c-1", parameters={"targetAddress": "102"}
    )
    request = mapping.panel_request(consult, line="101", connector_id=3, client_id=7)
    assert (request.verb, request.call_id, request.target, request.line) == (
        "attended_transfer", "c-1", "102", "101"
    )  # fmt: skip
    cancel = mapping.TmsCommand(
        "CancelTransfer", parameters={"currentCall": '{"id":"c-1"}', "consultCall": '{"id":"c-2"}'}
    )
    cancelled = mapping.panel_request(cancel, line="101", connector_id=3, client_id=8)
    assert (cancelled.verb, cancelled.call_id) == ("cancel_transfer", "c-2")
    make = mapping.TmsCommand("MakeCall", parameters={"targetAddress": "200"})
    made = mapping.panel_request(make, line="101", connector_id=3, client_id=9)
    assert (made.verb, made.call_id, made.connector) == ("make_call", None, 3)


@pytest.mark.parametrize(
    ("name", "executor", "parameters", "expected"),
    [
        # The consultation (the client's call with a parentCall) is the one acted on.
        ("TransferCall", "c-1", {"consultationCall": '{"id":"c-2","state":2}'}, "c-2"),
        ("TransferCall", "c-1", {"consultationCall": {"id": "c-2"}}, "c-2"),  # not a Call
        (
            "CancelTransfer",
            "",
            {"currentCall": '{"id":"c-1"}', "consultCall": '{"id":"c-2"}'},
            "c-2",
        ),
        # Without it, the primary call: the worker then finds the line's other call, or
        # refuses with invalid-state when there is none.
        ("TransferCall", "c-1", {}, "c-1"),
        ("CancelTransfer", "", {"currentCall": '{"id":"c-1"}'}, "c-1"),
    ],
)
def test_transfer_and_cancel_act_on_the_consultation(
    name: str, executor: str, parameters: dict[str, Any], expected: str
) -> None:
    command = mapping.TmsCommand(name, executor_id=executor, parameters=parameters)
    request = mapping.panel_request(command, line="101", connector_id=3, client_id=1)
    verb = {"TransferCall": "complete_transfer", "CancelTransfer": "cancel_transfer"}[name]
    assert (request.name, request.verb, request.call_id) == (name, verb, expected)


@pytest.mark.parametrize(
    ("name", "parameters"),
    [
        ("CancelTransfer", {}),  # no call at all
        ("CancelTransfer", {"currentCall": '{"id":"c-1"}', "consultCall": "{not json"}),
        ("CancelTransfer", {"currentCall": '{"state":2}', "consultCall": '{"id":"c-2"}'}),
        ("TransferCall", {"consultationCall": '{"id":"c-2\\r\\nAction: X"}'}),
    ],
)
def test_transfer_and_cancel_refuse_a_call_they_cannot_read(
    name: str, parameters: dict[str, Any]
) -> None:
    command = mapping.TmsCommand(name, parameters=parameters)
    with pytest.raises(TmsError) as refused:
        mapping.panel_request(command, line="101", connector_id=3, client_id=1)
    assert refused.value.error_type is ErrorType.COMMAND


def test_events_are_numbers_with_json_content_except_library_initialized() -> None:
    first = mapping.event(EventType.LIBRARY_INITIALIZED, "1111")
    assert mapping.encode_event(first) == '{"eventType":1,"content":"1111"}'
    agent = mapping.event(EventType.AGENT_STATE_CHANGED, "Active", "2222")
    assert json.loads(mapping.encode_event(agent))["content"] == '"Active"'
    with pytest.raises(ValueError, match="MsgEventInfo"):
        mapping.encode_event({"eventType": 5, "content": "{}", "libraryUId": "x"})
    with pytest.raises(ValueError, match="number"):
        mapping.encode_event({"eventType": "5", "content": "{}"})


def test_a_call_event_maps_to_a_call_with_known_fields_only() -> None:
    [(event_type, call, _)] = mapping.frames_for(_wire(), "101", live_calls=1)
    assert event_type is EventType.RING_STARTED
    assert set(call) <= mapping.CALL_FIELDS
    assert call == {
        "id": "1700000000.42", "deviceId": "101", "callerId": "5551234", "calledId": "101",
        "direction": mapping.DIRECTION_IN, "state": 1, "callFeaturesSet": 12,
    }  # fmt: skip
    connected = _wire(CommutationStarted, state=CallState.CONNECTED, features=Feature.CAN_DROP)
    [(_, call, _)] = mapping.frames_for(connected, "101", live_calls=1)
    assert call["callFeaturesSet"] == 0x8 | mapping.DTMF_FEATURE


def test_an_internal_call_is_out_on_the_calling_line_and_in_on_the_rung_one() -> None:
    internal = _wire(direction=Direction.INTERNAL, caller_number="101", callee_number="102")
    assert mapping.call_payload(internal, "101")["direction"] == mapping.DIRECTION_OUT
    assert mapping.call_payload(internal, "102")["direction"] == mapping.DIRECTION_IN


def test_a_queue_pause_is_a_line_state_and_an_agent_state() -> None:
    paused = LineStateChanged(
        connector="3", line="101", seq=4, time=1.0, paused=True, reason="DND"
    ).to_wire()
    frames = mapping.frames_for(paused, "101", live_calls=0)
    assert [(t, c) for t, c, _ in frames] == [
        (EventType.LINE_STATE_CHANGED, {"callFeaturesSet": 2}),
        (EventType.AGENT_STATE_CHANGED, "DoNotDisturb"),
    ]
    assert mapping.agent_pause({"code": "Active", "reason": ""}, wrap_up=False) == (False, "Active")
    assert mapping.agent_pause({"isWrapUpActive": True}, wrap_up=True) == (
        True, mapping.WRAP_UP_STATE
    )  # fmt: skip
    with pytest.raises(TmsError):
        mapping.agent_pause({"code": "x\r\ny"}, wrap_up=False)


def test_call_info_changed_goes_out_as_an_update_when_two_calls_are_held() -> None:
    wire = _wire(state=CallState.CONNECTED)
    wire["event"] = "CallInfoChanged"
    assert mapping.frames_for(wire, "101", live_calls=1)[0][0] is EventType.CALL_INFO_CHANGED
    assert mapping.frames_for(wire, "101", live_calls=2)[0][0] is EventType.COMMUTATION_STARTED


def test_the_snapshot_has_pascal_case_keys_and_the_oldest_call_current() -> None:
    content = mapping.snapshot_content([_wire(), _wire(call_id="2")], "101")
    assert list(content) == ["ActiveCalls", "CurrentCall"]
    assert content["CurrentCall"]["id"] == "1700000000.42"
    assert mapping.snapshot_content([], "101") == {"ActiveCalls": [], "CurrentCall": None}


def test_errors_carry_the_protocol_fields() -> None:
    frame = mapping.error_event(CommandRejected("unsupported", "no"), "AnswerCall", "c")
    content = json.loads(frame["content"])
    assert content == {
        "errorType": ErrorType.COMMAND_NOT_IMPLEMENTED, "internalErrorCode": "unsupported",
        "data": "no", "source": "AnswerCall",
    }  # fmt: skip


def test_open_connection_reads_the_extension_and_the_key() -> None:
    params = json.dumps({"debugMode": False, "ExtensionName": "101", "tmsKey": "k" * 20})
    assert mapping.parse_open({"connectionParams": params}) == mapping.OpenParams("101", "k" * 20)
    inline = json.dumps({"ExtensionName": "101;" + "k" * 20})
    assert mapping.parse_open({"connectionParams": inline}).key == "k" * 20
    with pytest.raises(TmsError):
        mapping.parse_open({"connectionParams": "{}"})
