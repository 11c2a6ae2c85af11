"""Sans-I/O AMI framing: bytes in, packets out; actions in, bytes out.

Never reads a socket and never raises on input: a packet that cannot be parsed becomes a
``MalformedPacket`` value carrying its bytes, and the stream goes on (wazo-amid's parser
behaviour, with errors as values). Written by hand because AMI framing is our core and the
Python libraries for it (panoramisk, asterisk-ami) raise, stall or drop on real traffic.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from .errors import AmiEncodeError
from .packets import (
    Action,
    Event,
    Field,
    Greeting,
    MalformedPacket,
    Message,
    Packet,
    Response,
    first_values,
    split_fields,
)

#: A packet ends with an empty line; lines end in CRLF or, on some PBXs and inside
#: Asterisk 11 ``Command`` output, in a bare LF. "\r\n\r\n", "\n\n" and "\n\r\n" all
#: close a packet (Asterisk 22 answers ``Park`` with ``Message: ...\n\r\n\r\n``).
_TERMINATOR = re.compile(rb"\r?\n\r?\n")
_TEXT_TERMINATOR = re.compile(r"\r?\n\r?\n")
_GREETING = re.compile(rb"^[^:\r\n]*/[0-9][^:\r\n]*\r?\n")
_END_COMMAND = b"--END COMMAND--"
_FOLLOWS = b"Response: Follows"

#: 64 KiB: the largest real packets (``CoreShowChannel`` with many variables) are a few KiB.
DEFAULT_MAX_PACKET = 64 * 1024


class AmiParser:
    """Turns AMI bytes into packets. Never reads a socket; never raises on bad input.

    ``feed(b"")`` signals EOF, as in h11: a packet cut mid-way by a closed connection is
    returned as ``MalformedPacket`` so the caller can log it, never half-applied.
    """

    def __init__(
        self,
        *,
        fallback_encoding: str | None = None,
        max_packet: int = DEFAULT_MAX_PACKET,
        expect_greeting: bool = True,
    ) -> None:
        self._buffer = b""
        self._fallback = fallback_encoding
        self._max_packet = max_packet
        self._expect_greeting = expect_greeting
        self._discarding = False

    @property
    def buffered(self) -> int:
        """Bytes held back waiting for the end of a packet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Packet]:
        """Add bytes from the socket; return every packet they complete."""
        if not data:
            return self._eof()
        buffer = self._buffer + data if self._buffer else data
        packets: list[Packet] = []
        if self._expect_greeting:
            buffer = self._take_greeting(buffer, packets)
            if self._expect_greeting:
                self._buffer = buffer
                return self._check_size(packets)
        if self._discarding:
            buffer = self._skip_to_terminator(buffer)
            if self._discarding:
                self._buffer = b""
                return packets
        last = buffer.rfind(b"\n\n")
        crlf = buffer.rfind(b"\n\r\n")
        end = max(last + 2 if last >= 0 else -1, crlf + 3 if crlf >= 0 else -1)
        if end < 0:
            self._buffer = buffer
            return self._check_size(packets)
        region, self._buffer = buffer[:end], buffer[end:]
        if _FOLLOWS in region:
            # Rare: Asterisk <= 13 Command output may hold blank lines inside the body.
            self._buffer = self._frame_slowly(region, packets) + self._buffer
        else:
            self._frame(region, packets)
        return self._check_size(packets)

    # -- framing -------------------------------------------------------------------------

    def _frame(self, region: bytes, packets: list[Packet]) -> None:
        """Split a run of complete packets; decode the run at once when it is UTF-8."""
        try:
            text = region.decode("utf-8")
        except UnicodeDecodeError:
            packets.extend(
                self._parse(self._decode(chunk), chunk)
                for chunk in _TERMINATOR.split(region)
                if chunk.strip()
            )
            return
        append = packets.append
        breaks = text.count("\r\n")
        if text.count("\n") != breaks or text.count("\r") != breaks:
            # Bare LF or CR somewhere (LF-only PBX, Park's "\n\r\n"): the careful way.
            for chunk in _TEXT_TERMINATOR.split(text):
                if chunk and not chunk.isspace():
                    append(self._parse(chunk, None))
            return
        # Every line ends in CRLF, so every blank line is "\r\n\r\n". This loop is the
        # hot path of the whole worker (20+ headers per event, 20k+ events/s): it is kept
        # inline and flat on purpose; anything unusual falls back to ``_parse``.
        for chunk in text.split("\r\n\r\n"):
            if not chunk:
                continue
            headers: dict[str, str] = {}
            lines = chunk.split("\r\n")
            for line in lines:
                key, separator, value = line.partition(": ")
                if not separator:
                    break
                headers[key] = value
            else:
                if len(headers) != len(lines):
                    # A repeated header (ChanVariable, Output): the first value wins.
                    headers = first_values(split_fields(chunk))
                if chunk.startswith("Event: "):
                    append(Event(chunk, headers))
                    continue
                kind = _KINDS.get(chunk[: chunk.find(":")].lower())
                if kind is not None:
                    append(kind(chunk, headers))
                    continue
            append(self._parse(chunk, None))

    def _frame_slowly(self, region: bytes, packets: list[Packet]) -> bytes:
        """Frame packet by packet, keeping a Follows body whole; return the unfinished tail."""
        position = 0
        while position < len(region):
            match = _TERMINATOR.search(region, position)
            if match is None:
                break
            end = match.end()
            if region.startswith(_FOLLOWS, position) and (
                region.find(_END_COMMAND, position, end) < 0
            ):
                close = region.find(_END_COMMAND, position)
                if close < 0:
                    return region[position:]
                match = _TERMINATOR.search(region, close)
                if match is None:
                    return region[position:]
                end = match.end()
            chunk = region[position:end]
            if chunk.strip():
                packets.append(self._parse(self._decode(chunk), chunk))
            position = end
        return region[position:]

    def _take_greeting(self, buffer: bytes, packets: list[Packet]) -> bytes:
        newline = buffer.find(b"\n")
        if newline < 0:
            return buffer
        self._expect_greeting = False
        match = _GREETING.match(buffer)
        if match is None:
            # No greeting (a server that skips it, or a stream joined mid-way): parse on.
            return buffer
        packets.append(Greeting(self._decode(match.group()).strip()))
        return buffer[match.end() :]

    def _check_size(self, packets: list[Packet]) -> list[Packet]:
        if len(self._buffer) > self._max_packet:
            packets.append(
                MalformedPacket(
                    self._buffer,
                    f"packet exceeds {self._max_packet} bytes without a blank line",
                )
            )
            self._buffer = b""
            self._discarding = True
            self._expect_greeting = False
        return packets

    def _skip_to_terminator(self, buffer: bytes) -> bytes:
        match = _TERMINATOR.search(buffer)
        if match is None:
            return b""
        self._discarding = False
        return buffer[match.end() :]

    def _eof(self) -> list[Packet]:
        tail, self._buffer = self._buffer, b""
        self._discarding = False
        if tail.strip():
            return [MalformedPacket(tail, "connection closed in the middle of a packet")]
        return []

    # -- decoding ------------------------------------------------------------------------

    def _decode(self, chunk: bytes) -> str:
        try:
            return chunk.decode("utf-8")
        except UnicodeDecodeError:
            # A PBX configured for cp1251/latin-1 caller names: the connector says which.
            return chunk.decode(self._fallback or "utf-8", errors="replace")

    def _parse(self, text: str, raw: bytes | None) -> Packet:
        if "\r" in text and text.startswith("Response: Follows"):
            return self._parse_follows(text)
        fields = split_fields(text)
        return _classify(fields, first_values(fields), text, raw)

    def _parse_follows(self, text: str) -> Packet:
        """Asterisk <= 13 ``Command``: CRLF headers, then LF-terminated raw output lines."""
        fields: list[Field] = []
        parts = text.split("\r\n")
        body_from = len(parts)
        for number, part in enumerate(parts):
            if "\n" in part or part.startswith("--END COMMAND--") or ":" not in part:
                body_from = number
                break
            key, _, value = part.partition(":")
            fields.append((key, value[1:] if value.startswith(" ") else value))
        body = "\r\n".join(parts[body_from:]).strip("\r\n")
        if body:
            fields.append((None, body))
        items = tuple(fields)
        return _classify(items, first_values(items), text, None)


