"""The simulated PBX's nouns: channels, bridges, dials and calls, plus the names and ids
Asterisk would give them. Plain mutable state; knows no sockets and no event shapes.
"""

from __future__ import annotations

import asyncio
import enum
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from telephony.ami import Event


class State(enum.IntEnum):
    """Asterisk's channel states, valued as ``ChannelState`` says them on the wire."""

    DOWN = 0
    RING = 4
    RINGING = 5
    UP = 6
    BUSY = 7

    @property
    def desc(self) -> str:
        return self.name.capitalize()


@dataclass(frozen=True, slots=True)
class Party:
    """A caller-ID pair; ``None`` is what Asterisk prints as ``<unknown>``."""

    number: str | None = None
    name: str | None = None


UNKNOWN = Party()


@dataclass(slots=True, eq=False)
class Channel:
    """One live (or just hung-up) channel: the headers every channel event repeats."""

    name: str
    unique_id: str
    linked_id: str
    caller: Party
    connected: Party
    context: str
    exten: str
    #: The operator line this channel rings (``101``), or ``None`` for a trunk leg.
    line: str | None = None
    state: State = State.DOWN
    priority: int = 1
    account_code: str = ""
    bridge: Bridge | None = None
    on_hold: bool = False
    is_hung_up: bool = False
    created: float = field(default_factory=time.monotonic)
    #: What ``CoreShowChannel`` says the channel runs (``Dial``, ``Queue``, ``AppDial``).
    application: str = ""
    application_data: str = ""

    @property
    def device(self) -> str:
        """``PJSIP/101-0000002a`` -> ``PJSIP/101``."""
        return self.name.rpartition("-")[0]


@dataclass(slots=True, eq=False)
class Bridge:
    """A basic two-party bridge (12+ ``BridgeUniqueid``; 11 shows only Link/Unlink)."""

    unique_id: str
    channels: list[Channel] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Dial:
    """One ``Dial()`` attempt: ``caller`` is ``None`` for an Originate's first leg."""

    caller: Channel | None
    dest: Channel
    dial_string: str
    #: ``ANSWER``, ``NOANSWER``, ``BUSY``, ``CANCEL``...; ``None`` while it rings.
    status: str | None = None
    #: Asterisk 11 reports ``Dial End`` only when the answered callee hangs up.
    legacy_end_pending: bool = False
    #: Queue member legs (11 sends no Dial events for them) and Originate's first leg.
    is_queue_member: bool = False
    #: When a ``Local/...;2`` half places this dial: its ``;1`` half, which rings and
    #: answers with the callee (22 reports it in ``DialState``/``DialEnd`` without caller).
    local_one: Channel | None = None

    @property
    def is_ringing(self) -> bool:
        return self.status is None and not self.dest.is_hung_up


@dataclass(slots=True, eq=False)
class Consult:
    """An attended transfer in progress (AMI ``Atxfer``): the transferer left ``transferee``
    alone in ``original`` (on hold) and talks through a ``Local`` pair to the target.

    ``local_one`` faces the transferer (in ``bridge`` on 12+; bridged with it once the target
    answers on 11); ``local_two`` runs the dialplan and places ``dial`` to the target.
    """

    transferer: Channel
    transferee: Channel
    original: Bridge
    local_one: Channel
    local_two: Channel
    bridge: Bridge
    exten: str
    context: str
    dial: Dial | None = None
    #: ``original``'s channels before the transferer left (11 names the pair in that order).
    original_order: list[Channel] = field(default_factory=list)
    #: Set once the transfer completed or failed (scripts wait on it).
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def target_side(self) -> tuple[Channel, ...]:
        """The channels whose end fails the consultation (the target and the Local pair)."""
        dest = (self.dial.dest,) if self.dial is not None else ()
        return (self.local_one, self.local_two, *dest)


@dataclass(slots=True, eq=False)
class Call:
    """Every channel of one conversation (one Linkedid) and the script driving it."""

    number: int
    kind: str
    channels: list[Channel] = field(default_factory=list)
    dials: list[Dial] = field(default_factory=list)
    queue: str | None = None
    queue_joined: float | None = None
    answered_at: float | None = None
    task: asyncio.Task[None] | None = None
    #: The ``OriginateResponse`` Failure to send if the first leg dies before answering.
    originate_failed: Callable[[], list[Event]] | None = None
    #: Set once no channel of the call is left; ``Simulator.start_call`` waiters use it.
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    #: The attended transfer under way, if any.
    consult: Consult | None = None
    #: ``Local`` pairs of the call: when one half goes, Asterisk hangs up the other.
    local_pairs: list[tuple[Channel, Channel]] = field(default_factory=list)

    @property
    def live_channels(self) -> list[Channel]:
        return [channel for channel in self.channels if not channel.is_hung_up]

    def operator_channel(self, line: str | None = None) -> Channel | None:
        """The newest live channel of ``line`` (of any line when ``None``)."""
        for channel in reversed(self.channels):
            live_line = channel.line is not None and not channel.is_hung_up
            if live_line and (line is None or channel.line == line):
                return channel
        return None

    def customer_channel(self) -> Channel | None:
        for channel in self.channels:
            if channel.line is None and not channel.is_hung_up and "/pstn-" in channel.name:
                return channel
        return None


class Namer:
    """Uniqueids, channel names and bridge ids as Asterisk makes them.

    Names count up like Asterisk's (one counter for every technology, eight hex digits);
    Uniqueids are ``<systemname>-<epoch>.<sequence>``. Bridge ids come from the seeded
    generator, so a seeded run repeats itself apart from the clock's epoch part.
    """

    def __init__(
        self,
        rng: random.Random,
        *,
        system_name: str = "sim",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._rng = rng
        self._clock = clock
        self.system_name = system_name
        self._channels = 0
        self._locals = 0
        self._sequence = 0

    def unique_id(self) -> str:
        self._sequence += 1
        return f"{self.system_name}-{int(self._clock())}.{self._sequence}"

    def channel(self, device: str) -> str:
        self._channels += 1
        return f"{device}-{self._channels:08x}"

    def local_pair(self, exten: str, context: str) -> tuple[str, str]:
        """``Local/102@from-internal-00000000;1`` and ``;2``."""
        base = f"Local/{exten}@{context}-{self._locals:08x}"
        self._locals += 1
        return f"{base};1", f"{base};2"

    def bridge_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    """What an ``Originate`` action asked for (``OriginateResponse`` repeats it)."""

    action_id: str | None
    device: str
    context: str
    exten: str
    shown_as: Party
    account: str = ""
