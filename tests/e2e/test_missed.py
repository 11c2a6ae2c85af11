"""A call nobody answers: the toast names the caller, the badge counts it live, the
missed-calls page lists it with Call back and clears the badge. Personas in ``conftest.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from telephony.simulator import Kind, Party, Simulator

if TYPE_CHECKING:
    from tests.e2e.conftest import LogIn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


async def test_a_missed_call_is_counted_named_and_listed(
    server: object, simulator: Simulator, log_in: LogIn, ivan: Party
) -> None:
    alice = await log_in("alice")
    badge = alice.locator("#missed-badge")
    await expect(badge).to_be_hidden()
    call = await simulator.start_call(Kind.INBOUND, "101", customer=Party(ivan.number, ""))
    await expect(alice.locator(".call-card")).to_have_count(1, timeout=5000)
    # The customer gives up before anyone answers.
    customer = next(channel for channel in call.live_channels if channel.line is None)
    simulator.pbx.hang_up(call, customer)
    await expect(alice.locator(".call-card")).to_have_count(0, timeout=5000)
    await expect(alice.locator(".toast.warning")).to_contain_text("Иван Петров")
    await expect(badge).to_have_text("1", timeout=5000)
    await expect(badge).to_be_visible()

    await alice.locator("#missed-link").click()
    row = alice.locator(".missed-call").first
    await expect(row.locator(".missed-name")).to_have_text("Иван Петров")
    await expect(row.locator(".call-back")).to_have_attribute("href", f"tel:{ivan.number}")
    await expect(row).to_have_class("missed-call new")
    # Seen now: the badge is gone here, on the panel and after a reload.
    await expect(alice.locator("#missed-badge")).to_be_hidden()
    await alice.goto(alice.url.replace("/missed/", "/"))
    await expect(alice.locator("#pbx-state")).to_have_attribute("data-state", "up", timeout=15000)
    await expect(alice.locator("#missed-badge")).to_be_hidden()
    await alice.locator("#missed-link").click()
    await expect(alice.locator(".missed-call").first).to_have_class("missed-call")
    assert not alice.errors, alice.errors  # type: ignore[attr-defined]
