"""The call model: AMI facts in, Creatio-named call events and call records out.

Pure (h11-style): no Django, Channels, asyncio, sockets or clock. Public names only.
"""

from .dialects import Dialect, DialectReader
from .events import (
    EVENT_TYPES,
    AbonentBusy,
    ActiveCallSnapshot,
    CallEvent,
    CallInfoChanged,
    CallState,
    CallTransferred,
    CommutationStarted,
    Direction,
    Disposition,
    EndHoldAction,
    Feature,
    HoldSide,
    LineEvent,
    LineStateChanged,
    PutHoldAction,
    RingFinished,
    RingStarted,
    TransferKind,
)
from .lines import Device, LineMatcher, parse_channel, parse_dial_target
from .model import CallModel, Output
from .records import FinishedCall
from .replay import CaptureError, read_capture, read_capture_file, replay
from .sequence import LineSequences
from .tracker import CallTracker

__all__ = [
    "EVENT_TYPES",
    "AbonentBusy",
    "ActiveCallSnapshot",
    "CallEvent",
    "CallInfoChanged",
    "CallModel",
    "CallState",
    "CallTracker",
    "CallTransferred",
    "CaptureError",
    "CommutationStarted",
    "Device",
    "Dialect",
    "DialectReader",
    "Direction",
    "Disposition",
    "EndHoldAction",
    "Feature",
    "FinishedCall",
    "HoldSide",
    "LineEvent",
    "LineMatcher",
    "LineSequences",
    "LineStateChanged",
    "Output",
    "PutHoldAction",
    "RingFinished",
    "RingStarted",
    "TransferKind",
    "parse_channel",
    "parse_dial_target",
    "read_capture",
    "read_capture_file",
    "replay",
]
