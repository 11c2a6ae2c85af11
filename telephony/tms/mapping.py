"""Creatio's TMS wire (docs/tms-compatibility.md) to and from our own command and event shapes.

Pure: no Django, Channels or asyncio. Parses a provider's ``MsgCommandInfo`` frame into a
checked ``TmsCommand``, turns it into the same ``PanelRequest`` our own panel's socket
routes, and turns our call events (``LineEvent.to_wire()`` dicts) into ``MsgEventInfo``
frames. Every frame leaves through ``encode_event``, which refuses a key the client does not
know (it drops such a message in debug mode) and an ``eventType`` that is not a number.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..commands import CommandRejected, check_dtmf, check_text
from ..web.protocol import COMMANDS, PanelRequest


class EventType(enum.IntEnum):
    """``MsgEventType``."""

    LIBRARY_INITIALIZED = 1
    CONNECTION_CREATED = 2
    ERROR = 3
    COMMAND_INFO = 4
    RING_STARTED = 5
    RING_FINISHED = 6
    COMMUTATION_STARTED = 7
    PUT_HOLD_ACTION = 8
    END_HOLD_ACTION = 9
    ACTIVE_CALL_SNAPSHOT = 10
    LINE_STATE_CHANGED = 11
    AGENT_STATE_CHANGED = 12
    ABONENT_BUSY = 13
    DISCONNECTED = 14
    CALL_SAVED_IN_DB = 15
    RAW_DATA = 16
    CALL_INFO_CHANGED = 17
    DTMF_ENTERED = 18


class ErrorType(enum.IntEnum):
    """``MsgErrorType``; 2 and 5 make CtiModel reconnect."""

    GENERAL = 0
    LOAD_LIBRARY = 1
    OPEN_CONNECTION = 2
    COMMAND = 3
    COMMAND_NOT_IMPLEMENTED = 4
    CALL_CENTRE_NOT_AVAILABLE = 5
    AUTHENTICATION = 6


#: The shipped Asterisk ``SysMsgLib.FullClassName`` values (V2, then V1).
LIBRARIES = frozenset(
    {
        "Terrasoft.Messaging.Asterisk.V2.AsteriskConnector, Terrasoft.Messaging.Asterisk.V2",
        "Terrasoft.Messaging.Asterisk.AsteriskManager, Terrasoft.Messaging.Asterisk",
    }
)
CALL_EXECUTOR_TYPE = "Terrasoft.Messaging.Common.Call, Terrasoft.Messaging.Common"
DIRECTION_IN = "1d96a65f-2131-4916-8825-2d142b1000b2"
DIRECTION_OUT = "53f71b5f-7e17-4cf5-bf14-6a59212db422"
DIRECTION_UNKNOWN = "c072be2c-3d82-4468-9d4a-6db47d1f4cca"
#: ``MsgEventInfo``'s six serialized members: nothing else is ever sent.
ENVELOPE_KEYS = frozenset(
    {"eventType", "content", "connectionUId", "commandUId", "contentType", "privateData"}
)
#: The 22 serialized members of ``Terrasoft.Messaging.Common.Call``.
CALL_FIELDS = frozenset(
    {
        "id", "databaseUId", "userContactUId", "callFeaturesSet", "deviceId", "callerId",
        "calledId", "direction", "callContext", "callContextType", "startTime", "endTime",
        "state", "oldState", "currentHoldStartTime", "totalHoldDuration", "connectionStartTime",
        "currentTalkStartTime", "totalTalkDuration", "redirectingId", "redirectionId",
        "timeStamp",
    }
)  # fmt: skip
_COMMAND_KEYS = frozenset(
    {
        "commandUId", "command", "libraryInstanceUId", "connectionUId", "commandExecutorId",
        "commandExecutorType", "commandExecutor", "parameters",
    }
)  # fmt: skip
DTMF_FEATURE = 0x400
CONNECTED = 2
#: Creatio agent-state codes that mean "take calls" (queue member unpaused).
READY_STATES = frozenset({"Active", "READY", "ready", "Available", "agentReady"})
WRAP_UP_STATE = "agentWorkingAfterCall"
DND_STATE = "DoNotDisturb"
NOT_READY_STATE = "NotReady"
_STATE_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
_MAX_ID = 120

#: TMS command -> our panel's command (``telephony.web.protocol.COMMANDS``), for the ones that
#: go to the worker unchanged. The others are handled by the consumer or refused.
PANEL_COMMANDS = {
    "MakeCall": "MakeCall",
    "AnswerCall": "AnswerCall",
    "DropCall": "DropCall",
    "HoldCall": "HoldCall",
    "MakeConsultCall": "MakeConsultCall",
    "TransferCall": "TransferCall",
    "CancelTransfer": "CancelTransfer",
    "BlindTransferCall": "BlindTransferCall",
    "SendDtmf": "SendDtmf",
}
#: Our panel's verb for each: the panel's own table stays the one source.
PANEL_VERBS = {name: str(COMMANDS[name][0]) for name in PANEL_COMMANDS.values()}
#: TransferCall/CancelTransfer: (the primary call's parameter, or None for the executor; the
#: consultation's parameter), as the provider sends them (§3).
CONSULT_PARAMETERS: dict[str, tuple[str | None, str]] = {
    "TransferCall": (None, "consultationCall"),
    "CancelTransfer": ("currentCall", "consultCall"),
}
#: Commands the consumer answers itself (handshake, snapshots, states).
SESSION_COMMANDS = frozenset(
    {
        "LoadLibrary", "OpenConnection", "CloseConnection", "QueryActiveCallSnapshot",
        "QueryLineState", "QueryMsgUserState", "SetMsgUserState", "SetWrapUpUserState", "SetDnd",
    }
)  # fmt: skip
#: Sent by a provider (or in the enum) but not done here: answered with error type 4.
NOT_IMPLEMENTED = frozenset(
    {
        "Hookup", "SetupTransferCall", "ProcessLogs", "SetLogFilePath",
        "RegisterConnectionSession", "LibrarySpecificService", "PostRawData",
    }
)  # fmt: skip
#: Our call event name -> TMS event type (``CallTransferred`` has none: RingFinished follows).
CALL_EVENT_TYPES = {
    "RingStarted": EventType.RING_STARTED,
    "RingFinished": EventType.RING_FINISHED,
    "CommutationStarted": EventType.COMMUTATION_STARTED,
    "PutHoldAction": EventType.PUT_HOLD_ACTION,
    "EndHoldAction": EventType.END_HOLD_ACTION,
    "AbonentBusy": EventType.ABONENT_BUSY,
    "CallInfoChanged": EventType.CALL_INFO_CHANGED,
}
#: The "update" event for a call's state, for a CallInfoChanged the client could not match.
_STATE_EVENT = {
    1: EventType.RING_STARTED,
    2: EventType.COMMUTATION_STARTED,
    3: EventType.PUT_HOLD_ACTION,
    6: EventType.ABONENT_BUSY,
}


class TmsError(CommandRejected):
    """A command answered with an ERROR event (``errorType`` as the protocol numbers it)."""

    def __init__(self, error_type: ErrorType, code: str, message: str) -> None:
        super().__init__(code, message)
        self.error_type = error_type


@dataclass(frozen=True, slots=True)
class TmsCommand:
    """A provider's ``MsgCommandInfo`` that passed the frame-level checks."""

    name: str
    library_instance_uid: str = ""
    connection_uid: str = ""
    executor_id: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OpenParams:
    """What ``OpenConnection`` says: the line, and our credential when given."""

    extension: str
    key: str | None


