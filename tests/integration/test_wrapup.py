"""Wrap-up: the operator tags a call's result and notes it after the call; both show in
history, the call detail and the CSV, and the history's filters find them.

Personas: alice owns line 101, bob line 102 (he may not wrap up alice's calls); sofia
supervises and may wrap up any call.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from telephony.models import Extension, WrapUp, WrapUpTag
from tests.factories import make_call_record, make_connector

pytestmark = pytest.mark.django_db


@pytest.fixture
def office() -> dict[str, Any]:
    connector = make_connector()
    alice = User.objects.create_user("alice", password="pw")
    bob = User.objects.create_user("bob", password="pw")
    sofia = User.objects.create_user("sofia", password="pw")
    sofia.user_permissions.add(Permission.objects.get(codename="supervise"))
    Extension.objects.create(connector=connector, number="101", operator=alice)
    Extension.objects.create(connector=connector, number="102", operator=bob)
    call = make_call_record(connector=connector, call_id="c1", line="101", talk_seconds=42)
    other = make_call_record(connector=connector, call_id="c2", line="101")
    return {
        "connector": connector,
        "alice": alice,
        "bob": bob,
        "sofia": sofia,
        "call": call,
        "other": other,
        "sale": WrapUpTag.objects.create(name="Sale"),
        "retired": WrapUpTag.objects.create(name="Old tag", active=False),
    }


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_wrapup(client: Client, office: dict[str, Any], **fields: Any) -> Any:
    body = {"connector": office["connector"].pk, "call": "c1", "line": "101", **fields}
    return client.post("/api/wrapup/", json.dumps(body), content_type="application/json")


def test_the_operator_wraps_up_a_call_from_the_panel(office: dict[str, Any]) -> None:
    alice = client_for(office["alice"])
    response = post_wrapup(alice, office, tag=office["sale"].pk, note="Wants the blue model")
    assert response.json() == {"ok": True, "record": office["call"].pk}
    wrapup = WrapUp.objects.get(record=office["call"])
    assert (wrapup.tag, wrapup.note, wrapup.author) == (
        office["sale"],
        "Wants the blue model",
        office["alice"],
    )
    # A second save replaces the first.
    post_wrapup(alice, office, tag=None, note="Call back on Monday")
    wrapup.refresh_from_db()
    assert (wrapup.tag, wrapup.note) == (None, "Call back on Monday")


def test_a_wrapup_needs_a_tag_or_a_note_and_an_offered_tag(office: dict[str, Any]) -> None:
    alice = client_for(office["alice"])
    assert post_wrapup(alice, office, tag=None, note="  ").status_code == 400
    assert post_wrapup(alice, office, tag=office["retired"].pk).status_code == 400
    assert not WrapUp.objects.exists()


def test_only_the_lines_operator_or_a_supervisor_wraps_up(office: dict[str, Any]) -> None:
    assert post_wrapup(client_for(office["bob"]), office, note="x").status_code == 403
    assert post_wrapup(client_for(office["sofia"]), office, note="x").status_code == 200
    missing = post_wrapup(client_for(office["alice"]), office, call="nope", note="x")
    assert missing.status_code == 403


def test_history_detail_and_csv_show_the_wrapup_and_filters_find_it(
    office: dict[str, Any],
) -> None:
    alice = client_for(office["alice"])
    post_wrapup(alice, office, tag=office["sale"].pk, note="Wants the blue model")
    page = alice.get("/history/").content.decode()
    assert '<span class="pill wrapup-tag">Sale</span>' in page
    assert "Wants the blue model" in page

    by_tag = alice.get(f"/history/?tag={office['sale'].pk}")
    assert [record.call_id for record in by_tag.context["page"].object_list] == ["c1"]
    by_note = alice.get("/history/?q=blue+model")
    assert [record.call_id for record in by_note.context["page"].object_list] == ["c1"]

    detail = alice.get(f"/history/{office['call'].pk}/").content.decode()
    assert 'class="wrapup-tag">Sale</dd>' in detail
    assert "Wants the blue model" in detail

    export = alice.get("/history/export.csv").getvalue().decode("utf-8-sig")
    rows = {row["Call id"]: row for row in csv.DictReader(io.StringIO(export))}
    assert rows["c1"]["Result tag"] == "Sale"
    assert rows["c1"]["Note"] == "Wants the blue model"
    assert rows["c2"]["Result tag"] == ""


def test_the_call_detail_page_saves_a_wrapup(office: dict[str, Any]) -> None:
    alice = client_for(office["alice"])
    url = f"/history/{office['other'].pk}/wrapup/"
    response = alice.post(url, {"tag": office["sale"].pk, "note": "Done"})
    assert response.status_code == 302
    assert WrapUp.objects.get(record=office["other"]).note == "Done"
    empty = alice.post(url, {"tag": "", "note": ""})
    assert empty.status_code == 400
    assert "Choose a result tag or write a note." in empty.content.decode()
    assert client_for(office["bob"]).post(url, {"note": "x"}).status_code == 403
