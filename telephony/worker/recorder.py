"""Call history writes: ``CallRecord`` upserts and ``CallEvent`` rows, a batch per transaction.

Synchronous ORM code, run by the worker in one dedicated thread. It is the one owner of each
line's sequence numbers (``callmodel.sequence``'s rule, continuing from the database after a
restart, numbering only what it stores), names callers from the phone book, and returns the
wire messages to publish: nothing is published that is not saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max

from ..callmodel.events import CallEvent as CallModelEvent
from ..callmodel.events import (
    CallState,
    CommutationStarted,
    Direction,
    Disposition,
    Feature,
    LineEvent,
    RingFinished,
)
from ..callmodel.records import CallRecord as FinishedCall
from ..callmodel.sequence import NOT_STORED, LineSequences
from ..models import CallEvent, CallRecord, Contact, ContactPhone
from ..parties import party_of
from ..phones import normalize_number

logger = logging.getLogger(__name__)

#: Events a call has at most once per line: a tracker rebuilt after a restart may announce
#: them again, and the history must not show them twice.
_ONCE = frozenset({"RingStarted", "CommutationStarted", "RingFinished", "CallTransferred"})


def dedupe_key(name: str, occurred: datetime) -> str:
    """Same key, same event: the name alone for once-per-call events, else name@time."""
    return name if name in _ONCE else f"{name}@{occurred.isoformat()}"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A saved call event, ready for the channel layer."""

    line: str
    wire: dict[str, Any]


def _when(timestamp: float | None) -> datetime:
    if timestamp is None:
        return datetime.now(tz=UTC)
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _text(value: str | None) -> str:
    return value or ""


