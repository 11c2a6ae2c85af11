"""Click-to-call to a colleague, tried as a new user would: alice clicks bob in the directory,
her phone rings for the Originate and dials 102 (the simulator does what Asterisk does), bob
answers. Both cards show an internal call naming each other until the hang-up, and each line's
history shows one internal call. Fixtures and personas (alice on line 101, bob on 102) are in
``conftest.py``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from telephony.simulator import Simulator
from tests.support.daphne import DaphneServer

if TYPE_CHECKING:
    from tests.e2e.conftest import LogIn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: A colleague's name on a card (the directory's, or the phone's own caller ID name).
ALICE, BOB = re.compile("alice", re.IGNORECASE), re.compile("bob", re.IGNORECASE)


async def test_click_to_call_a_colleague_is_one_internal_call_on_each_line(
    server: DaphneServer, simulator: Simulator, log_in: LogIn
) -> None:
    alice, bob = await log_in("alice"), await log_in("bob")
    a_cards, b_cards = alice.locator(".call-card"), bob.locator(".call-card")

    # Alice clicks bob in her side bar's directory: an Originate from her phone to 102.
    colleague = alice.locator("#directory li[data-line='102'] a")
    await expect(colleague).to_be_visible(timeout=10000)
    await colleague.click()
    await expect(a_cards).to_have_count(1, timeout=5000)
    originate = [a for a in simulator.actions if a.name == "Originate"]
    assert [(a.get("Channel"), a.get("Exten")) for a in originate] == [("PJSIP/101", "102")]

    # Her phone answers the Originate and dials bob: his card rings, naming alice.
    await expect(b_cards).to_have_count(1, timeout=10000)
    bob_card = b_cards.first
    await expect(bob_card).to_have_attribute("data-state", "ringing")
    await expect(bob_card).to_have_attribute("data-direction", "internal")
    await expect(bob_card.locator(".party-number")).to_have_text("101")
    await expect(bob_card.locator(".party-name")).to_have_text(ALICE)
    alice_card = a_cards.first
    await expect(alice_card).to_have_attribute("data-direction", "internal", timeout=5000)
    await expect(alice_card.locator(".party-number")).to_have_text("102")
    call_id = await alice_card.get_attribute("data-call-id")
    assert call_id and await bob_card.get_attribute("data-call-id") == call_id

    # Bob answers: both cards stay, connected, internal, naming each other.
    await bob_card.locator("[data-action=answer]").click()
    for card in (alice_card, bob_card):
        await expect(card).to_have_attribute("data-state", "connected", timeout=5000)
        await expect(card).to_have_attribute("data-direction", "internal")
    await expect(alice_card.locator(".party-name")).to_have_text(BOB)
    await expect(bob_card.locator(".party-name")).to_have_text(ALICE)
    await expect(a_cards).to_have_count(1)
    await expect(b_cards).to_have_count(1)

    # Alice hangs up: both cards go.
    await alice_card.locator("[data-action=drop]").click()
    await expect(a_cards).to_have_count(0, timeout=5000)
    await expect(b_cards).to_have_count(0, timeout=5000)
    assert not alice.errors and not bob.errors, (alice.errors, bob.errors)  # type: ignore[attr-defined]

    # Each line's history: one call, internal, answered (never answered-elsewhere).
    for page, other in ((alice, "102"), (bob, "101")):
        await page.goto(server.url("/history/"))
        rows = page.locator("tr.call-row")
        await expect(rows).to_have_count(1, timeout=5000)
        row = rows.first
        await expect(row).to_have_attribute("data-call-id", call_id)
        await expect(row).to_have_attribute("data-disposition", "answered")
        await expect(row).to_contain_text("internal")
        await expect(row).to_contain_text(other)
