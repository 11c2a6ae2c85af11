"""AMI packets as immutable values: what the parser returns and the encoder takes.

Knows nothing of sockets, Django or the call model. Header names are looked up
case-insensitively because Asterisk spells them inconsistently (``Uniqueid`` in
``Newchannel``, ``UniqueID`` in Asterisk 11's ``Dial``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

#: Headers whose value never appears in a repr: the AMI ``Login`` secret and MD5 key.
_SECRET_VALUE = re.compile(r"(?im)^((?:secret|key)[ \t]*:)[^\r\n]*")

#: A header as it came off the wire. ``None`` as the key marks the free-text body of
#: a ``Response: Follows`` (Asterisk <= 13 ``Command`` output), as the recorder lists it.
Field = tuple[str | None, str]


def split_fields(text: str) -> tuple[Field, ...]:
    """Ordered ``(key, value)`` pairs of a packet's text; a line without a key gets ``None``.

    The value is everything after the first colon, less one space: Asterisk writes
    ``Key: Value`` but also ``ReportBlock:`` with nothing after the colon.
    """
    fields: list[Field] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line:
            continue
        colon = line.find(":")
        if colon <= 0:
            fields.append((None, line))
            continue
        value = line[colon + 1 :]
        fields.append((line[:colon], value[1:] if value.startswith(" ") else value))
    return tuple(fields)


def first_values(fields: tuple[Field, ...]) -> dict[str, str]:
    """The first value of each header, keyed as spelled."""
    headers: dict[str, str] = {}
    for key, value in fields:
        if key is not None and key not in headers:
            headers[key] = value
    return headers


@dataclass(frozen=True, slots=True)
class Greeting:
    """The one line Asterisk sends on connect: ``Asterisk Call Manager/11.0.0``."""

    text: str

    @property
    def version(self) -> str:
        """The AMI protocol version after the slash (``1.3`` on Asterisk 11)."""
        return self.text.rpartition("/")[2]


@dataclass(slots=True, eq=False, init=False, repr=False)
class Message:
    """Common part of events, responses and actions. Treat as immutable.

    ``headers`` maps each header, as spelled, to its first value and is built while
    parsing. ``fields`` (ordered, repeats kept) is derived from ``text`` on first use:
    most events are dispatched on two or three headers and never need it.

    Deliberately not ``frozen``: a frozen dataclass's ``__init__`` costs 0.4 us more per
    packet (measured with bench/ami_parse.py), a tenth of the whole parse budget.
    """

    text: str
    headers: dict[str, str] = field(repr=False)
    _fields: tuple[Field, ...] | None = field(repr=False)
    _folded: dict[str, str] | None = field(repr=False)

    def __init__(
        self, text: str, headers: dict[str, str], fields: tuple[Field, ...] | None = None
    ) -> None:
        self.text = text
        self.headers = headers
        self._fields = fields
        self._folded = None

    kind: ClassVar[str] = "message"

    @classmethod
    def from_fields(cls, fields: tuple[Field, ...] | list[Field]) -> Self:
        """Build a packet from header pairs (the encoder's and the test peer's way)."""
        items = tuple(fields)
        text = "\r\n".join(value if key is None else f"{key}: {value}" for key, value in items)
        return cls(text, first_values(items), items)

    @property
    def fields(self) -> tuple[Field, ...]:
        """Every header in wire order, repeated keys kept."""
        fields = self._fields
        if fields is None:
            fields = self._fields = split_fields(self.text)
        return fields

    def _lower(self) -> dict[str, str]:
        folded = self._folded
        if folded is None:
            folded = {}
            for key, value in self.headers.items():
                folded.setdefault(key.lower(), value)
            self._folded = folded
        return folded

    def get(self, key: str, default: str | None = None) -> str | None:
        """First value of ``key`` (any case), or ``default``.

        A miss builds a case-folded copy of the headers once per packet. The headers
        Asterisk's manager core writes itself (``Event``, ``Response``, ``ActionID``,
        ``EventList``, ``Message``, ``Timestamp``) have one spelling in every version and
        capture, so the properties below look them up exactly: they are read for every event
        and usually missing (``ActionID``, ``Timestamp``), and the miss was half the cost of
        reading an event in the call model (measured on the burst capture).
        """
        value = self.headers.get(key)
        if value is None:
            return self._lower().get(key.lower(), default)
        return value

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __repr__(self) -> str:
        # A Login action's text holds the AMI secret (``Secret:``, or ``Key:`` for MD5
        # challenge logins); reprs end up in logs and tracebacks.
        masked = _SECRET_VALUE.sub(r"\1 ***", self.text)
        return f"{type(self).__name__}(text={masked!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message) or type(other) is not type(self):
            return NotImplemented
        return self.fields == other.fields

    def __hash__(self) -> int:
        return hash((type(self), self.fields))

    def getall(self, key: str) -> list[str]:
        """Every value of a repeated header (``Variable``, ``Output``, ``ChanVariable``).

        Asterisk before 12 spells channel variables ``ChanVariable(SIP/101-0001): x=y``;
        those fold into ``ChanVariable`` as wazo-amid's parser does.
        """
        wanted = key.lower()
        folded = wanted + "("
        return [
            value
            for name, value in self.fields
            if name is not None and (name.lower() == wanted or name.lower().startswith(folded))
        ]

    def variables(self, key: str = "ChanVariable") -> dict[str, str]:
        """``name=value`` pairs of a repeated header as a dict."""
        result: dict[str, str] = {}
        for item in self.getall(key):
            name, _, value = item.partition("=")
            result[name] = value
        return result

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for logs and the replay tool."""
        return {"kind": self.kind, "fields": [list(pair) for pair in self.fields]}

    @property
    def timestamp(self) -> str | None:
        """``Timestamp`` (manager.conf ``timestampevents = yes``), exact spelling."""
        return self.headers.get("Timestamp")

    @property
    def action_id(self) -> str | None:
        return self.headers.get("ActionID")


