"""Missed calls: the badge counts the ones a user has not seen, the page lists them with
the caller's name and Call back, and opening it marks them seen for every tab.

Personas: alice owns line 101, bob line 102; each has their own "seen" mark.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from telephony.models import Contact, Extension
from tests.factories import make_call_record, make_connector

pytestmark = pytest.mark.django_db


@pytest.fixture
def office() -> dict[str, Any]:
    connector = make_connector()
    alice = User.objects.create_user("alice", password="pw")
    bob = User.objects.create_user("bob", password="pw", first_name="Bob", last_name="Stone")
    Extension.objects.create(connector=connector, number="101", operator=alice)
    Extension.objects.create(connector=connector, number="102", operator=bob)
    ivan = Contact(name="Иван Петров", company="Ромашка", phones="+15551230002")
    ivan.save()
    return {"connector": connector, "alice": alice, "bob": bob, "ivan": ivan}


def missed(office: dict[str, Any], call_id: str, *, line: str = "101", **fields: Any) -> Any:
    started = fields.pop("started_at", timezone.now() - dt.timedelta(minutes=5))
    return make_call_record(
        connector=office["connector"],
        call_id=call_id,
        line=line,
        disposition="missed",
        started_at=started,
        ended_at=started + dt.timedelta(seconds=20),
        **fields,
    )


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_badge_counts_unseen_missed_calls_until_the_page_is_opened(
    office: dict[str, Any],
) -> None:
    missed(office, "m1", caller_number="+15551230002", caller_name="", contact=office["ivan"])
    missed(office, "m2", caller_number="+15551239999", caller_name="Stranger")
    missed(office, "out", direction="outgoing")  # the far end did not answer: not news
    missed(office, "bobs", line="102")
    missed(office, "old", started_at=timezone.now() - dt.timedelta(days=30))
    make_call_record(connector=office["connector"], call_id="ok", line="101")
    alice, bob = client_for(office["alice"]), client_for(office["bob"])
    assert alice.get("/api/missed/").json() == {"unseen": 2}
    panel = alice.get("/").content.decode()
    assert 'id="missed-badge" class="badge" >2</span>' in panel

    page = alice.get("/missed/")
    rows = page.context["rows"]
    assert sorted(row.record.call_id for row in rows) == ["m1", "m2"]
    assert all(row.is_new for row in rows)
    text = page.content.decode()
    assert "Иван Петров" in text  # the phone book names the caller the PBX did not
    assert "Stranger" in text
    assert 'class="button call-back" href="tel:+15551230002"' in text

    # Seen now, in every tab; bob's own mark is untouched.
    assert alice.get("/api/missed/").json() == {"unseen": 0}
    assert client_for(office["alice"]).get("/api/missed/").json() == {"unseen": 0}
    assert bob.get("/api/missed/").json() == {"unseen": 1}
    assert not any(row.is_new for row in alice.get("/missed/").context["rows"])

    # A call missed after the visit counts again.
    missed(office, "m3", started_at=timezone.now())
    assert alice.get("/api/missed/").json() == {"unseen": 1}


def test_missed_calls_need_a_login() -> None:
    assert Client().get("/missed/").status_code == 302
    assert Client().get("/api/missed/").status_code == 302


def test_a_colleague_who_called_is_named_as_in_the_app(office: dict[str, Any]) -> None:
    missed(
        office,
        "from-bob",
        direction="internal",
        caller_number="102",
        caller_name="Operator Bob",
        callee_number="101",
    )
    [row] = client_for(office["alice"]).get("/missed/").context["rows"]
    assert (row.name, row.number) == ("Bob Stone", "102")
