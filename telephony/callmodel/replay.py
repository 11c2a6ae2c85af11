"""Replays a recorded AMI session through the call model (``manage.py ami_replay``).

Reads raw captures (the bytes Asterisk sent, optionally gzipped) and the recorder's JSON
lines (one packet per line with its receive time ``ts``), and runs them through the same
``CallModel.feed`` as the worker. Pure: bytes in, dicts out.
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

from .dialects import Dialect
from .lines import LineMatcher
from .model import CallModel
from .sequence import LineSequences

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
    """Every call event as its wire dict, then one ``{"record": {...}}`` per call and line.

    Numbered as the worker's recorder numbers a fresh history (``sequence.LineSequences``).
    A packet the model cannot digest gives ``{"failure": ..., "packet": ...}`` and is skipped,
    as the worker logs and skips it.
    """
    model = CallModel(lines, dialect=dialect, connector=connector)
    numbers = LineSequences()
    records = []
    for packet, received_at in packets:
        out = model.feed(packet, received_at)
        if out.failure is not None:
            shown = packet.as_dict() if isinstance(packet, Event) else repr(packet)
            yield {"failure": repr(out.failure), "packet": shown}
        for event in out.events:
            yield numbers.stamp(event.to_wire())
        records.extend(out.records)
    records.extend(model.finish())
    for record in records:
        yield {"record": record.to_wire()}