@dataclass(slots=True, eq=False, init=False, repr=False)
class Event(Message):
    """An unsolicited ``Event:`` packet (or an item of an event list)."""

    kind: ClassVar[str] = "event"

    @property
    def name(self) -> str:
        return self.headers.get("Event") or ""

    @property
    def is_list_complete(self) -> bool:
        """True for the closing event of an ``EventList: start`` answer."""
        return (self.headers.get("EventList") or "").lower() == "complete"


@dataclass(slots=True, eq=False, init=False, repr=False)
class Response(Message):
    """The answer to an action, matched to it by ``ActionID``."""

    kind: ClassVar[str] = "response"

    @property
    def status(self) -> str:
        """``Success``, ``Error``, ``Follows`` or ``Goodbye``."""
        return self.headers.get("Response") or ""

    @property
    def is_success(self) -> bool:
        return self.status.lower() in {"success", "follows", "goodbye"}

    @property
    def message(self) -> str:
        return self.headers.get("Message") or ""

    @property
    def starts_event_list(self) -> bool:
        """True when the action's items follow as events (``EventList: start``)."""
        return (self.headers.get("EventList") or "").lower() == "start"

    @property
    def output(self) -> list[str]:
        """Command output lines: ``Output:`` headers (14+) or the Follows body (<= 13)."""
        lines = self.getall("Output")
        for key, value in self.fields:
            if key is None:
                lines.extend(line for line in value.split("\n") if line != "--END COMMAND--")
        return lines


@dataclass(slots=True, eq=False, init=False, repr=False)
class Action(Message):
    """An action: built by ``make_action`` for the client, parsed by the test peer."""

    kind: ClassVar[str] = "action"

    @property
    def name(self) -> str:
        return self.get("Action") or ""


@dataclass(frozen=True, slots=True)
class MalformedPacket:
    """Bytes that could not be a packet, with the reason; the stream goes on after it."""

    raw: bytes
    reason: str


Packet = Greeting | Event | Response | Action | MalformedPacket