class Recorder:
    """Writes one connector's call events; not thread-safe, used from one thread only."""

    def __init__(self, connector_id: int, *, fence: Callable[[], None] | None = None) -> None:
        self.connector_id = connector_id
        #: Checks, inside each transaction, that this worker still holds the lease (ADR 0003).
        self._fence = fence or (lambda: None)
        self._seq = LineSequences(self._stored_seq)

    def last_seq(self, line: str) -> int:
        """The line's last sequence number handed out by this recorder (0 before any)."""
        return self._seq.last(line)

    def _stored_seq(self, line: str) -> int:
        """Where a line's numbers go on: the database's last (a restart continues)."""
        found = CallEvent.objects.filter(connector_id=self.connector_id, line=line).aggregate(
            top=Max("seq")
        )["top"]
        return int(found or 0)

    def _next_seq(self, line: str) -> int:
        return self._seq.next(line)

    def write(
        self,
        events: Sequence[LineEvent],
        finished: Sequence[FinishedCall] = (),
        *,
        estimated: Collection[int] = (),
    ) -> list[Outgoing]:
        """Save a batch atomically; return what to publish, in order.

        ``estimated`` holds the ``id()`` of events whose time the worker estimated (they fell
        in a gap): their wire form says ``"estimated": true`` and their record
        ``times_estimated``.
        """
        numbers = self._seq.save()
        try:
            with transaction.atomic():
                self._fence()
                outgoing = self._write(events, finished, estimated)
        except BaseException:
            # Rolled back: hand out the same numbers again on retry, leaving no gap.
            self._seq.restore(numbers)
            raise
        return outgoing

    def _write(
        self,
        events: Sequence[LineEvent],
        finished: Sequence[FinishedCall],
        estimated: Collection[int],
    ) -> list[Outgoing]:
        call_events = [e for e in events if isinstance(e, CallModelEvent)]
        records = self._records_for(call_events, finished)
        # Only records that were already stored can have stored events: a batch of new calls
        # (the common case under a burst) skips this query.
        stored = {record.pk: key for key, record in records.items() if not record._state.adding}
        existing = (
            {
                (stored[record_id], name)
                for record_id, name in CallEvent.objects.filter(record_id__in=stored).values_list(
                    "record_id", "dedupe_key"
                )
            }
            if stored
            else set()
        )
        rows: list[CallEvent] = []
        outgoing: list[Outgoing] = []
        for event in events:
            wire = event.to_wire()
            if not isinstance(event, CallModelEvent) or event.name in NOT_STORED:
                wire["seq"] = self._seq.last(event.line)
                outgoing.append(Outgoing(event.line, wire))
                continue
            record_key = (event.call_id, event.line)
            record = records[record_key]
            if id(event) in estimated:
                wire["estimated"] = True
                record.times_estimated = True
            self._apply(record, event, wire)
            occurred = _when(event.time)
            key = (record_key, dedupe_key(event.name, occurred))
            if key in existing:
                continue
            existing.add(key)
            wire["seq"] = self._next_seq(event.line)
            if record.contact_id is not None:
                wire["contact"] = self._contacts.get(record.contact_id)
            rows.append(self._row(record, event, occurred, wire))
            record.last_event = wire
            outgoing.append(Outgoing(event.line, wire))
        for call in finished:
            self._close(records[(call.call_id, call.line)], call)
        # New records are inserted here, once, with their final state; the upsert returns
        # their ids (PostgreSQL, SQLite 3.35+). Inserting them first and upserting them again
        # wrote every new row twice.
        _save_records(list(records.values()))
        for row in rows:
            row.record_id = row.record.pk
        insert_events(rows)
        return outgoing

    def _row(
        self, record: CallRecord, event: CallModelEvent, occurred: datetime, wire: dict[str, Any]
    ) -> CallEvent:
        """The history row of one saved call event (its wire form is the payload)."""
        return CallEvent(
            record=record,
            connector_id=self.connector_id,
            line=event.line,
            seq=wire["seq"],
            name=event.name,
            code=event.code,
            occurred_at=occurred,
            dedupe_key=dedupe_key(event.name, occurred),
            payload=wire,
        )

    # -- records ---------------------------------------------------------------------------

    def _records_for(
        self, events: Iterable[CallModelEvent], finished: Iterable[FinishedCall]
    ) -> dict[tuple[str, str], CallRecord]:
        """The records of the batch's calls; new ones unsaved (``pk`` None) until the end."""
        wanted: dict[tuple[str, str], CallModelEvent | FinishedCall] = {}
        items: list[CallModelEvent | FinishedCall] = [*events, *finished]
        for item in items:
            wanted.setdefault((item.call_id, item.line), item)
        if not wanted:
            self._contacts: dict[int, dict[str, Any]] = {}
            return {}
        call_ids = {call_id for call_id, _ in wanted}
        found = {
            (record.call_id, record.line): record
            for record in CallRecord.objects.filter(
                connector_id=self.connector_id, call_id__in=call_ids
            )
        }
        new = [self._new_record(item) for key, item in wanted.items() if key not in found]
        self._match_contacts(new)
        for record in new:  # saved at the end of the batch, by _save_records
            found[(record.call_id, record.line)] = record
        self._load_contacts(found.values())
        return {key: found[key] for key in wanted}

    def _new_record(self, item: CallModelEvent | FinishedCall) -> CallRecord:
        started = item.time if isinstance(item, CallModelEvent) else item.started_at
        return CallRecord(
            connector_id=self.connector_id,
            call_id=item.call_id,
            line=item.line,
            direction=str(item.direction),
            caller_number=_text(item.caller_number),
            caller_name=_text(item.caller_name),
            callee_number=_text(item.callee_number),
            callee_name=_text(item.callee_name),
            queue=_text(item.queue),
            started_at=_when(started),
        )

    def _match_contacts(self, records: Iterable[CallRecord]) -> None:
        """Name the other party of each new record from the phone book."""
        digits = settings.PHONE_MATCH_DIGITS
        by_number: dict[str, list[CallRecord]] = {}
        for record in records:
            number = normalize_number(party_of(record).number, digits)
            if len(number) >= 5:  # extensions and junk never match a contact
                by_number.setdefault(number, []).append(record)
        if not by_number:
            return
        for phone in ContactPhone.objects.filter(normalized__in=list(by_number)):
            for record in by_number[phone.normalized]:
                if record.contact_id is None:
                    record.contact_id = phone.contact_id

    def _load_contacts(self, records: Iterable[CallRecord]) -> None:
        ids = {record.contact_id for record in records if record.contact_id is not None}
        self._contacts = {}
        if not ids:
            return
        for contact in Contact.objects.filter(pk__in=ids):
            self._contacts[contact.pk] = {
                "id": contact.pk,
                "name": contact.name,
                "company": contact.company,
            }

    def _apply(self, record: CallRecord, event: CallModelEvent, wire: dict[str, Any]) -> None:
        record.state = str(event.state)
        record.direction = str(event.direction)
        for field in ("caller_number", "caller_name", "callee_number", "callee_name", "queue"):
            value = getattr(event, field)
            if value:
                setattr(record, field, value)
        if isinstance(event, CommutationStarted) and record.answered_at is None:
            record.answered_at = _when(event.time)
        if isinstance(event, RingFinished):
            record.ended_at = _when(event.time)
            record.disposition = str(event.disposition)
            record.hangup_cause = event.hangup_cause

    def _close(self, record: CallRecord, call: FinishedCall) -> None:
        record.state = "finished"
        record.disposition = str(call.disposition)
        record.hangup_cause = call.hangup_cause
        record.transferred_to = _text(call.transferred_to)
        record.talk_seconds = round(call.talk_seconds or 0)
        record.hold_seconds = round(call.hold_seconds or 0)
        record.hold_count = call.hold_count
        if record.answered_at is None and call.answered_at is not None:
            record.answered_at = _when(call.answered_at)
        record.ended_at = _when(call.ended_at)
        if call.answered and record.answered_at is not None and call.ended_at is not None:
            # The stored answer wins: a leg rebuilt from a resync list (a takeover) only
            # estimates when it was answered, and its talk time must follow the real one.
            talk = call.ended_at - record.answered_at.timestamp()
            record.talk_seconds = max(0, round(talk))

    # -- after a restart or reconnect ------------------------------------------------------

    def finish_vanished(self, live: set[tuple[str, str]]) -> list[Outgoing]:
        """Finish records still open in the history whose call the PBX no longer has.

        They ended while no worker was reading (a restart, a takeover, a long outage): the
        outcome is what the history knew, ``answered`` if it was; unanswered while another
        line of the same call answered (a ring-all queue answered in the gap),
        ``answered-elsewhere``; else ``failed``. Their end lies somewhere in the gap and the
        PBX no longer says when: it is the time of this sweep, marked estimated.
        """
        numbers = self._seq.save()
        try:
            return self._finish_vanished(live)
        except BaseException:
            self._seq.restore(numbers)
            raise

    def _finish_vanished(self, live: set[tuple[str, str]]) -> list[Outgoing]:
        with transaction.atomic():
            self._fence()
            stale = [
                record
                for record in CallRecord.objects.select_for_update().filter(
                    connector_id=self.connector_id, ended_at__isnull=True
                )
                if (record.call_id, record.line) not in live
            ]
            outgoing: list[Outgoing] = []
            now = datetime.now(tz=UTC)
            rows: list[CallEvent] = []
            answered_calls = set(
                CallRecord.objects.filter(
                    connector_id=self.connector_id,
                    call_id__in={record.call_id for record in stale},
                    answered_at__isnull=False,
                ).values_list("call_id", flat=True)
            )
            for record in stale:
                answered = record.answered_at is not None
                record.state = "finished"
                record.ended_at = now
                record.times_estimated = True
                if answered:
                    record.disposition = "answered"
                elif record.call_id in answered_calls and record.direction != "outgoing":
                    record.disposition = "answered-elsewhere"
                else:
                    record.disposition = "failed"
                if answered and record.answered_at is not None:
                    record.talk_seconds = max(0, round((now - record.answered_at).total_seconds()))
                event = RingFinished(
                    connector=str(self.connector_id),
                    line=record.line,
                    seq=self._next_seq(record.line),
                    time=now.timestamp(),
                    call_id=record.call_id,
                    direction=Direction(record.direction),
                    caller_number=record.caller_number or None,
                    caller_name=record.caller_name or None,
                    callee_number=record.callee_number or None,
                    callee_name=record.callee_name or None,
                    state=CallState.FINISHED,
                    features=Feature.CAN_DIAL,
                    queue=record.queue or None,
                    disposition=Disposition(record.disposition),
                    hangup_cause=None,
                    hangup_cause_text="ended while the worker was away",
                )
                wire = event.to_wire()
                wire["estimated"] = True
                if "contact" in (record.last_event or {}):
                    wire["contact"] = record.last_event["contact"]
                record.last_event = wire
                rows.append(self._row(record, event, now, wire))
                outgoing.append(Outgoing(record.line, wire))
            _save_records(stale)
            insert_events(rows)
        return outgoing


