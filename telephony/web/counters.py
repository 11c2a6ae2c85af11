"""Today's numbers on the supervisor page, counted per call, not per line's part of it
(a queue call that rang three lines is one call). Synchronous ORM code; knows no socket.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from ..callmodel.events import Direction, Disposition
from ..models import CallRecord
from .views.cards import base_call_id


@dataclass(slots=True)
class _Call:
    started: dt.datetime
    answered: dt.datetime | None = None
    ended: bool = True
    missed: bool = False
    queued: bool = False
    outgoing: bool = False
    talk: int = 0


def today_counts(now: dt.datetime | None = None) -> dict[str, Any]:
    """``{"total", "answered", "missed", "abandoned", "avg_wait", "avg_talk"}`` since local
    midnight; waits and talks in whole seconds (None without answered calls)."""
    now = timezone.localtime(now)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = CallRecord.objects.filter(started_at__gte=midnight).values_list(
        "connector_id",
        "call_id",
        "direction",
        "queue",
        "disposition",
        "started_at",
        "answered_at",
        "ended_at",
        "talk_seconds",
    )
    calls: dict[tuple[int | None, str], _Call] = {}
    for (
        connector_id,
        call_id,
        direction,
        queue,
        disposition,
        started,
        answered,
        ended,
        talk,
    ) in rows:
        call = calls.setdefault((connector_id, base_call_id(call_id)), _Call(started=started))
        call.started = min(call.started, started)
        if answered is not None and (call.answered is None or answered < call.answered):
            call.answered = answered
        call.ended = call.ended and ended is not None
        call.missed = call.missed or disposition == Disposition.MISSED
        call.queued = call.queued or bool(queue)
        call.outgoing = call.outgoing or direction == Direction.OUTGOING
        call.talk = max(call.talk, talk or 0)
    answered_calls = [call for call in calls.values() if call.answered is not None]
    unanswered = [c for c in calls.values() if c.answered is None and c.ended and not c.outgoing]
    waits = [
        (call.answered - call.started).total_seconds()
        for call in calls.values()
        if call.answered is not None
    ]
    talks = [call.talk for call in answered_calls]
    return {
        "total": len(calls),
        "answered": len(answered_calls),
        "missed": sum(1 for call in unanswered if call.missed),
        "abandoned": sum(1 for call in unanswered if call.queued),
        "avg_wait": round(sum(waits) / len(waits)) if waits else None,
        "avg_talk": round(sum(talks) / len(talks)) if talks else None,
    }