# -- provider -> server ---------------------------------------------------------------------


def parse_command(text: str | None, *, max_bytes: int) -> TmsCommand:
    """One text frame -> a command; ``TmsError`` (type GENERAL) when it is not one."""
    if text is None:
        raise TmsError(ErrorType.GENERAL, "invalid-input", "send JSON text frames, not binary")
    if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise TmsError(ErrorType.GENERAL, "invalid-input", f"at most {max_bytes} bytes a frame")
    try:
        content = json.loads(text)
    except ValueError:
        raise TmsError(ErrorType.GENERAL, "invalid-input", "not a JSON document") from None
    if not isinstance(content, dict):
        raise TmsError(ErrorType.GENERAL, "invalid-input", "a command is a JSON object")
    name = content.get("command")
    if not isinstance(name, str) or not name:
        raise TmsError(ErrorType.GENERAL, "invalid-input", "a command needs its name")
    _name_check(name)
    unknown = set(content) - _COMMAND_KEYS
    if unknown:
        raise TmsError(ErrorType.COMMAND, "invalid-input", f"unknown key {sorted(unknown)[0]!r}")
    parameters = content.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise TmsError(ErrorType.COMMAND, "invalid-input", "parameters is an object")
    executor_id = _id(content, "commandExecutorId")
    executor = content.get("commandExecutor")
    if executor is not None:
        call_id = call_id_of(executor, "commandExecutor")
        if executor_id and call_id != executor_id:
            raise TmsError(ErrorType.COMMAND, "invalid-input", "two different calls given")
        executor_id = call_id
    return TmsCommand(
        name=name,
        library_instance_uid=_id(content, "libraryInstanceUId"),
        connection_uid=_id(content, "connectionUId"),
        executor_id=executor_id,
        parameters=parameters,
    )


