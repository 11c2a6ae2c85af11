"""The panel's socket comes back by itself after the network drops, says so with the
banner meanwhile, and redraws the live call from the hello's snapshot without a second card.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from telephony.simulator import Kind, Party, Simulator
from tests.support.tcp_proxy import TcpProxy

if TYPE_CHECKING:
    from tests.e2e.conftest import LogIn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


async def test_ringing_call_survives_a_dropped_socket(
    proxy: TcpProxy, simulator: Simulator, log_in: LogIn, ivan: Party
) -> None:
    alice = await log_in("alice", proxy.origin)
    cards, banner = alice.locator(".call-card"), alice.locator("#banner")
    await simulator.start_call(Kind.INBOUND, "101", customer=ivan)
    await expect(cards).to_have_count(1, timeout=1000)
    card = cards.first
    await expect(card).to_have_attribute("data-state", "ringing")
    call_id = await card.get_attribute("data-call-id")
    assert call_id
    # A mark only this DOM node carries: a card drawn afresh from the template would lack it.
    await card.evaluate("node => { node.dataset.before = 'drop'; }")
    await expect(banner).to_be_hidden()

    # The server side goes away: the open socket closes and the first retries are refused
    # (Chromium's offline emulation would leave an open WebSocket alone).
    proxy.cut()
    await expect(banner).to_be_visible(timeout=5000)
    await expect(alice.locator("#pbx-state")).to_have_attribute("data-state", "unknown")
    await alice.wait_for_timeout(1000)  # a retry or two hit the cut proxy
    await expect(banner).to_be_visible()
    proxy.restore()

    # Back by itself: the backoff's next try (at most a few seconds) gets a new hello.
    await expect(banner).to_be_hidden(timeout=10000)
    await expect(alice.locator(".toast.ok")).to_contain_text("Reconnected.")
    await expect(alice.locator("#pbx-state")).to_have_attribute("data-state", "up")
    await expect(cards).to_have_count(1)
    await expect(card).to_have_attribute("data-call-id", call_id)
    await expect(card).to_have_attribute("data-before", "drop")
    await expect(card).to_have_attribute("data-state", "ringing")
    await expect(card.locator("[data-action=answer]")).to_be_enabled()
    assert len(alice.sockets) >= 2, alice.sockets  # type: ignore[attr-defined]
    assert not alice.errors, alice.errors  # type: ignore[attr-defined]
