"""The tracker's mutable bookkeeping: channels, calls and per-line legs.

Plain slotted classes with no behaviour beyond small queries; the rules that change
them live in ``tracker.py``. Knows no AMI header names.
"""

from __future__ import annotations

from .events import CallState, Direction, Disposition, Feature, HoldSide
from .facts import NOBODY, ChannelState, Party
from .lines import Device


class Channel:
    """One Asterisk channel, keyed by Uniqueid."""

    __slots__ = (
        "answered",
        "awaiting_unpark",
        "bridge",
        "call",
        "caller",
        "connected",
        "created_state",
        "device",
        "dial_status",
        "dialed",
        "dialer",
        "exten",
        "has_linked_id",
        "last_bridge",
        "last_seen",
        "leg",
        "line",
        "name",
        "originated",
        "own",
        "partner",
        "queue",
        "state",
        "unique_id",
        "waiting_in_queue",
    )

    def __init__(
        self,
        *,
        unique_id: str,
        name: str,
        device: Device | None,
        line: str | None,
        call: Call,
        state: ChannelState,
        caller: Party,
        connected: Party,
        exten: str | None,
        time: float | None,
        has_linked_id: bool,
    ) -> None:
        self.unique_id = unique_id
        self.name = name
        self.device = device
        self.line = line
        self.call = call
        self.state = state
        self.created_state = state
        self.caller = caller
        self.own = caller  # the device's own identity, before any Originate CallerID
        self.connected = connected
        self.exten = exten
        self.last_seen = time
        self.has_linked_id = has_linked_id
        self.dialer: str | None = None
        self.dialed: set[str] = set()
        self.originated = False
        self.answered = state is ChannelState.UP
        self.bridge: str | None = None
        self.last_bridge: str | None = None  # the bridge it left last (who it was with)
        self.leg: Leg | None = None
        self.partner: str | None = None
        self.queue: str | None = None
        self.waiting_in_queue = False
        self.dial_status: str | None = None
        self.awaiting_unpark = False

    @property
    def is_local(self) -> bool:
        return self.device is not None and self.device.is_local

    @property
    def local_half(self) -> int | None:
        return self.device.local_half if self.device is not None else None


class Call:
    """Channels that belong together: one Linkedid (12+) or one Dial/Bridge family (11)."""

    __slots__ = ("attempts", "call_id", "channels", "key", "legs", "order", "queue")

    def __init__(self, key: str, call_id: str, order: int) -> None:
        self.key = key
        self.call_id = call_id
        self.order = order
        self.channels: set[str] = set()
        self.legs: list[Leg] = []
        self.attempts: dict[str, int] = {}
        self.queue: str | None = None

    def live_leg(self, line: str) -> Leg | None:
        for leg in self.legs:
            if leg.line == line and not leg.finished:
                return leg
        return None


class Leg:
    """One line's part in one call: what the operator's panel shows."""

    __slots__ = (
        "answered_at",
        "borrowed",
        "call",
        "call_id",
        "channels",
        "connected",
        "consult",
        "consult_of",
        "direction",
        "disposition",
        "ended_at",
        "finished",
        "hangup_cause",
        "hangup_cause_text",
        "hold_count",
        "hold_seconds",
        "hold_since",
        "hold_sources",
        "is_callee",
        "last_dial_status",
        "lent",
        "line",
        "line_party",
        "out_dial_status",
        "parked_on",
        "peers",
        "pinned",
        "queue",
        "remote_hint",
        "root_id",
        "shown",
        "started_at",
        "targets",
        "transferred_to",
    )

    def __init__(
        self,
        call: Call,
        call_id: str,
        line: str,
        *,
        direction: Direction,
        is_callee: bool,
        line_party: Party,
        remote_hint: Party,
        root_id: str | None,
        time: float | None,
    ) -> None:
        self.call = call
        self.call_id = call_id
        self.line = line
        self.direction = direction
        self.is_callee = is_callee
        self.line_party = line_party
        self.remote_hint = remote_hint
        self.root_id = root_id
        self.started_at = time
        self.queue = call.queue
        self.channels: set[str] = set()
        self.connected = False
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.finished = False
        self.hold_sources: set[HoldSide] = set()
        self.hold_since: float | None = None
        self.hold_seconds: float | None = 0.0 if time is not None else None
        self.hold_count = 0
        self.parked_on: str | None = None
        self.peers: set[str] = set()
        self.last_dial_status: str | None = None  # of the Dial that rang this line
        self.out_dial_status: str | None = None  # of the Dial this line placed
        self.transferred_to: str | None = None
        self.disposition: Disposition | None = None
        self.hangup_cause: int | None = None
        self.hangup_cause_text: str | None = None
        self.shown: tuple[Party, Party] = (NOBODY, NOBODY)
        #: The remote party is ``remote_hint``, whatever the channels' connected line says
        #: (a held original call during its consultation; both ends after a transfer).
        self.pinned = False
        #: Consultation: the call this one consults for (``consult_of``) or the consultation
        #: this one waits on (``consult``); ``lent`` while the consultation uses this leg's
        #: own channel (AMI Atxfer), ``borrowed`` on the consultation that uses it;
        #: ``targets`` are the consulted side's channels.
        self.consult: Leg | None = None
        self.consult_of: Leg | None = None
        self.lent = False
        self.borrowed = False
        self.targets: set[str] = set()

    @property
    def state(self) -> CallState:
        if self.finished:
            return CallState.FINISHED
        if self.hold_sources:
            return CallState.HELD
        return CallState.CONNECTED if self.connected else CallState.RINGING

    def features(self) -> Feature:
        """What the operator may do now (Creatio ``CallFeaturesSet``).

        A consultation can be completed (or the original call's transfer completed) while
        both calls live; a call may start one consultation at a time.
        """
        state = self.state
        if state is CallState.FINISHED:
            return Feature.CAN_DIAL
        pair = self.consult if self.consult is not None else self.consult_of
        in_consult = pair is not None and not pair.finished
        if state is CallState.RINGING:
            features = Feature.CAN_DROP | (Feature.CAN_ANSWER if self.is_callee else Feature.NONE)
            return features | (Feature.CAN_COMPLETE_TRANSFER if in_consult else Feature.NONE)
        features = Feature.CAN_DROP | Feature.CAN_BLIND_TRANSFER
        features |= Feature.CAN_UNHOLD if state is CallState.HELD else Feature.CAN_HOLD
        if in_consult:
            features |= Feature.CAN_COMPLETE_TRANSFER
        else:
            features |= Feature.CAN_MAKE_CONSULT_CALL
        return features
