"""Missed calls per operator: which ones the user has not seen yet (the badge) and the
list they see. The "seen" marker is the user's ``OperatorProfile.missed_seen_at``, so it is
the same in every tab and browser.

Synchronous ORM code for views and template tags; knows no socket.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone

from ..callmodel.events import Direction, Disposition
from ..models import CallRecord, OperatorProfile
from .views.access import own_lines_filter

#: Missed calls older than this are history, not news: never counted, never listed here.
WINDOW = dt.timedelta(days=7)


def missed_records(user: AbstractBaseUser | AnonymousUser) -> QuerySet[CallRecord]:
    """Calls that rang one of the user's own lines unanswered in the window, newest first."""
    since = timezone.now() - WINDOW
    return (
        CallRecord.objects.filter(
            own_lines_filter(user),
            disposition=Disposition.MISSED,
            started_at__gte=since,
        )
        .exclude(direction=Direction.OUTGOING)
        .select_related("contact")
        .order_by("-started_at", "-pk")
    )


def seen_at(user: AbstractBaseUser | AnonymousUser) -> dt.datetime | None:
    if not user.is_authenticated:
        return None
    return (
        OperatorProfile.objects.filter(user_id=user.pk)
        .values_list("missed_seen_at", flat=True)
        .first()
    )


def unseen(records: QuerySet[CallRecord], seen: dt.datetime | None) -> QuerySet[CallRecord]:
    return records if seen is None else records.filter(ended_at__gt=seen)


def unseen_count(user: AbstractBaseUser | AnonymousUser) -> int:
    """How many missed calls the badge shows."""
    if not user.is_authenticated:
        return 0
    return unseen(missed_records(user), seen_at(user)).count()


def mark_seen(user: AbstractBaseUser | AnonymousUser) -> None:
    """Everything missed until now has been seen."""
    OperatorProfile.objects.update_or_create(
        user_id=user.pk, defaults={"missed_seen_at": timezone.now()}
    )