def _name_check(name: str) -> None:
    if len(name) > 60 or not name.isidentifier():
        raise TmsError(ErrorType.COMMAND, "unknown-command", "not a command name")


def _id(content: dict[str, Any], key: str) -> str:
    value = content.get(key) or ""
    if not isinstance(value, str) or len(value) > _MAX_ID:
        raise TmsError(ErrorType.COMMAND, "invalid-input", f"{key} is a short string")
    try:
        return check_text(value, key)
    except CommandRejected as bad:
        raise TmsError(ErrorType.COMMAND, bad.code, bad.message) from None


def call_id_of(value: object, what: str) -> str:
    """The ``id`` of a call sent as a JSON string (``Call.serialize()``) or an object."""
    call = value
    if isinstance(value, str):
        try:
            call = json.loads(value)
        except ValueError:
            raise TmsError(ErrorType.COMMAND, "invalid-input", f"{what} is not JSON") from None
    if not isinstance(call, dict):
        raise TmsError(ErrorType.COMMAND, "invalid-input", f"{what} is not a call")
    call_id = _id({"id": call.get("id")}, "id")
    if not call_id:
        raise TmsError(ErrorType.COMMAND, "invalid-input", f"{what} has no id")
    return call_id


def parse_open(parameters: dict[str, Any]) -> OpenParams:
    """``OpenConnection``'s ``connectionParams`` (a JSON string): the extension and our key.

    The key is ``tmsKey`` in the connection parameters, or follows the extension after a
    ``;`` (``"101;<key>"``) for a settings page that keeps only its own fields.
    """
    raw = parameters.get("connectionParams")
    try:
        params = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        params = None
    if not isinstance(params, dict):
        raise TmsError(ErrorType.OPEN_CONNECTION, "invalid-input", "no connectionParams")
    extension = params.get("ExtensionName")
    if not isinstance(extension, str) or not extension.strip():
        raise TmsError(ErrorType.OPEN_CONNECTION, "invalid-input", "no ExtensionName")
    extension, _, inline_key = extension.strip().partition(";")
    key = params.get("tmsKey")
    key = key if isinstance(key, str) and key else (inline_key or None)
    try:
        check_text(extension, "ExtensionName")
        if key is not None:
            check_text(key, "the key")
    except CommandRejected as bad:
        raise TmsError(ErrorType.AUTHENTICATION, bad.code, bad.message) from None
    if len(extension) > 32:
        raise TmsError(ErrorType.OPEN_CONNECTION, "invalid-input", "ExtensionName is too long")
    return OpenParams(extension, key)


