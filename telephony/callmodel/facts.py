"""Typed facts read from AMI events: the call model's only input.

Dialect-neutral: Asterisk 12+ and 1.8/11 events both become these values in
``dialects.py``. Times are epoch seconds from the stream, or None when it has none.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ChannelState(enum.StrEnum):
    """``ChannelStateDesc`` values that matter to the model."""

    DOWN = "down"
    RING = "ring"  # the device is calling us (off-hook, INVITE received)
    RINGING = "ringing"  # the device is being called
    UP = "up"
    BUSY = "busy"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Party:
    """A number and name as Asterisk shows them; placeholders are already None."""

    number: str | None = None
    name: str | None = None


NOBODY = Party()


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    time: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelCreated(Fact):
    unique_id: str
    channel: str
    linked_id: str | None
    state: ChannelState
    caller: Party
    connected: Party
    exten: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelStateChanged(Fact):
    unique_id: str
    channel: str
    state: ChannelState
    caller: Party
    connected: Party


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyChanged(Fact):
    """``NewCallerid`` (caller set) or ``NewConnectedLine`` (connected set)."""

    unique_id: str
    caller: Party | None
    connected: Party | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelHungUp(Fact):
    unique_id: str
    channel: str
    cause: int | None
    cause_text: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DialBegan(Fact):
    """``caller_id`` is None when nothing dials: the first leg of an ``Originate``."""

    caller_id: str | None
    dest_id: str
    dest_channel: str
    dial_string: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DialEnded(Fact):
    """``dest_id`` is None on Asterisk 11, whose ``Dial End`` names no destination."""

    caller_id: str | None
    dest_id: str | None
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DialUnreachable(Fact):
    """A Dial ended CHANUNAVAIL/CONGESTION for targets that never got a channel."""

    caller_id: str
    targets: tuple[str, ...]
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeEntered(Fact):
    unique_id: str
    bridge_id: str
    is_holding: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeLeft(Fact):
    unique_id: str
    bridge_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldChanged(Fact):
    unique_id: str
    on_hold: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferDone(Fact):
    """A blind or attended transfer by ``transferer_id`` to ``target``."""

    transferer_id: str
    other_transferer_id: str | None
    target: str | None
    target_id: str | None
    attended: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueJoined(Fact):
    unique_id: str
    queue: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueLeft(Fact):
    unique_id: str
    queue: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueMemberCalled(Fact):
    caller_id: str
    dest_id: str | None
    dest_channel: str | None
    queue: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalPaired(Fact):
    """The two halves of a Local channel (``LocalBridge``)."""

    one_id: str
    two_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Masqueraded(Fact):
    """Asterisk 11: channel ``original`` takes over the live call of channel ``clone``."""

    clone_channel: str
    original_channel: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Renamed(Fact):
    unique_id: str
    new_channel: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Parked(Fact):
    parkee_id: str
    parker_channel: str | None
    space: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Unparked(Fact):
    parkee_id: str
    retriever_id: str | None
    retriever_channel: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Originated(Fact):
    """``OriginateResponse``: the channel (when it exists) was made by an Originate."""

    unique_id: str | None
    channel: str
    success: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelListed(Fact):
    """One live channel from a ``CoreShowChannels``/``Status`` list."""

    unique_id: str
    channel: str
    linked_id: str | None
    state: ChannelState
    caller: Party
    connected: Party
    bridge_id: str | None
    bridged_id: str | None
    #: When the channel was created, from the PBX's own ``Duration``/``Seconds`` (None: not
    #: said): a call that started while nobody was reading keeps its real start (issue #10).
    started_at: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelListCompleted(Fact):
    """The end of a full channel list: channels not listed have vanished."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberPaused(Fact):
    interface: str
    paused: bool
    reason: str | None
    queue: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class MusicChanged(Fact):
    """Asterisk plays (or stops) music on hold to a channel: ``MusicOnHold`` (1.8/11),
    ``MusicOnHoldStart``/``MusicOnHoldStop`` (12+)."""

    unique_id: str
    playing: bool


AnyFact = (
    ChannelCreated
    | ChannelStateChanged
    | PartyChanged
    | ChannelHungUp
    | DialBegan
    | DialEnded
    | DialUnreachable
    | BridgeEntered
    | BridgeLeft
    | HoldChanged
    | TransferDone
    | QueueJoined
    | QueueLeft
    | QueueMemberCalled
    | LocalPaired
    | Masqueraded
    | Renamed
    | Parked
    | Unparked
    | Originated
    | ChannelListed
    | ChannelListCompleted
    | MemberPaused
    | MusicChanged
)
