"""The pages with Django's test client: who sees which calls, history filters, the CSV, the
call detail, the directory and the Russian translation.

Personas: alice owns line 101, bob line 102; sofia supervises and owns no line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from telephony.models import CallEvent, Contact, Extension, LineDnd
from tests.factories import CALL_START, make_call_record, make_connector

pytestmark = pytest.mark.django_db


@pytest.fixture
def office() -> dict[str, Any]:
    connector = make_connector()
    users = {name: User.objects.create_user(name, password="pw") for name in ("alice", "bob")}
    sofia = User.objects.create_user("sofia", password="pw")
    sofia.user_permissions.add(Permission.objects.get(codename="supervise"))
    Extension.objects.create(connector=connector, number="101", operator=users["alice"])
    Extension.objects.create(connector=connector, number="102", operator=users["bob"])
    ivan = Contact(name="Иван Петров", company="Ромашка", phones="+15551230002")
    ivan.save()
    ended = CALL_START + dt.timedelta(seconds=30)
    answered = make_call_record(
        connector=connector, call_id="c1", line="101", ended_at=ended, talk_seconds=25
    )
    missed = make_call_record(
        connector=connector,
        call_id="c2",
        line="101",
        disposition="missed",
        caller_number="+15551230002",
        contact=ivan,
        started_at=CALL_START + dt.timedelta(hours=1),
        ended_at=CALL_START + dt.timedelta(hours=1, seconds=15),
    )
    bobs = make_call_record(connector=connector, call_id="c3", line="102", ended_at=ended)
    CallEvent.objects.create(
        record=missed,
        connector=connector,
        line="101",
        seq=1,
        name="RingStarted",
        code=5,
        occurred_at=missed.started_at,
        dedupe_key="RingStarted",
        payload={"event": "RingStarted"},
    )
    return {"users": users, "sofia": sofia, "records": (answered, missed, bobs)}


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def call_ids(response: Any) -> list[str]:
    return [record.call_id for record in response.context["page"].object_list]


def test_pages_need_a_login() -> None:
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_operator_sees_only_their_lines_calls_newest_first(office: dict[str, Any]) -> None:
    response = client_for(office["users"]["alice"]).get("/history/")
    assert call_ids(response) == ["c2", "c1"]


def test_a_supervisor_sees_everyones_calls(office: dict[str, Any]) -> None:
    response = client_for(office["sofia"]).get("/history/")
    assert sorted(call_ids(response)) == ["c1", "c2", "c3"]


def test_missed_calls_stand_out_with_a_call_back_link(office: dict[str, Any]) -> None:
    response = client_for(office["users"]["alice"]).get("/history/?disposition=missed")
    assert call_ids(response) == ["c2"]
    html = response.content.decode()
    assert "disposition-missed" in html
    assert 'class="button call-back" href="tel:+15551230002"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=%D0%98%D0%B2%D0%B0%D0%BD", ["c2"]),  # "Иван": the contact's name
        ("q=%2B1+(555)+123-0002", ["c2"]),  # the number in another format
        ("direction=outgoing", []),
        ("date_from=2026-03-02&date_to=2026-03-02", ["c2", "c1"]),
        ("date_from=2026-03-03", []),
    ],
)
def test_history_filters(office: dict[str, Any], query: str, expected: list[str]) -> None:
    response = client_for(office["users"]["alice"]).get(f"/history/?{query}")
    assert call_ids(response) == expected


def test_the_csv_export_has_the_filtered_calls_only(office: dict[str, Any]) -> None:
    response = client_for(office["users"]["alice"]).get("/history/export.csv?disposition=missed")
    text = response.getvalue().decode("utf-8-sig")
    rows = text.strip().splitlines()
    assert rows[0].startswith("Started,Answered,Ended,Line,Direction,Result")
    assert len(rows) == 2
    assert ",missed," in rows[1]
    assert "Иван Петров" in rows[1]


def test_the_csv_export_defuses_formulas_in_caller_id_but_keeps_phone_numbers(
    office: dict[str, Any],
) -> None:
    # Caller ID is whatever the caller's carrier sends: a name can be a spreadsheet formula.
    connector = office["records"][0].connector
    formulas = [
        '=HYPERLINK("http://evil.example","x")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)",
        "\t=1+1",
        "\r=1+1",
    ]
    for n, name in enumerate(formulas):
        make_call_record(
            connector=connector,
            call_id=f"evil-{n}",
            line="101",
            caller_name=name,
            caller_number="+1 (555) 123-0003",
            callee_number="-101",
            started_at=CALL_START + dt.timedelta(hours=2, minutes=n),
        )

    response = client_for(office["users"]["alice"]).get("/history/export.csv")

    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    evil = [row for row in rows if row["Caller number"] == "+1 (555) 123-0003"]
    assert sorted(row["Caller name"] for row in evil) == sorted("'" + name for name in formulas)
    # A plain number starting with + or - is data, not a formula: it stays as it is.
    assert {row["Callee number"] for row in evil} == {"-101"}
    assert {row["Caller number"] for row in rows} >= {"+15551230001", "+15551230002"}


def test_the_detail_page_shows_the_timeline_and_is_private(office: dict[str, Any]) -> None:
    _answered, missed, bobs = office["records"]
    alice = client_for(office["users"]["alice"])
    response = alice.get(f"/history/{missed.pk}/")
    assert response.status_code == 200
    assert 'data-event="RingStarted"' in response.content.decode()
    assert alice.get(f"/history/{bobs.pk}/").status_code == 404


def test_the_supervisor_page_needs_the_permission(office: dict[str, Any]) -> None:
    assert client_for(office["users"]["alice"]).get("/supervisor/").status_code == 403
    assert client_for(office["sofia"]).get("/supervisor/").status_code == 200


def test_the_directory_shows_colleagues_live_state(office: dict[str, Any]) -> None:
    connector = office["records"][0].connector
    make_call_record(connector=connector, call_id="live", line="102", state="connected")
    response = client_for(office["users"]["alice"]).get("/api/directory/")
    states = {entry["line"]: (entry["state"], entry["mine"]) for entry in response.json()["lines"]}
    assert states == {"101": ("idle", True), "102": ("busy", False)}


def test_the_directory_shows_the_servers_dnd_state(office: dict[str, Any]) -> None:
    connector = office["records"][0].connector
    LineDnd.objects.create(connector=connector, line="101", enabled=True)
    LineDnd.objects.create(connector=connector, line="102", enabled=False)
    bob = client_for(office["users"]["bob"])
    states = {entry["line"]: entry["state"] for entry in bob.get("/api/directory/").json()["lines"]}
    assert states == {"101": "dnd", "102": "idle"}
    # Panels no longer report DND themselves: the server records what the PBX accepted.
    assert bob.post("/api/dnd/", {}).status_code == 404


def test_pages_speak_russian_when_the_browser_asks(office: dict[str, Any]) -> None:
    alice = client_for(office["users"]["alice"])
    html = alice.get("/history/", headers={"accept-language": "ru"}).content.decode()
    assert "История звонков" in html
    catalog = alice.get("/jsi18n/", headers={"accept-language": "ru"}).content.decode()
    assert (
        "\\u0412\\u0445\\u043e\\u0434\\u044f\\u0449\\u0438\\u0439" in catalog
        or "Входящий" in catalog
    )


def test_the_panel_lists_the_operators_lines(office: dict[str, Any]) -> None:
    html = client_for(office["users"]["alice"]).get("/").content.decode()
    assert 'data-line="101"' in html
    assert 'data-line="102"' not in html
    assert "telephony/js/panel.js" in html


def test_a_user_without_a_line_is_told_so(office: dict[str, Any]) -> None:
    html = client_for(office["sofia"]).get("/").content.decode()
    assert "No phone line" in html
    assert "/supervisor/" in html
