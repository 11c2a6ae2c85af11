"""The supervisor's day in numbers counts calls, not each line's part of a call, and the
page refreshes them from ``/api/supervisor/today/``.

Personas: sofia supervises; alice is an operator and may not read the numbers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from telephony.web.counters import today_counts
from tests.factories import make_call_record, make_connector

pytestmark = pytest.mark.django_db


def leg(connector: object, call_id: str, line: str, disposition: str, **fields: Any) -> None:
    started = fields.pop("started_at", timezone.now() - dt.timedelta(minutes=10))
    assert isinstance(started, dt.datetime)
    make_call_record(
        connector=connector,
        call_id=call_id,
        line=line,
        disposition=disposition,
        started_at=started,
        ended_at=started + dt.timedelta(seconds=60),
        **fields,
    )


def test_a_ring_all_queue_call_is_one_answered_call() -> None:
    connector = make_connector()
    now = timezone.now() - dt.timedelta(minutes=10)
    answered = now + dt.timedelta(seconds=12)
    # One queue call rang three lines; 101 answered after 12 s and talked 40 s.
    leg(
        connector,
        "q1",
        "101",
        "answered",
        queue="sales",
        answered_at=answered,
        talk_seconds=40,
        started_at=now,
    )
    leg(connector, "q1", "102", "answered-elsewhere", queue="sales", started_at=now)
    leg(connector, "q1", "103", "answered-elsewhere", queue="sales", started_at=now)
    # Rang 101 unanswered, then rang it again (":2"), still unanswered: one missed call.
    leg(connector, "m1", "101", "missed")
    leg(connector, "m1:2", "101", "missed")
    # The caller gave up waiting in the queue.
    leg(connector, "a1", "102", "cancelled", queue="sales")
    # An outgoing call the far end did not answer is neither missed nor abandoned.
    leg(connector, "o1", "101", "missed", direction="outgoing")
    # Yesterday's calls do not count.
    leg(connector, "old", "101", "missed", started_at=timezone.now() - dt.timedelta(days=2))
    counts = today_counts()
    assert counts == {
        "total": 4,
        "answered": 1,
        "missed": 1,
        "abandoned": 1,
        "avg_wait": 12,
        "avg_talk": 40,
    }


def test_only_a_supervisor_reads_todays_counts() -> None:
    sofia = User.objects.create_user("sofia", password="pw")
    sofia.user_permissions.add(Permission.objects.get(codename="supervise"))
    alice = User.objects.create_user("alice", password="pw")
    supervisor, operator = Client(), Client()
    supervisor.force_login(sofia)
    operator.force_login(alice)
    assert supervisor.get("/api/supervisor/today/").json()["total"] == 0
    assert operator.get("/api/supervisor/today/").status_code == 403