def panel_request(
    command: TmsCommand, *, line: str, connector_id: int, client_id: int
) -> PanelRequest:
    """The request our own panel's socket would route for this TMS call command."""
    name = PANEL_COMMANDS[command.name]
    parameters = command.parameters
    call_id: str | None = command.executor_id or None
    target = digits = None
    if name in CONSULT_PARAMETERS:
        call_id = consultation_id(command)
    if name in {"MakeCall", "MakeConsultCall", "BlindTransferCall"}:
        target = _string(parameters, "targetAddress")
    if name == "SendDtmf":
        digits = _string(parameters, "digits")
        _rejected_as_command(check_dtmf, digits)
    if name != "MakeCall" and not call_id:
        raise TmsError(ErrorType.COMMAND, "invalid-input", f"{command.name} needs a call")
    verb = PANEL_VERBS[name]
    return PanelRequest(
        client_id=client_id,
        name=name,
        verb=verb,
        call_id=None if name == "MakeCall" else call_id,
        target=target,
        digits=digits,
        line=line,
        connector=connector_id,
    )


def consultation_id(command: TmsCommand) -> str:
    """The call a ``TransferCall``/``CancelTransfer`` acts on: the consultation (the call
    CtiModel holds with a ``parentCall``), else the primary call.

    Our worker completes by hanging up the operator's channel of the consultation and
    cancels by hanging up its other party (the colleague); given the held primary call it
    picks the line's other call itself, and with no second live call on the line it refuses
    with ``invalid-state`` (the provider gets ERROR, never silence).
    """
    primary_key, consult_key = CONSULT_PARAMETERS[command.name]
    parameters = command.parameters
    primary = command.executor_id
    if primary_key is not None and parameters.get(primary_key) is not None:
        # CancelTransfer has no executor: both calls are parameters.
        primary = call_id_of(parameters[primary_key], primary_key)
    consult = parameters.get(consult_key)
    return call_id_of(consult, consult_key) if consult is not None else primary


def _string(parameters: dict[str, Any], key: str) -> str:
    value = parameters.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > 120:
        raise TmsError(ErrorType.COMMAND, "invalid-input", f"{key} is a non-empty string")
    _rejected_as_command(check_text, value, key)
    return value


def _rejected_as_command(check: Any, *args: Any) -> None:
    try:
        check(*args)
    except CommandRejected as bad:
        raise TmsError(ErrorType.COMMAND, bad.code, bad.message) from None


def agent_pause(parameters: dict[str, Any], *, wrap_up: bool) -> tuple[bool, str]:
    """``SetMsgUserState``/``SetWrapUpUserState`` -> (queue-paused?, reason = state code)."""
    if wrap_up:
        active = parameters.get("isWrapUpActive")
        if not isinstance(active, bool):
            raise TmsError(ErrorType.COMMAND, "invalid-input", "isWrapUpActive is a boolean")
        return (True, WRAP_UP_STATE) if active else (False, "Active")
    code = parameters.get("code")
    if not isinstance(code, str) or not _STATE_CODE.fullmatch(code):
        raise TmsError(ErrorType.COMMAND, "invalid-input", "code is an agent state code")
    return code not in READY_STATES, code


def agent_state(paused: bool, reason: str | None) -> str:
    """The agent-state code for a queue pause event (its reason is the code we paused with)."""
    if not paused:
        return "Active"
    if reason == "DND":
        return DND_STATE
    if reason and _STATE_CODE.fullmatch(reason):
        return reason
    return NOT_READY_STATE


# -- server -> provider ---------------------------------------------------------------------


def encode_event(frame: dict[str, Any]) -> str:
    """A ``MsgEventInfo`` as compact JSON; refuses what the client would choke on."""
    unknown = set(frame) - ENVELOPE_KEYS
    if unknown:
        raise ValueError(f"not a MsgEventInfo key: {sorted(unknown)}")
    event_type = frame.get("eventType")
    if isinstance(event_type, bool) or not isinstance(event_type, int) or event_type <= 0:
        raise ValueError("eventType is a positive number")
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def event(
    event_type: EventType,
    content: Any,
    connection_uid: str | None = None,
    private_data: Any = None,
) -> dict[str, Any]:
    """An event frame. ``content`` is JSON-encoded here unless it is LIBRARY_INITIALIZED's
    (used raw by the client) or COMMAND_INFO's (passed on raw)."""
    raw = event_type in {EventType.LIBRARY_INITIALIZED, EventType.COMMAND_INFO}
    frame: dict[str, Any] = {"eventType": int(event_type)}
    if connection_uid:
        frame["connectionUId"] = connection_uid
    frame["content"] = content if raw else _json(content)
    if private_data is not None:
        frame["privateData"] = private_data
    return frame


