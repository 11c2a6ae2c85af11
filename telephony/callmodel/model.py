"""The call model's one entry point: AMI packets in, call events and finished records out.

``CallModel.feed(packet, received_at)`` is the whole pipeline (dialect -> tracker -> records)
for both callers, the worker's read loop and ``replay``/``manage.py ami_replay``: what one
prints the other publishes. Pure: no sockets, no database, no clock, no logging.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from telephony.ami.packets import Event, Packet

from .dialects import Dialect, DialectReader
from .events import CallEvent, LineEvent, LineStateChanged, RingStarted
from .facts import AnyFact, ChannelListed
from .lines import LineMatcher
from .records import FinishedCall
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
    records: list[FinishedCall] = field(default_factory=list)
    live: set[tuple[str, str]] | None = None
    estimated: set[int] = field(default_factory=set)
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
        #: Whether the stream's last call event carried the PBX's ``Timestamp`` (None: none
        #: yet). False: the stream runs on our clock, as do our list's items.
        self._stamped: bool | None = None

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
        stamped = isinstance(packet, Event) and packet.timestamp is not None
        try:
            facts = self.dialect.read(packet, received_at)
            if facts and not listing:  # a call event (not FullyBooted, say): the stream's clock
                self._stamped = stamped
            for fact in facts:
                if listing:
                    # Our own list's item: ``received_at`` dates its ``Duration`` and the end
                    # of the gap; the model's clock too when the events run on ours.
                    on_clock = stamped or self._stamped is False
                    pbx_time = fact.time if on_clock else None
                    out.events += self._apply_listed(fact, pbx_time, out.estimated)
                else:
                    out.events += self.tracker.apply(fact)
        except Exception as error:
            # One packet the model cannot digest must not stop the stream: the caller logs it
            # with its bytes. The events of the half-applied packet are dropped with it.
            out.events = []
            out.estimated = set()
            out.failure = error
        out.records = self.tracker.take_records()
        if listing and isinstance(packet, Event) and packet.is_list_complete:
            self._listings.discard(action_id or "")
            out.live = self.tracker.live_keys()
        return out

    def _apply_listed(
        self, fact: AnyFact, pbx_time: float | None, estimated: set[int]
    ) -> list[LineEvent]:
        """Apply an item (or the end) of our resync list, with the times the PBX gives.

        What the list reveals happened in the gap while nobody read the stream. A channel's
        start comes from the PBX (``ChannelListed.started_at``: its ``Duration``); every
        other time of it (an answer, an end) is only known to lie in the gap: those events
        are dated at the gap's end, the list's arrival (``fact.time``), and marked estimated
        (their ids go into ``estimated``). Without the PBX's ``Timestamp`` a list item
        carries no time of the stream's own (``pbx_time`` is None) unless the events carry
        none either: the model's clock follows the events' clock (the PBX's with
        ``timestampevents=yes``), which ours must not outrun, so the arrival then dates only
        the estimated events. On the stream's clock the list's end moves the model's clock
        to the arrival, so legs it finishes (they ended in the gap) end there too.
        """
        started = fact.started_at if isinstance(fact, ChannelListed) else None
        produced = self.tracker.apply(dataclasses.replace(fact, time=started or pbx_time))
        events: list[LineEvent] = []
        for item in produced:
            if started is not None and isinstance(item, RingStarted):
                # The model's clock only moves forward; this channel's start is its own.
                events.append(dataclasses.replace(item, time=started))
                continue
            if isinstance(item, CallEvent):
                if fact.time is not None:
                    item = dataclasses.replace(item, time=fact.time)  # noqa: PLW2901
                estimated.add(id(item))
            events.append(item)
        return events

    def finish(self) -> list[FinishedCall]:
        """End of the stream: records still held back (see ``CallTracker.flush``)."""
        return self.tracker.flush()

    def line_state(self, line: str, seq: int) -> LineStateChanged:
        """The line's ``CallFeaturesSet`` now (derived state, carries the line's last seq)."""
        return self.tracker.line_state(line, seq)
