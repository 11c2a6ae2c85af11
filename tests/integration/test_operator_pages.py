"""What a call card and an operator read besides the socket: the contact page, who
transferred a call, colleagues' names and the snapshot's answer time.

Personas: alice (Alice Smith) owns line 101, bob (Bob Stone) line 102; carol has no line
and must be refused; sofia supervises and owns no line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from telephony.callrows import snapshot_wire
from telephony.models import CallEvent, Contact, Extension
from tests.factories import CALL_START, make_call_record, make_connector

pytestmark = pytest.mark.django_db


@pytest.fixture
def office() -> dict[str, Any]:
    connector = make_connector()
    alice = User.objects.create_user("alice", password="pw", first_name="Alice", last_name="Smith")
    bob = User.objects.create_user("bob", password="pw", first_name="Bob", last_name="Stone")
    carol = User.objects.create_user("carol", password="pw")
    sofia = User.objects.create_user("sofia", password="pw")
    sofia.user_permissions.add(Permission.objects.get(codename="supervise"))
    Extension.objects.create(
        connector=connector, number="101", operator=alice, display_name="Operator Alice"
    )
    Extension.objects.create(connector=connector, number="102", operator=bob)
    ivan = Contact(name="Иван Петров", company="Ромашка", phones="+15551230002, 8 800 555 35 35")
    ivan.notes = "Prefers mornings"
    ivan.save()
    return {
        "connector": connector,
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "sofia": sofia,
        "ivan": ivan,
    }


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_operator_opens_a_contact_with_only_their_own_calls(office: dict[str, Any]) -> None:
    ivan, connector = office["ivan"], office["connector"]
    make_call_record(connector=connector, call_id="a1", line="101", contact=ivan)
    make_call_record(connector=connector, call_id="b1", line="102", contact=ivan)
    make_call_record(connector=connector, call_id="a2", line="101")  # not Ivan's
    response = client_for(office["alice"]).get(f"/contacts/{ivan.pk}/")
    assert response.status_code == 200
    assert [record.call_id for record in response.context["records"]] == ["a1"]
    text = response.content.decode()
    assert "Иван Петров" in text
    assert "Ромашка" in text
    assert "8 800 555 35 35" in text
    assert "Prefers mornings" in text
    supervisor = client_for(office["sofia"]).get(f"/contacts/{ivan.pk}/")
    assert {record.call_id for record in supervisor.context["records"]} == {"a1", "b1"}


def test_a_user_without_a_line_cannot_read_the_phone_book(office: dict[str, Any]) -> None:
    response = client_for(office["carol"]).get(f"/contacts/{office['ivan'].pk}/")
    assert response.status_code == 403
    assert Client().get(f"/contacts/{office['ivan'].pk}/").status_code == 302


def test_the_panel_links_contacts_to_the_contact_page_and_names_colleagues(
    office: dict[str, Any],
) -> None:
    response = client_for(office["alice"]).get("/")
    config = response.context["panel_config"]
    assert config["contactUrl"] == "/contacts/0/"
    connector_id = office["connector"].pk
    # Colleagues by their name in the app, not the extension's (or the PBX's) label.
    assert config["colleagues"] == {
        f"{connector_id}:101": "Alice Smith",
        f"{connector_id}:102": "Bob Stone",
    }


def transfer(connector: Any, call_id: str, *, by: str, to: str, seq: int, seconds: int) -> None:
    record = make_call_record(
        connector=connector, call_id=call_id, line=by, disposition="transferred"
    )
    CallEvent.objects.create(
        record=record,
        connector=connector,
        line=by,
        seq=seq,
        name="CallTransferred",
        code=None,
        occurred_at=CALL_START + dt.timedelta(seconds=seconds),
        dedupe_key="CallTransferred",
        payload={"event": "CallTransferred", "transferred_to": to},
    )


def test_the_card_learns_who_transferred_the_call(office: dict[str, Any]) -> None:
    connector = office["connector"]
    transfer(connector, "c9", by="101", to="102", seq=1, seconds=10)
    make_call_record(connector=connector, call_id="c9", line="102", disposition="")
    bob = client_for(office["bob"])
    query = {"connector": connector.pk, "call": "c9", "line": "102"}
    response = bob.get("/api/calls/origin/", query)
    assert response.json() == {"transferred_by": {"line": "101", "name": "Alice Smith"}}
    # A line rung again in the same call (":2") still finds it.
    response = bob.get("/api/calls/origin/", {**query, "call": "c9:2"})
    assert response.json()["transferred_by"]["line"] == "101"
    # A call nobody transferred says so.
    response = bob.get("/api/calls/origin/", {**query, "call": "other"})
    assert response.json() == {"transferred_by": None}


def test_only_the_lines_operator_may_ask_who_transferred(office: dict[str, Any]) -> None:
    connector = office["connector"]
    query = {"connector": connector.pk, "call": "c9", "line": "102"}
    assert client_for(office["alice"]).get("/api/calls/origin/", query).status_code == 403
    assert client_for(office["sofia"]).get("/api/calls/origin/", query).status_code == 200
    bad = client_for(office["bob"]).get("/api/calls/origin/", {"connector": "x"})
    assert bad.status_code == 400


def test_the_snapshot_carries_the_answer_time(office: dict[str, Any]) -> None:
    answered = CALL_START + dt.timedelta(seconds=7)
    live = make_call_record(
        connector=office["connector"],
        call_id="live",
        disposition="",
        state="connected",
        answered_at=answered,
    )
    ringing = make_call_record(
        connector=office["connector"], call_id="ring", disposition="", state="ringing"
    )
    assert snapshot_wire(live)["answered_at"] == answered.timestamp()
    assert snapshot_wire(live)["started_at"] == CALL_START.timestamp()
    assert snapshot_wire(ringing)["answered_at"] is None