def error_event(
    error: CommandRejected, source: str, connection_uid: str | None = None
) -> dict[str, Any]:
    """ERROR (3) for a refused command; our error code travels as ``internalErrorCode``."""
    error_type = error.error_type if isinstance(error, TmsError) else _error_type(error.code)
    content = {
        "errorType": int(error_type),
        "internalErrorCode": error.code,
        "data": error.message,
        "source": source,
    }
    return event(EventType.ERROR, content, connection_uid)


def _error_type(code: str) -> ErrorType:
    if code == "unsupported":
        return ErrorType.COMMAND_NOT_IMPLEMENTED
    return ErrorType.COMMAND


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def direction(wire: dict[str, Any], line: str) -> str:
    """Our direction as Creatio's GUID; an internal call is IN on the line it rings."""
    value = wire.get("direction")
    if value == "incoming":
        return DIRECTION_IN
    if value == "outgoing":
        return DIRECTION_OUT
    if value == "internal":
        return DIRECTION_OUT if wire.get("caller_number") == line else DIRECTION_IN
    return DIRECTION_UNKNOWN


def call_payload(wire: dict[str, Any], line: str) -> dict[str, Any]:
    """A call event's wire dict as a ``Call`` object; always with ``callFeaturesSet``."""
    state = int(wire.get("state_code") or 0)
    features = int(wire.get("features") or 0)
    if state == CONNECTED:
        features |= DTMF_FEATURE  # SendDtmf plays digits into any connected call
    call = {
        "id": str(wire["call_id"]),
        "deviceId": line,
        "callerId": wire.get("caller_number") or "",
        "calledId": wire.get("callee_number") or "",
        "direction": direction(wire, line),
        "state": state,
        "callFeaturesSet": features,
    }
    if wire.get("transferred_to"):
        call["redirectionId"] = str(wire["transferred_to"])
    assert set(call) <= CALL_FIELDS  # noqa: S101 - the table above is the contract
    return call


def frames_for(
    wire: dict[str, Any], line: str, live_calls: int
) -> list[tuple[EventType, Any, Any]]:
    """(event type, content, private data) for one of our events on ``line``, in order.

    ``live_calls`` is how many calls the client holds for the line: the client finds a
    CALL_INFO_CHANGED's call by ``databaseUId``, which we never set, so with two calls the
    change goes out as the update event of the call's state instead.
    """
    name = wire.get("event")
    if name == "LineStateChanged":
        frames: list[tuple[EventType, Any, Any]] = [
            (
                EventType.LINE_STATE_CHANGED,
                {"callFeaturesSet": int(wire.get("features") or 0)},
                None,
            )
        ]
        if wire.get("paused") is not None:
            state = agent_state(bool(wire["paused"]), wire.get("reason"))
            frames.append((EventType.AGENT_STATE_CHANGED, state, None))
        return frames
    event_type = CALL_EVENT_TYPES.get(str(name))
    if event_type is None or not wire.get("call_id"):
        return []
    if event_type is EventType.CALL_INFO_CHANGED and live_calls > 1:
        event_type = _STATE_EVENT.get(int(wire.get("state_code") or 0), EventType.RING_STARTED)
    return [(event_type, call_payload(wire, line), None)]


def snapshot_content(wires: list[dict[str, Any]], line: str) -> dict[str, Any]:
    """ACTIVE_CALL_SNAPSHOT's content: every live call, the oldest one current."""
    calls = [call_payload(wire, line) for wire in wires]
    return {"ActiveCalls": calls, "CurrentCall": calls[0] if calls else None}


def line_features(wires: list[dict[str, Any]]) -> int:
    """QueryLineState's answer: what the line can do (dial, plus each live call's buttons)."""
    features = 0x2
    for wire in wires:
        features |= int(wire.get("features") or 0)
    return features
