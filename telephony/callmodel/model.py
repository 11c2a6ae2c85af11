"""The call model's one entry point: AMI packets in, call events and finished records out.

``CallModel.feed(packet, received_at)`` is the whole pipeline (dialect -> tracker -> records)
for both callers, the worker's read loop and ``replay``/``manage.py ami_replay``: what one
prints the other publishes. Pure: no sockets, no database, no clock, no logging.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from telephony.ami.packets import Event, Packet

from .dialects import Dialect, DialectReader
from .events import LineEvent, LineStateChanged
from .lines import LineMatcher
from .records import CallRecord
from .tracker import DEFAULT_STALE_AFTER, CallTracker


@dataclass(slots=True)
class Output:
    """What one packet caused.

    ``events`` are unnumbered (``seq`` 0): the recorder numbers what it stores, ``replay``
    numbers the same way (``sequence.LineSequences``). ``live`` is set at a resync point (the
    end of our own channel list): the ``(call_id, line)`` the PBX has at that point of the
    stream. ``failure`` says why the model could not digest the packet (it is skipped).
    """

    events: list[LineEvent] = field(default_factory=list)
    records: list[CallRecord] = field(default_factory=list)
    live: set[tuple[str, str]] | None = None
    failure: Exception | None = None

    def __bool__(self) -> bool:
        return bool(self.events or self.records or self.live is not None or self.failure)


class CallModel:
    """One connector's call model: a dialect reader and a tracker, fed packet by packet."""

    def __init__(
        self,
        lines: LineMatcher | Iterable[str] | None = None,
        *,
        dialect: Dialect | str = Dialect.AUTO,
        connector: str = "",
        stale_after: float | None = DEFAULT_STALE_AFTER,
    ) -> None:
        self.dialect = DialectReader(dialect)
        self.tracker = CallTracker(lines, connector=connector, stale_after=stale_after)
        #: ActionIDs of our own CoreShowChannels lists still arriving in the event stream.
        self._listings: set[str] = set()

    def expect_listing(self, action_id: str) -> None:
        """Our ``CoreShowChannels`` with this ActionID was sent: its items are a resync."""
        self._listings.add(action_id)

    def drop_listing(self, action_id: str) -> None:
        """The list was refused: no resync point will come."""
        self._listings.discard(action_id)

    def feed(self, packet: Packet, received_at: float | None = None) -> Output:
        """Apply one packet; return the call events, finished records and resync it causes."""
        action_id = packet.action_id if isinstance(packet, Event) else None
        listing = action_id is not None and action_id in self._listings
        # Items of our own channel list carry no time of ours: the model's clock follows the
        # events' own clock (the PBX's with timestampevents=yes), which ours must not outrun.
        out = Output()
        try:
            for fact in self.dialect.read(packet, None if listing else received_at):
                out.events += self.tracker.apply(fact)
        except Exception as error:
            # One packet the model cannot digest must not stop the stream: the caller logs it
            # with its bytes. The events of the half-applied packet are dropped with it.
            out.events = []
            out.failure = error
        out.records = self.tracker.take_records()
        if listing and isinstance(packet, Event) and packet.is_list_complete:
            self._listings.discard(action_id or "")
            out.live = self.tracker.live_keys()
        return out

    def finish(self) -> list[CallRecord]:
        """End of the stream: records still held back (see ``CallTracker.flush``)."""
        return self.tracker.flush()

    def line_state(self, line: str, seq: int) -> LineStateChanged:
        """The line's ``CallFeaturesSet`` now (derived state, carries the line's last seq)."""
        return self.tracker.line_state(line, seq)
