"""Operator commands to AMI actions: validated, owned, and refused with a stable code.

Pure: takes the connector's config and what the worker knows of the call, returns the
actions to send or raises ``CommandRejected``. Every value that reaches an action is checked
here (no CR/LF, numbers match the connector's dial pattern) and again by ``encode_action``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .ami.packets import Action
from .ami.protocol import make_action
from .config import ConnectorConfig

_DTMF = re.compile(r"^[0-9*#A-Da-d]{1,32}$")
_NAME = re.compile(r"^[\w.@+-]{1,80}$")
ORIGINATE_TIMEOUT_MS = 30_000


class CommandRejected(Exception):
    """An operator command refused before anything reached the PBX; ``code`` is a stable slug."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Command:
    """A command as the worker receives it from a browser socket."""

    verb: str
    line: str
    call_id: str | None = None
    target: str | None = None
    digits: str | None = None
    enabled: bool | None = None
    queue: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class CallView:
    """What the worker knows of one live call on one line."""

    call_id: str
    line: str
    state: str
    channel: str | None
    peer_channel: str | None


def check_text(value: str, what: str) -> str:
    """Refuse a line break (AMI injection) or control character in any user value."""
    if any(char in value for char in "\r\n\0"):
        raise CommandRejected("invalid-input", f"{what} must not contain line breaks")
    if not value.isprintable():
        raise CommandRejected("invalid-input", f"{what} contains control characters")
    return value


def check_number(config: ConnectorConfig, number: str | None) -> str:
    """A number an operator may dial or transfer to: one of the connector's own extensions
    (``config.lines``) or a number matching its outbound dial pattern."""
    if not number:
        raise CommandRejected("invalid-number", "a number is required")
    check_text(number, "the number")
    compact = re.sub(r"[\s()\-.]", "", number)
    # Only configured extensions skip the pattern: "any short number" would let 900, 112 or
    # a feature code through the originate context (toll fraud); the default pattern
    # (config.DEFAULT_DIAL_PATTERN) refuses them and the premium ranges.
    if compact in config.lines or config.dial_pattern.fullmatch(compact):
        return compact
    raise CommandRejected("invalid-number", f"{number!r} is not a number this PBX may dial")


def build_actions(config: ConnectorConfig, command: Command, call: CallView | None) -> list[Action]:
    """The AMI actions that carry out ``command``.

    Raises:
        CommandRejected: bad input, no such call, or an operation this connector can't do.
    """
    if command.verb not in VERBS:
        raise CommandRejected("unknown-command", f"unknown command {command.verb!r}")
    check_text(command.line, "the line")
    if command.verb in CALL_VERBS:
        if call is None or not call.channel:
            raise CommandRejected("no-such-call", "that call is not live on your line")
        if call.line != command.line:
            # The worker looks calls up by id; a call of another line is not this line's to touch.
            raise CommandRejected("not-your-call", "that call is on another line")
    builder = _BUILDERS[command.verb]
    return builder(config, command, call)


def _channel(call: CallView | None) -> str:
    assert call is not None and call.channel  # noqa: S101 - checked in build_actions
    return call.channel


def _make_call(config: ConnectorConfig, command: Command, _call: CallView | None) -> list[Action]:
    number = check_number(config, command.target)
    device = config.device_for(command.line)
    fields = [
        ("Channel", device),
        ("Context", config.originate_context),
        ("Exten", number),
        ("Priority", "1"),
        ("CallerID", f'"{number}" <{number}>'),
        ("Timeout", str(ORIGINATE_TIMEOUT_MS)),
        ("Async", "true"),
    ]
    return [make_action("Originate", fields)]


def _hang_up(config: ConnectorConfig, command: Command, call: CallView | None) -> list[Action]:
    return [make_action("Hangup", [("Channel", _channel(call))])]


def _notify(config: ConnectorConfig, line: str, event: str) -> Action:
    """Remote-control NOTIFY (Broadsoft ``talk``/``hold``) that many SIP phones obey."""
    device = config.device_for(line)
    if config.is_legacy:
        return make_action("SIPnotify", [("Channel", device), ("Variable", f"Event={event}")])
    endpoint = device.partition("/")[2] or line
    return make_action("PJSIPNotify", [("Endpoint", endpoint), ("Variable", f"Event={event}")])


