"""The call panel in a real browser, end to end: ring, hang up, answer, hold, transfer,
history. Fixtures and personas (alice on line 101, bob on 102) are in ``conftest.py``.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from telephony.simulator import Kind, Party, Simulator
from tests.support.daphne import ROOT, DaphneServer

if TYPE_CHECKING:
    from tests.e2e.conftest import LogIn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# `SAVE_SCREENSHOTS=1 make test-browser` refreshes the README's pictures; a normal run writes
# them to a temporary folder, so tests never dirty the checkout.
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("SAVE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "cti-screenshots"
)
SCREENSHOTS.mkdir(parents=True, exist_ok=True)


def hangups(sim: Simulator, line: str) -> list[str]:
    return [
        action.get("Channel") or ""
        for action in sim.actions
        if action.name == "Hangup" and (action.get("Channel") or "").startswith(f"PJSIP/{line}-")
    ]


async def test_operator_panel_end_to_end(
    server: DaphneServer, simulator: Simulator, log_in: LogIn, ivan: Party
) -> None:
    alice = await log_in("alice")
    bob = await log_in("bob")
    a_cards, b_cards = alice.locator(".call-card"), bob.locator(".call-card")

    # 1. A ringing call reaches alice's panel within a second, and only hers.
    first = await simulator.start_call(Kind.INBOUND, "101", customer=ivan)
    await expect(a_cards).to_have_count(1, timeout=1000)
    card = a_cards.first
    await expect(card).to_have_attribute("data-state", "ringing")
    await expect(card.locator(".party-number")).to_have_text("+15551230002")
    await expect(card.locator(".party-name")).to_have_text("Иван Петров")
    await expect(card.locator(".contact-link")).to_have_attribute("href", re.compile("/contacts/"))
    await expect(card.locator("[data-action=answer]")).to_be_enabled()
    await expect(card.locator("[data-action=hold]")).to_be_hidden()
    await alice.wait_for_timeout(300)
    await alice.screenshot(path=str(SCREENSHOTS / "panel-ringing.png"))
    await expect(b_cards).to_have_count(0)

    # 2. Hang up from the browser: the PBX receives Hangup for alice's channel.
    await card.locator("[data-action=drop]").click()
    await expect(a_cards).to_have_count(0, timeout=5000)
    assert hangups(simulator, "101"), [action.name for action in simulator.actions]
    assert first.finished.is_set() or not simulator.is_busy("101")

    # 3. Answer, hold and resume: the card follows the call's state and features.
    await simulator.start_call(Kind.INBOUND, "101", customer=ivan)
    card = a_cards.first
    await expect(card).to_have_attribute("data-state", "ringing", timeout=1000)
    call_id = await card.get_attribute("data-call-id")
    assert call_id
    await card.locator("[data-action=answer]").click()
    await expect(card).to_have_attribute("data-state", "connected", timeout=5000)
    await expect(card.locator("[data-action=answer]")).to_be_hidden()
    await alice.wait_for_timeout(1200)
    await alice.screenshot(path=str(SCREENSHOTS / "panel-connected.png"))
    await alice.keyboard.press("Shift+H")  # the hold shortcut
    await expect(card).to_have_attribute("data-state", "held", timeout=5000)
    await expect(card.locator("[data-action=hold]")).to_have_text(re.compile("Resume"))
    await card.locator("[data-action=hold]").click()
    await expect(card).to_have_attribute("data-state", "connected", timeout=5000)

    # 4. Blind transfer to bob, picked from the directory: the card moves to his panel.
    await card.locator("[data-action=transfer]").click()
    dialog = alice.locator("#transfer-dialog")
    await dialog.locator(".directory li[data-line='102'] button").click()
    await dialog.locator("[data-transfer=blind]").click()
    await expect(a_cards).to_have_count(0, timeout=5000)
    bob_card = b_cards.first
    await expect(bob_card).to_have_attribute("data-call-id", str(call_id), timeout=5000)
    await expect(bob_card.locator(".party-number")).to_have_text("+15551230002")
    await bob_card.locator("[data-action=answer]").click()
    await expect(bob_card).to_have_attribute("data-state", "connected", timeout=5000)
    await bob_card.locator("[data-action=drop]").click()
    await expect(b_cards).to_have_count(0, timeout=5000)
    assert hangups(simulator, "102")

    # One socket each all along: no event made the server drop a panel.
    assert len(alice.sockets) == 1, alice.sockets  # type: ignore[attr-defined]
    assert len(bob.sockets) == 1, bob.sockets  # type: ignore[attr-defined]
    assert not alice.errors, alice.errors  # type: ignore[attr-defined]
    assert not bob.errors, bob.errors  # type: ignore[attr-defined]

    # 5. Both histories show it, each with its line's disposition; the CSV has it too.
    await alice.goto(server.url("/history/"))
    row = alice.locator(f"tr.call-row[data-call-id='{call_id}']")
    await expect(row).to_have_attribute("data-disposition", "transferred", timeout=5000)
    await expect(alice.locator("tr.call-row")).to_have_count(2)  # plus the hung-up one
    await alice.screenshot(path=str(SCREENSHOTS / "history.png"))
    await bob.goto(server.url("/history/"))
    bob_row = bob.locator(f"tr.call-row[data-call-id='{call_id}']")
    await expect(bob_row).to_have_attribute("data-disposition", "answered", timeout=5000)
    export = await alice.request.get(server.url("/history/export.csv"))
    assert export.ok
    csv_text = await export.text()
    assert call_id in csv_text
    assert "transferred" in csv_text
    assert "Иван Петров" in csv_text
