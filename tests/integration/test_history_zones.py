"""History in the user's own terms: seconds, their time zone (chosen, else the browser's),
a CSV with local times and human values, and a message for dates in the wrong order.

Personas: alice owns line 101 and reads times in Moscow once she chooses it.
"""

from __future__ import annotations

import csv
import io
import zoneinfo
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from telephony.models import Extension, OperatorProfile
from tests.factories import CALL_START, make_call_record, make_connector

pytestmark = pytest.mark.django_db
STARTED = CALL_START.replace(second=7)


@pytest.fixture
def alice() -> Client:
    connector = make_connector()
    user = User.objects.create_user("alice", password="pw")
    Extension.objects.create(connector=connector, number="101", operator=user)
    make_call_record(
        connector=connector,
        call_id="c1",
        line="101",
        disposition="answered-elsewhere",
        started_at=STARTED,
        ended_at=STARTED,
    )
    client = Client()
    client.force_login(user)
    return client


def csv_rows(client: Client, **headers: Any) -> list[dict[str, str]]:
    body = client.get("/history/export.csv", **headers).getvalue().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def local(zone: str) -> str:
    return STARTED.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def test_times_follow_the_browser_until_the_user_picks_a_zone(alice: Client) -> None:
    assert csv_rows(alice)[0]["Started"] == local("UTC")  # TIME_ZONE, nothing known yet
    alice.cookies["cti_tz"] = "Asia/Tokyo"
    assert csv_rows(alice)[0]["Started"] == local("Asia/Tokyo")
    response = alice.post("/settings/", {"time_zone": "Europe/Moscow"})
    assert response.status_code == 302
    assert OperatorProfile.objects.get().time_zone == "Europe/Moscow"
    # The user's choice beats the browser's cookie, in the CSV and on the page (seconds too).
    assert csv_rows(alice)[0]["Started"] == local("Europe/Moscow")
    assert local("Europe/Moscow")[-8:] in alice.get("/history/").content.decode()


def test_a_bad_zone_cookie_is_ignored(alice: Client) -> None:
    alice.cookies["cti_tz"] = "Mars/Olympus_Mons\r\nX: y"
    assert alice.get("/history/").status_code == 200
    assert csv_rows(alice)[0]["Started"] == local("UTC")


def test_the_csv_speaks_the_users_language_and_values(alice: Client) -> None:
    row = csv_rows(alice)[0]
    assert row["Result"] == "answered elsewhere"  # not the code answered-elsewhere
    assert row["Direction"] == "incoming"
    russian = csv_rows(alice, HTTP_ACCEPT_LANGUAGE="ru")[0]
    assert russian["Результат"] == "отвечен другим"
    assert russian["Направление"] == "входящий"


def test_a_from_date_after_the_to_date_gives_a_message(alice: Client) -> None:
    response = alice.get("/history/?date_from=2026-03-05&date_to=2026-03-01")
    assert response.status_code == 400  # a filter that cannot match is refused, with why
    assert "The from-date is after the to-date" in response.content.decode()


def test_the_refusal_and_the_new_pages_speak_russian(alice: Client) -> None:
    refused = alice.get("/supervisor/", HTTP_ACCEPT_LANGUAGE="ru")
    assert refused.status_code == 403
    assert "Доступ запрещён" in refused.content.decode()
    for url, words in (
        ("/missed/", "Пропущенные звонки"),
        ("/settings/", "Часовой пояс"),
        ("/history/", "Тег итога"),  # noqa: RUF001 - Russian on purpose
    ):
        assert words in alice.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode(), url
