"""Consultative transfer in a real browser: alice (line 101) consults bob (102) about a
caller, then completes the transfer or cancels back to the caller. Fixtures and personas are
in ``conftest.py``; the simulator does the consultation the way Asterisk 22 does (``Atxfer``
through a Local pair, ``AttendedTransfer`` on completion).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Page, expect

from telephony.simulator import Kind, Party, Simulator
from tests.support.daphne import DaphneServer

if TYPE_CHECKING:
    from tests.e2e.conftest import LogIn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sent(sim: Simulator, name: str, prefix: str) -> list[str]:
    """Channels of the ``name`` actions the PBX received for channels starting ``prefix``."""
    return [
        action.get("Channel") or ""
        for action in sim.actions
        if action.name == name and (action.get("Channel") or "").startswith(prefix)
    ]


async def consult_bob(simulator: Simulator, alice: Page, bob: Page, ivan: Party) -> str:
    """Ivan calls alice, she answers and consults bob, who answers; returns Ivan's call id."""
    a_cards, b_cards = alice.locator(".call-card"), bob.locator(".call-card")
    await simulator.start_call(Kind.INBOUND, "101", customer=ivan)
    card = a_cards.first
    await expect(card).to_have_attribute("data-state", "ringing", timeout=5000)
    call_id = await card.get_attribute("data-call-id")
    assert call_id
    await card.locator("[data-action=answer]").click()
    await expect(card).to_have_attribute("data-state", "connected", timeout=5000)

    # "Consult first" starts a real consultation: a second card on alice's line.
    await card.locator("[data-action=transfer]").click()
    dialog = alice.locator("#transfer-dialog")
    await dialog.locator(".directory li[data-line='102'] button").click()
    await dialog.locator("[data-transfer=consult]").click()
    await expect(dialog).not_to_be_visible(timeout=5000)
    assert sent(simulator, "Atxfer", "PJSIP/101-")
    await expect(a_cards).to_have_count(2, timeout=5000)
    waiting = alice.locator(f".call-card[data-call-id='{call_id}']")
    consultation = alice.locator(".call-card[data-consult=consultation]")
    await expect(waiting).to_have_attribute("data-state", "held", timeout=5000)
    await expect(waiting).to_have_attribute("data-consult", "waiting")
    await expect(waiting.locator(".party-number")).to_have_text("+15551230002")
    await expect(consultation.locator(".party-number")).to_have_text("102")
    await expect(consultation).to_have_attribute("data-direction", "internal")
    assert await consultation.get_attribute("data-call-id") != call_id

    # Bob's phone rings with alice's consultation; he answers from his panel.
    await expect(b_cards).to_have_count(1, timeout=5000)
    bob_card = b_cards.first
    await expect(bob_card).to_have_attribute("data-state", "ringing")
    await expect(bob_card.locator(".party-number")).to_have_text("101")
    await bob_card.locator("[data-action=answer]").click()
    await expect(bob_card).to_have_attribute("data-state", "connected", timeout=5000)
    await expect(consultation).to_have_attribute("data-state", "connected", timeout=5000)
    await expect(consultation.locator("[data-action=complete]")).to_be_enabled()
    await expect(consultation.locator("[data-action=cancel]")).to_be_enabled()
    return call_id


async def test_complete_transfer_hands_the_caller_to_the_consulted_colleague(
    server: DaphneServer, simulator: Simulator, log_in: LogIn, ivan: Party
) -> None:
    alice, bob = await log_in("alice"), await log_in("bob")
    a_cards, b_cards = alice.locator(".call-card"), bob.locator(".call-card")
    call_id = await consult_bob(simulator, alice, bob, ivan)

    consultation = alice.locator(".call-card[data-consult=consultation]")
    await consultation.locator("[data-action=complete]").click()

    # Alice's cards go; bob now talks to Ivan (the caller), on one card.
    await expect(a_cards).to_have_count(0, timeout=5000)
    assert sent(simulator, "Hangup", "PJSIP/101-")
    await expect(b_cards).to_have_count(1)
    bob_card = b_cards.first
    await expect(bob_card.locator(".party-number")).to_have_text("+15551230002", timeout=5000)
    await expect(bob_card).to_have_attribute("data-state", "connected")
    await bob_card.locator("[data-action=drop]").click()
    await expect(b_cards).to_have_count(0, timeout=5000)
    assert not alice.errors and not bob.errors, (alice.errors, bob.errors)  # type: ignore[attr-defined]

    # Alice's history: the caller's record transferred (to bob), the consultation its own.
    await alice.goto(server.url("/history/"))
    row = alice.locator(f"tr.call-row[data-call-id='{call_id}']")
    await expect(row).to_have_attribute("data-disposition", "transferred", timeout=5000)
    await expect(alice.locator("tr.call-row")).to_have_count(2)


async def test_cancel_takes_the_operator_back_to_the_caller(
    server: DaphneServer, simulator: Simulator, log_in: LogIn, ivan: Party
) -> None:
    alice, bob = await log_in("alice"), await log_in("bob")
    a_cards, b_cards = alice.locator(".call-card"), bob.locator(".call-card")
    call_id = await consult_bob(simulator, alice, bob, ivan)

    consultation = alice.locator(".call-card[data-consult=consultation]")
    await consultation.locator("[data-action=cancel]").click()

    # The consulted party is hung up, never the caller; alice is back with Ivan.
    await expect(b_cards).to_have_count(0, timeout=5000)
    assert sent(simulator, "Hangup", "PJSIP/102-") or sent(simulator, "Hangup", "Local/102@")
    assert not sent(simulator, "Hangup", "PJSIP/pstn-")
    await expect(a_cards).to_have_count(1, timeout=5000)
    card = a_cards.first
    await expect(card).to_have_attribute("data-call-id", call_id)
    await expect(card).to_have_attribute("data-state", "connected", timeout=5000)
    await expect(card).to_have_attribute("data-consult", "")
    await expect(card.locator(".party-number")).to_have_text("+15551230002")
    await expect(card.locator("[data-action=complete]")).to_be_hidden()
    await card.locator("[data-action=drop]").click()
    await expect(a_cards).to_have_count(0, timeout=5000)
    assert not alice.errors and not bob.errors, (alice.errors, bob.errors)  # type: ignore[attr-defined]
