"""The panel in Russian has no English left: top bar, lines, the card and its buttons, the
wrap-up form and the missed-calls page. Personas in ``conftest.py``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from telephony.simulator import Kind, Party, Simulator
from tests.support.daphne import DaphneServer

if TYPE_CHECKING:
    from tests.e2e.conftest import LogIn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: Words of the English UI that must not survive the switch (whole words, any case).
ENGLISH = re.compile(
    r"\b(Answer|Hang up|Hold|Transfer|Keypad|Incoming|Outgoing|connected|ringing|Missed|"
    r"History|Call panel|Do not disturb|Colleagues|Wrap up|Save|Skip|Note|line|idle|busy)\b",
    re.IGNORECASE,
)


async def test_the_panel_speaks_russian_throughout(
    server: DaphneServer, simulator: Simulator, log_in: LogIn, ivan: Party
) -> None:
    alice = await log_in("alice")
    await alice.select_option("#language", "ru")
    await expect(alice.locator("html")).to_have_attribute("lang", "ru", timeout=10000)
    await expect(alice.locator("#pbx-state")).to_have_attribute("data-state", "up", timeout=15000)
    await simulator.start_call(Kind.INBOUND, "101", customer=ivan)
    card = alice.locator(".call-card").first
    await expect(card).to_have_attribute("data-state", "ringing", timeout=5000)
    await card.locator("[data-action=answer]").click()
    await expect(card).to_have_attribute("data-state", "connected", timeout=5000)
    await card.locator("[data-action=keypad]").click()
    await card.locator(".keypad [data-digit='5']").click()
    await expect(card.locator(".dtmf")).to_be_visible()
    text = await alice.locator("body").inner_text()
    assert not ENGLISH.findall(text), (ENGLISH.findall(text), text)

    await card.locator("[data-action=drop]").click()
    await expect(alice.locator(".wrapup-card")).to_have_count(1, timeout=5000)
    text = await alice.locator("main").inner_text()
    assert not ENGLISH.findall(text), (ENGLISH.findall(text), text)

    await alice.goto(server.url("/missed/"))
    text = await alice.locator("body").inner_text()
    assert not ENGLISH.findall(text), (ENGLISH.findall(text), text)
    assert not alice.errors, alice.errors  # type: ignore[attr-defined]
