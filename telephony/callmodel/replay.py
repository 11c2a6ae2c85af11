"""Replays a recorded AMI session through the call model (``manage.py ami_replay``).

Reads raw captures (the bytes Asterisk sent, optionally gzipped) and the recorder's JSON
lines (one packet per line with its receive time ``ts``). Pure: bytes in, dicts out.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from telephony.ami.packets import Event, Greeting, Packet, Response
from telephony.ami.protocol import AmiParser

from .dialects import Dialect, DialectReader
from .lines import LineMatcher
from .tracker import CallTracker

TimedPacket = tuple[Packet, float | None]


class CaptureError(ValueError):
    """The input is not an AMI capture this replay can read."""


def read_capture(data: bytes) -> list[TimedPacket]:
    """Packets of a raw capture (no times) or of a recorder JSONL file (times from ``ts``).

    Raises:
        CaptureError: for a broken gzip stream or bytes with no AMI packet in them.
    """
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise CaptureError(f"broken gzip data: {error}") from error
    if data.lstrip()[:1] == b"{":
        return _read_jsonl(data)
    parser = AmiParser()
    packets = parser.feed(data) + parser.feed(b"")
    if not any(isinstance(packet, Greeting | Event | Response) for packet in packets):
        raise CaptureError("no AMI packets found (expected 'Event: ...' blocks or a greeting)")
    return [(packet, None) for packet in packets]


def read_capture_file(path: str | Path) -> list[TimedPacket]:
    """``read_capture`` of a file; a missing or unreadable file is a ``CaptureError``."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise CaptureError(f"cannot read {path}: {error.strerror or error}") from error
    return read_capture(data)


def _read_jsonl(data: bytes) -> list[TimedPacket]:
    packets: list[TimedPacket] = []
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            kind = item.get("kind")
            stamp = item.get("ts")
            fields = tuple((key, value) for key, value in item.get("fields", ()))
        except (ValueError, TypeError, AttributeError) as error:
            raise CaptureError(f"line {number} is not a recorder JSON packet: {error}") from error
        time = float(stamp) if isinstance(stamp, int | float) else None
        if kind == "event":
            packets.append((Event.from_fields(fields), time))
        elif kind == "response":
            packets.append((Response.from_fields(fields), time))
        elif kind == "greeting":
            packets.append((Greeting(str(item.get("raw", "")).strip()), time))
    if not packets:
        raise CaptureError("no AMI packets found in the JSON lines")
    return packets


def replay(
    packets: Iterable[TimedPacket],
    *,
    lines: Iterable[str] | LineMatcher | None = None,
    dialect: Dialect | str = Dialect.AUTO,
    connector: str = "",
) -> Iterator[dict[str, Any]]:
    """Every call event as its wire dict, then one ``{"record": {...}}`` per call and line."""
    reader = DialectReader(dialect)
    tracker = CallTracker(lines, connector=connector, stale_after=None)
    records = []
    for packet, received_at in packets:
        for fact in reader.read(packet, received_at):
            for event in tracker.apply(fact):
                yield event.to_wire()
        records.extend(tracker.take_records())
    records.extend(tracker.flush())
    for record in records:
        yield {"record": record.to_wire()}