_KINDS: dict[str, type[Event] | type[Response] | type[Action]] = {
    "event": Event,
    "response": Response,
    "action": Action,
}


def _classify(
    fields: tuple[Field, ...], headers: dict[str, str], text: str, raw: bytes | None
) -> Packet:
    first = fields[0][0] if fields else None
    kind = _KINDS.get(first.lower()) if first is not None else None
    if kind is None:
        lowered = {key.lower() for key in headers}
        kind = Event if "event" in lowered else Response if "response" in lowered else None
    if kind is not None:
        return kind(text, headers, fields)
    return MalformedPacket(
        raw if raw is not None else text.encode("utf-8"),
        f"packet has no Event, Response or Action header (first line {first or text[:40]!r})",
    )


def new_action_id() -> str:
    """A fresh ActionID, unique across processes and reconnects."""
    return uuid.uuid4().hex[:16]


def make_action(name: str, fields: Iterable[Field] = (), *, action_id: str | None = None) -> Action:
    """Build an ``Action``; the ``ActionID`` is always set (generated when not given)."""
    items: list[Field] = [("Action", name), ("ActionID", action_id or new_action_id())]
    items.extend((key, value) for key, value in fields if key is not None)
    return Action.from_fields(items)


def encode_action(action: Message) -> bytes:
    """Bytes for the wire. Refuses CR or LF in any key or value: that is AMI injection.

    Raises:
        AmiEncodeError: naming the field that carried a line break or an empty key.
    """
    lines: list[str] = []
    has_action_id = False
    for key, value in action.fields:
        if key is None or not key.strip() or ":" in key:
            raise AmiEncodeError(str(key), "header name must be a non-empty word without ':'")
        if "\r" in key or "\n" in key:
            raise AmiEncodeError(key, "header name contains a line break")
        if "\r" in value or "\n" in value:
            raise AmiEncodeError(key, "value contains a line break (CR or LF)")
        if key.lower() == "actionid":
            has_action_id = True
        lines.append(f"{key}: {value}\r\n")
    if not has_action_id:
        lines.insert(1 if lines else 0, f"ActionID: {new_action_id()}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("utf-8")


def encode_message(message: Message) -> bytes:
    """Bytes of an event or response, as the test peer sends them (no ActionID added)."""
    lines = [
        f"{key}: {value}\r\n" if key is not None else f"{value}\r\n"
        for key, value in message.fields
    ]
    lines.append("\r\n")
    return "".join(lines).encode("utf-8")
