"""The browser socket's message grammar: Creatio command names in, checked requests out.

Pure: no ORM, no channel layer, no clock of its own. It refuses what can be refused from
the message alone (not JSON, too big, unknown command, unknown fields, CR/LF anywhere, a
malformed number); ownership and the dial pattern need the database and are checked by
``queries``. Documented in docs/websocket-api.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..commands import CommandRejected, check_dtmf, check_text

#: Browser command -> (worker verb, fields it takes besides ``id`` and ``command``).
#: ``HoldCall`` is a toggle: the verb (hold/unhold) is chosen from the call's state.
#: ``TransferCall`` completes a consultation and ``CancelTransfer`` abandons it (how, in
#: ``telephony/commands.py``).
COMMANDS: dict[str, tuple[str | None, frozenset[str]]] = {
    "MakeCall": ("make_call", frozenset({"targetAddress", "line", "connector"})),
    "AnswerCall": ("answer", frozenset({"callId"})),
    "DropCall": ("hang_up", frozenset({"callId"})),
    "HoldCall": ("hold", frozenset({"callId"})),
    "BlindTransferCall": ("blind_transfer", frozenset({"callId", "targetAddress"})),
    "MakeConsultCall": ("attended_transfer", frozenset({"callId", "targetAddress"})),
    "TransferCall": ("complete_transfer", frozenset({"callId"})),
    "CancelTransfer": ("cancel_transfer", frozenset({"callId"})),
    "SetDnd": ("set_dnd", frozenset({"enabled", "line", "connector"})),
    # Pause or resume a line's queue membership (all its queues, or ``queue``) with a reason;
    # another operator's line needs the supervise permission.
    "PauseQueueMember": (
        "queue_pause",
        frozenset({"enabled", "line", "connector", "queue", "reason"}),
    ),
    "SendDtmf": ("send_dtmf", frozenset({"callId", "digits"})),
    "QueryActiveCallSnapshot": (None, frozenset()),
    "QueryLastSeq": (None, frozenset()),  # the audit's light question (``lastseq``)
    # A supervisor's phone listens in on an operator's call (the target is their own line).
    "ListenCall": ("listen", frozenset({"callId"})),
    "WhisperCall": ("whisper", frozenset({"callId"})),
    "BargeCall": ("barge", frozenset({"callId"})),
}
#: Fields every command with a call may also carry to pick the record (a supervisor watching
#: both ends of an internal call).
_CALL_SCOPE = frozenset({"line", "connector"})
_REQUIRED = {
    "targetAddress": {"MakeCall", "BlindTransferCall", "MakeConsultCall"},
    "callId": {name for name, (_, fields) in COMMANDS.items() if "callId" in fields},
    "enabled": {"SetDnd", "PauseQueueMember"},
    "line": {"PauseQueueMember"},
    "digits": {"SendDtmf"},
}
_MAX_ID = 64
#: Asterisk queue names as ``telephony.commands`` accepts them; a pause reason's length.
_QUEUE = re.compile(r"^[\w.@+-]{1,80}$")
_MAX_REASON = 80
_MAX_TEXT = 120


@dataclass(frozen=True, slots=True)
class PanelRequest:
    """A browser command that passed the message-level checks."""

    client_id: str | int
    name: str
    verb: str | None
    call_id: str | None = None
    target: str | None = None
    digits: str | None = None
    enabled: bool | None = None
    line: str | None = None
    connector: int | None = None
    queue: str | None = None
    reason: str | None = None


class BadMessage(CommandRejected):
    """A browser message refused before it meant anything; ``client_id`` when it had one."""

    def __init__(self, code: str, message: str, client_id: str | int | None = None) -> None:
        super().__init__(code, message)
        self.client_id = client_id


def parse_message(text: str | None, *, max_bytes: int) -> PanelRequest:
    """One WebSocket text frame -> a request, or ``BadMessage`` with the code to answer.

    Raises nothing else, whatever the frame holds: the socket answers and stays open.
    """
    if text is None:
        raise BadMessage("invalid-input", "send JSON text frames, not binary")
    if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise BadMessage("invalid-input", f"a message may be at most {max_bytes} bytes")
    try:
        content = json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        raise BadMessage("invalid-input", "not a JSON document") from None
    except RecursionError:  # "[[[[..." nested deeper than Python's stack: still just bad input
        raise BadMessage("invalid-input", "a message is a flat JSON object") from None
    if not isinstance(content, dict):
        raise BadMessage("invalid-input", "a message is a JSON object")
    try:
        client_id = _client_id(content.get("id"))
    except CommandRejected as rejected:  # a line break in the id: refused, without echoing it
        raise BadMessage(rejected.code, rejected.message) from None
    try:
        return _request(content, client_id)
    except BadMessage:
        raise
    except CommandRejected as rejected:
        raise BadMessage(rejected.code, rejected.message, client_id) from None


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _client_id(value: object) -> str | int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadMessage("invalid-input", "every command needs an id (a string or an integer)")
    if isinstance(value, str):
        if not value or len(value) > _MAX_ID:
            raise BadMessage("invalid-input", f"an id is 1 to {_MAX_ID} characters")
        check_text(value, "the id")
    elif abs(value) >= 2**53:
        raise BadMessage("invalid-input", "an integer id must fit a JavaScript number")
    return value


def _request(content: dict[str, Any], client_id: str | int) -> PanelRequest:
    name = content.get("command")
    if not isinstance(name, str) or name not in COMMANDS:
        raise CommandRejected("unknown-command", f"unknown command {str(name)[:40]!r}")
    verb, fields = COMMANDS[name]
    if "callId" in fields:
        fields = fields | _CALL_SCOPE
    unknown = set(content) - fields - {"id", "command"}
    if unknown:
        raise CommandRejected("invalid-input", f"{name} takes no {sorted(unknown)[0]!r}")
    for field, commands in _REQUIRED.items():
        if name in commands and content.get(field) is None:
            raise CommandRejected("invalid-input", f"{name} needs {field}")
    enabled = content.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise CommandRejected("invalid-input", "enabled is true or false")
    connector = content.get("connector")
    if connector is not None and (isinstance(connector, bool) or not isinstance(connector, int)):
        raise CommandRejected("invalid-input", "connector is a connector id (an integer)")
    digits = _text(content, "digits")
    if digits is not None:
        check_dtmf(digits)
    queue = _text(content, "queue")
    if queue is not None and not _QUEUE.fullmatch(queue):
        raise CommandRejected("invalid-input", "queue is a queue's name")
    reason = _text(content, "reason")
    if reason is not None and len(reason) > _MAX_REASON:
        raise CommandRejected("invalid-input", f"a reason is at most {_MAX_REASON} characters")
    target = _text(content, "targetAddress")
    if target is not None and not target.strip():
        raise CommandRejected("invalid-number", "a number is required")
    return PanelRequest(
        client_id=client_id,
        name=name,
        verb=verb,
        call_id=_text(content, "callId"),
        target=target,
        digits=digits,
        enabled=enabled,
        line=_text(content, "line"),
        connector=connector,
        queue=queue,
        reason=reason,
    )


def _text(content: dict[str, Any], field: str) -> str | None:
    """A string field: present, a string, short, and free of CR, LF and control characters."""
    value = content.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CommandRejected("invalid-input", f"{field} is a string")
    check_text(value, field)
    if not value or len(value) > _MAX_TEXT:
        raise CommandRejected("invalid-input", f"{field} is 1 to {_MAX_TEXT} characters")
    return value


def parse_since(raw: str) -> dict[tuple[int, str], int]:
    """``since=3:101:57,3:102:12`` (connector:line:seq) -> {(3, "101"): 57, ...}; junk skipped."""
    marks: dict[tuple[int, str], int] = {}
    for item in raw.split(",")[:1000]:
        connector, _, rest = item.strip().partition(":")
        line, _, seq = rest.rpartition(":")
        if connector.isdigit() and seq.isdigit() and line and len(line) <= 32:
            marks[(int(connector), line)] = int(seq)
    return marks


def line_key(connector_id: int | str, line: str) -> str:
    """The key of a line in ``last_seq`` and ``since``: ``"3:101"``."""
    return f"{connector_id}:{line}"


class TokenBucket:
    """A per-socket rate limit: ``rate`` commands a second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = now

    def take(self, now: float) -> bool:
        """Spend one token if there is one; the caller passes the monotonic clock."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
