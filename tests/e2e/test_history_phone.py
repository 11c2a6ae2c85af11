"""The history on a 390 px phone: the result and Call back stay on screen, seconds shown.
Personas in ``conftest.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import expect

from tests.factories import make_call_record
from tests.support.daphne import DaphneServer

if TYPE_CHECKING:
    from tests.e2e.conftest import LogIn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


async def test_history_fits_a_phone(
    server: DaphneServer, lines: dict[str, Any], log_in: LogIn
) -> None:
    started = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=3)
    await sync_to_async(make_call_record)(
        connector=lines["connector"],
        call_id="phone-missed",
        line="101",
        disposition="missed",
        caller_number="+15551230002",
        caller_name="A rather long caller name from the carrier",
        started_at=started,
        ended_at=started + dt.timedelta(seconds=20),
    )
    alice = await log_in("alice")
    await alice.set_viewport_size({"width": 390, "height": 844})
    await alice.goto(server.url("/history/"))
    row = alice.locator("tr.call-row[data-call-id='phone-missed']")
    await expect(row).to_be_visible()
    await expect(row.locator("td").first).to_have_text(re.compile(r"\d{1,2}:\d{2}:\d{2}"))
    for cell in (row.locator(".col-result .pill"), row.locator(".col-call-back .call-back")):
        await expect(cell).to_be_visible()
        box = await cell.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390, box
    assert not alice.errors, alice.errors  # type: ignore[attr-defined]