_UPDATED_FIELDS = [
    "state",
    "direction",
    "caller_number",
    "caller_name",
    "callee_number",
    "callee_name",
    "queue",
    "answered_at",
    "ended_at",
    "disposition",
    "hangup_cause",
    "transferred_to",
    "talk_seconds",
    "hold_seconds",
    "hold_count",
    "times_estimated",
    "last_event",
]


def _save_records(records: list[CallRecord]) -> None:
    """Write back changed records in one statement.

    An upsert (INSERT ... ON CONFLICT DO UPDATE), not ``bulk_update``: Django's bulk_update
    builds a CASE per field over every row, which made a 200-call burst take seconds.
    """
    if records:
        CallRecord.objects.bulk_create(
            records,
            update_conflicts=True,
            unique_fields=["connector", "call_id", "line"],
            update_fields=_UPDATED_FIELDS,
        )


_EVENT_COLUMNS = (
    "record_id",
    "connector_id",
    "line",
    "seq",
    "name",
    "code",
    "occurred_at",
    "dedupe_key",
    "payload",
)


def insert_events(rows: list[CallEvent]) -> None:
    """Insert a batch's call events (in the caller's transaction).

    On PostgreSQL with ``COPY``: Django 5.2's ``bulk_create`` sends the rows as UNNEST arrays
    that psycopg quotes client-side in Python, escaping every quote of every JSON payload
    with a regex; in ``bench/worker.py`` that was about a third of ``Recorder.write``. COPY
    rows are formatted by psycopg's C code. Nothing reads the new rows' ids, so COPY loses
    nothing; the unique constraints still reject a duplicate and roll the batch back.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        CallEvent.objects.bulk_create(rows)
        return
    from psycopg.types.json import Jsonb

    quote = connection.ops.quote_name
    sql = "COPY {} ({}) FROM STDIN".format(
        quote(CallEvent._meta.db_table), ", ".join(quote(column) for column in _EVENT_COLUMNS)
    )
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(
                (
                    row.record_id,
                    row.connector_id,
                    row.line,
                    row.seq,
                    row.name,
                    row.code,
                    row.occurred_at,
                    row.dedupe_key,
                    Jsonb(row.payload),
                )
            )