def _peer(call: CallView | None, missing: str) -> str:
    """The other party's channel, or a refusal when the model has not seen it yet."""
    if call is None or not call.peer_channel:
        raise CommandRejected("unsupported", missing)
    return call.peer_channel


def _redirect(config: ConnectorConfig, channel: str, exten: str) -> Action:
    """Send ``channel`` to ``exten`` in the connector's originate context."""
    fields = [
        ("Channel", channel),
        ("Context", config.originate_context),
        ("Exten", exten),
        ("Priority", "1"),
    ]
    return make_action("Redirect", fields)


def _hold(config: ConnectorConfig, command: Command, call: CallView | None) -> list[Action]:
    if config.hold_method == "phone-notify":
        return [_notify(config, command.line, "hold")]
    if config.hold_method == "park":
        fields = [("Channel", _peer(call, "the other party is not known yet"))]
        if config.is_legacy:
            fields.append(("Channel2", _channel(call)))
        else:
            fields.append(("TimeoutChannel", _channel(call)))
        if config.parking_lot:
            fields.append(("Parkinglot", config.parking_lot))
        return [make_action("Park", fields)]
    raise CommandRejected("unsupported", "hold is not configured for this PBX")


def _unhold(config: ConnectorConfig, command: Command, call: CallView | None) -> list[Action]:
    if config.hold_method == "phone-notify":
        return [_notify(config, command.line, "talk")]
    if config.hold_method == "park":
        # Bring the parked party back to the operator's extension.
        return [_redirect(config, _peer(call, "the parked party is not known"), command.line)]
    raise CommandRejected("unsupported", "hold is not configured for this PBX")


def _blind_transfer(
    config: ConnectorConfig, command: Command, call: CallView | None
) -> list[Action]:
    target = check_number(config, command.target)
    if config.is_legacy:
        # Asterisk 11 has no BlindTransfer action: redirect the other party instead.
        return [_redirect(config, _peer(call, "the other party is not known yet"), target)]
    fields = [("Channel", _channel(call)), ("Context", config.originate_context), ("Exten", target)]
    return [make_action("BlindTransfer", fields)]


def _attended_transfer(
    config: ConnectorConfig, command: Command, call: CallView | None
) -> list[Action]:
    """Start a consultation: ``Atxfer`` on the operator's channel (12+ and 1.8/11 alike; on 11
    it queues the ``atxfer`` feature code as DTMF, so Dial needs its ``t``/``T`` options)."""
    target = check_number(config, command.target)
    fields = [("Channel", _channel(call)), ("Context", config.originate_context), ("Exten", target)]
    return [make_action("Atxfer", fields)]


def _complete_transfer(
    config: ConnectorConfig, command: Command, call: CallView | None
) -> list[Action]:
    """Complete the consultation: the transferer's channel hangs up, which Asterisk takes as
    "complete" (12+: the attended transfer's transferer-hangup stimulus, a blond transfer
    while the colleague still rings; 1.8/11: ``builtin_atxfer`` masquerades the customer
    into the colleague's call). ``CancelAtxfer``'s twin does not exist in AMI."""
    return [make_action("Hangup", [("Channel", _channel(call))])]


def _cancel_transfer(
    config: ConnectorConfig, command: Command, call: CallView | None
) -> list[Action]:
    """Abandon the consultation: hang up the consulted party, and Asterisk takes the operator
    back to the waiting customer (12+ and 1.8/11 alike). ``CancelAtxfer`` would need
    13.18+ and the ``atxferabort`` feature; this works on every version we serve."""
    assert call is not None  # noqa: S101 - checked in build_actions
    if call.state == "held":
        # A held call is the customer waiting: hanging up its other party would lose them.
        raise CommandRejected("invalid-state", "cancel acts on the consultation, not the held call")
    return [make_action("Hangup", [("Channel", _peer(call, "the consulted party is not known"))])]


def _answer(config: ConnectorConfig, command: Command, call: CallView | None) -> list[Action]:
    if config.answer_method != "phone-notify":
        raise CommandRejected("unsupported", "this PBX's phones cannot be answered remotely")
    assert call is not None  # noqa: S101 - checked in build_actions
    if call.state != "ringing":
        raise CommandRejected("invalid-state", "the call is not ringing")
    return [_notify(config, command.line, "talk")]


def _flag(command: Command) -> bool:
    """``enabled`` of a switch command; a missing value is refused, never read as "off"."""
    if command.enabled is None:
        raise CommandRejected("invalid-input", "say whether to switch it on or off")
    return command.enabled


