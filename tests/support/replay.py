"""Loads the recorded AMI captures kept byte-exact under ``tests/fixtures/ami``."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ami"

#: The full-call scenarios of both PBXs (the ``*_behaviours`` folders are protocol sessions).
SCENARIOS = sorted(
    path.parent.relative_to(FIXTURES).as_posix()
    for path in FIXTURES.glob("asterisk-*/*/events.ami*")
)


def _read(path: Path) -> bytes:
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes())
    return path.read_bytes()


def capture_path(name: str) -> Path:
    """``asterisk-22/b_inbound_answered_hold`` or ``asterisk-22/j_ami_behaviours/j2_actions``."""
    base = FIXTURES / name
    for candidate in (
        base / "events.ami",
        base / "events.ami.gz",
        base.with_suffix(".ami"),
    ):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"no capture named {name!r} under {FIXTURES}")


def load_capture(name: str) -> bytes:
    """The bytes Asterisk sent, exactly as recorded."""
    return _read(capture_path(name))


def recorded_packets(name: str) -> list[dict[str, Any]]:
    """The recorder's own packet list (``events.jsonl``) for the capture, EOF marker dropped."""
    ami = capture_path(name)
    jsonl = ami.with_name(ami.name.replace(".ami", ".jsonl"))
    text = _read(jsonl).decode("utf-8")
    packets = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [packet for packet in packets if packet["kind"] != "eof"]


def all_captures() -> list[str]:
    """Every recorded session, full-call scenarios and protocol sessions alike."""
    sessions = sorted(FIXTURES.glob("asterisk-*/*_behaviours/*.ami"))
    return [
        *SCENARIOS,
        *(path.relative_to(FIXTURES).with_suffix("").as_posix() for path in sessions),
    ]


def timestamped_capture(name: str) -> bytes:
    """The capture's packets re-encoded with ``Timestamp:`` headers from their receive times.

    What Asterisk sends with ``timestampevents = yes``: lets a fast replay carry the real
    durations (a 5 s hold stays 5 s) without waiting for them.
    """
    chunks: list[bytes] = []
    for packet in recorded_packets(name):
        if packet["kind"] != "event":
            continue
        fields = [(key, value) for key, value in packet["fields"] if key is not None]
        lines = [f"{key}: {value}\r\n" for key, value in fields[:1]]
        lines.append(f"Timestamp: {packet['ts']:.6f}\r\n")
        lines.extend(f"{key}: {value}\r\n" for key, value in fields[1:])
        chunks.append(("".join(lines) + "\r\n").encode("utf-8"))
    return b"".join(chunks)
