"""History filters at the ends of the calendar and with unreadable dates: a page (or a 400
that says why), never a 500 and never every call for a filter that could not be read."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from tests.integration.test_pages import call_ids, client_for, office

pytestmark = [pytest.mark.django_db]
__all__ = ["office"]  # the fixture shared with test_pages.py

ZONES = ["UTC", "Asia/Tokyo", "Pacific/Kiritimati", "America/New_York", "Pacific/Pago_Pago"]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("date_to=9999-12-31", ["c2", "c1"]),
        ("date_from=0001-01-01", ["c2", "c1"]),
        ("date_from=0001-01-01&date_to=9999-12-31", ["c2", "c1"]),
        ("date_from=9999-12-31", []),
        ("date_to=0001-01-01", []),
    ],
)
def test_dates_at_the_ends_of_the_calendar_filter_instead_of_failing(
    office: dict[str, Any], zone: str, query: str, expected: list[str]
) -> None:
    with override_settings(TIME_ZONE=zone):
        alice = client_for(office["users"]["alice"])
        response = alice.get(f"/history/?{query}")
        assert response.status_code == 200
        assert call_ids(response) == expected
        export = alice.get(f"/history/export.csv?{query}")
        assert export.status_code == 200
        rows = export.getvalue().decode("utf-8-sig").strip().splitlines()
        assert len(rows) == 1 + len(expected)


@pytest.mark.parametrize(
    "query",
    [
        "date_to=2026-02-30",
        "date_from=yesterday",
        "date_to=10000-01-01",
        "date_from=-1-01-01",
        "date_to=2026-03-02%00",
        "direction=sideways",
    ],
)
def test_an_unreadable_filter_is_a_400_with_the_reason_and_no_calls(
    office: dict[str, Any], query: str
) -> None:
    alice = client_for(office["users"]["alice"])
    response = alice.get(f"/history/?{query}")
    assert response.status_code == 400
    assert call_ids(response) == []
    assert 'class="errorlist' in response.content.decode()
    export = alice.get(f"/history/export.csv?{query}")
    assert export.status_code == 400
    assert export.content.decode().strip()