def _set_dnd(config: ConnectorConfig, command: Command, _call: CallView | None) -> list[Action]:
    enabled = _flag(command)
    device = config.device_for(command.line)
    pause = make_action(
        "QueuePause",
        [("Interface", device), ("Paused", "true" if enabled else "false"), ("Reason", "DND")],
    )
    if enabled:
        dnd = make_action("DBPut", [("Family", "DND"), ("Key", command.line), ("Val", "YES")])
    else:
        dnd = make_action("DBDel", [("Family", "DND"), ("Key", command.line)])
    return [dnd, pause]


def _queue_pause(config: ConnectorConfig, command: Command, _call: CallView | None) -> list[Action]:
    fields = [
        ("Interface", config.device_for(command.line)),
        ("Paused", "true" if _flag(command) else "false"),
    ]
    if command.queue:
        if not _NAME.fullmatch(command.queue):
            raise CommandRejected("invalid-input", "not a queue name")
        fields.append(("Queue", command.queue))
    if command.reason:
        fields.append(("Reason", check_text(command.reason, "the reason")[:80]))
    return [make_action("QueuePause", fields)]


def check_dtmf(digits: str | None) -> str:
    """DTMF a phone can send: 0-9, *, # and A-D, 1 to 32 of them."""
    if digits is None or not _DTMF.fullmatch(digits):
        raise CommandRejected("invalid-input", "DTMF digits are 0-9, *, # and A-D")
    return digits


def _send_dtmf(config: ConnectorConfig, command: Command, call: CallView | None) -> list[Action]:
    digits = check_dtmf(command.digits)
    channel = _channel(call)
    # PlayDTMF sends one digit per action (Asterisk 1.8 to 22).
    return [make_action("PlayDTMF", [("Channel", channel), ("Digit", digit)]) for digit in digits]


Builder = Callable[[ConnectorConfig, Command, "CallView | None"], list[Action]]

#: ChanSpy options per supervisor mode, the same on Asterisk 11 and 12+: ``b`` only a bridged
#: call, ``q`` no beep or name announcement to the supervisor, ``E`` end when the spied
#: channel hangs up; ``w`` whisper to the operator only, ``B`` barge (talk to both parties).
SPY_OPTIONS = {"listen": "bqE", "whisper": "bqwE", "barge": "bqBE"}


def _spy(mode: str) -> Builder:
    """Ring the supervisor's phone (``target``, one of the connector's lines); once answered
    it runs ChanSpy on the operator's channel of the call."""
    options = SPY_OPTIONS[mode]

    def build(config: ConnectorConfig, command: Command, call: CallView | None) -> list[Action]:
        supervisor = command.target
        if not supervisor or supervisor not in config.lines:
            raise CommandRejected("invalid-input", "listening in needs your own phone line")
        if supervisor == command.line:
            raise CommandRejected("invalid-input", "that is your own call")
        device = config.device_for(supervisor)
        fields = [
            ("Channel", device),
            ("Application", "ChanSpy"),
            ("Data", f"{_channel(call)},{options}"),
            ("CallerID", f'"{mode} {command.line}" <{command.line}>'),
            ("Timeout", str(ORIGINATE_TIMEOUT_MS)),
            ("Async", "true"),
        ]
        return [make_action("Originate", fields)]

    return build


_BUILDERS: dict[str, Builder] = {
    "make_call": _make_call,
    "hang_up": _hang_up,
    "hold": _hold,
    "unhold": _unhold,
    "blind_transfer": _blind_transfer,
    "attended_transfer": _attended_transfer,
    "complete_transfer": _complete_transfer,
    "cancel_transfer": _cancel_transfer,
    "answer": _answer,
    "set_dnd": _set_dnd,
    "queue_pause": _queue_pause,
    "send_dtmf": _send_dtmf,
    "listen": _spy("listen"),
    "whisper": _spy("whisper"),
    "barge": _spy("barge"),
}
#: Every command the worker knows: the builders' names.
VERBS = frozenset(_BUILDERS)
#: Verbs that act on one call of the line.
CALL_VERBS = VERBS - {"make_call", "set_dnd", "queue_pause"}
#: Verbs that need a consultation under way on the line (a second live call).
CONSULT_VERBS = frozenset({"complete_transfer", "cancel_transfer"})
