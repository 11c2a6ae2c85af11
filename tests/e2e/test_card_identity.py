"""The call card says who is on the line and counts talk time: the phone book's name, the
number once, who transferred the call, the digits sent, only the buttons the call allows,
and a timer that counts from the answer, also after a reload. Personas in ``conftest.py``.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from telephony.simulator import Kind, Party, Simulator

if TYPE_CHECKING:
    from tests.e2e.conftest import LogIn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seconds(timer: str) -> int:
    """``"1:05"`` -> 65."""
    minutes, secs = timer.strip().rsplit(":", 1)
    return int(minutes.split(":")[-1]) * 60 + int(secs)


async def test_the_card_names_the_caller_and_who_transferred_the_call(
    simulator: Simulator, log_in: LogIn, ivan: Party
) -> None:
    alice = await log_in("alice")
    bob = await log_in("bob")
    # The PBX sends no name: the phone book's name heads the card, the number beside it.
    await simulator.start_call(Kind.INBOUND, "101", customer=Party(ivan.number, ""))
    card = alice.locator(".call-card").first
    await expect(card).to_have_attribute("data-state", "ringing", timeout=5000)
    await expect(card.locator(".party-name")).to_have_text("Иван Петров")
    await expect(card.locator(".party-number")).to_have_text("+15551230002")
    await expect(card.locator(".contact-link")).to_have_attribute(
        "href", re.compile(r"/contacts/\d+/")
    )
    # Ringing: answer and hang up, nothing else; no dead buttons.
    visible = card.locator(".actions button:visible")
    await expect(visible).to_have_count(2)
    await card.locator("[data-action=answer]").click()
    await expect(card).to_have_attribute("data-state", "connected", timeout=5000)
    await expect(card.locator("[data-action=answer]")).to_be_hidden()
    await expect(card.locator("[data-action=hold]")).to_be_visible()

    # Digits sent show on the card.
    await card.locator("[data-action=keypad]").click()
    await card.locator(".keypad [data-digit='4']").click()
    await expect(card.locator(".dtmf")).to_contain_text("4")
    await card.locator(".keypad [data-digit='#']").click()
    await expect(card.locator(".dtmf")).to_contain_text("4#")
    assert [a.get("Digit") for a in simulator.actions if a.name == "PlayDTMF"] == ["4", "#"]

    # Blind transfer to bob: his card says who handed it over (alice's name in the app).
    await card.locator("[data-action=transfer]").click()
    await alice.locator("#transfer-number").fill("102")
    await alice.locator("#transfer-dialog [data-transfer=blind]").click()
    bob_card = bob.locator(".call-card").first
    await expect(bob_card.locator(".party-name")).to_have_text("Иван Петров", timeout=5000)
    await expect(bob_card.locator(".transferred-by")).to_have_text("transferred by alice")
    assert not alice.errors, alice.errors  # type: ignore[attr-defined]
    assert not bob.errors, bob.errors  # type: ignore[attr-defined]


async def test_an_outgoing_call_shows_the_number_once(simulator: Simulator, log_in: LogIn) -> None:
    alice = await log_in("alice")
    await alice.locator("#dial-number").fill("+15559990000")
    await alice.locator("#dial-form button[type=submit]").click()
    card = alice.locator(".call-card").first
    await expect(card).to_have_attribute("data-direction", "outgoing", timeout=10000)
    await expect(card.locator(".party-name")).to_have_text("+15559990000", timeout=10000)
    await expect(card.locator(".party-number")).to_be_hidden()
    await expect(card.locator(".party")).to_have_text(re.compile(r"^\s*\+15559990000\s*$"))


async def test_the_timer_counts_talk_time_from_the_answer_after_a_reload(
    simulator: Simulator, log_in: LogIn, ivan: Party
) -> None:
    alice = await log_in("alice")
    await simulator.start_call(Kind.INBOUND, "101", customer=ivan)
    card = alice.locator(".call-card").first
    await expect(card).to_have_attribute("data-state", "ringing", timeout=5000)
    # Let it ring long enough that counting from the ring would show.
    await expect(card.locator(".timer")).to_have_text(re.compile(r"^0:0[4-9]$"), timeout=10000)
    await card.locator("[data-action=answer]").click()
    await expect(card).to_have_attribute("data-state", "connected", timeout=5000)
    answered = time.monotonic()
    await alice.reload()
    card = alice.locator(".call-card").first
    await expect(card).to_have_attribute("data-state", "connected", timeout=10000)
    await expect(card.locator(".timer")).not_to_have_text("0:00", timeout=5000)
    shown = seconds(await card.locator(".timer").inner_text())
    talked = time.monotonic() - answered
    # Talk time, not ring + talk (the ring alone was 4 s or more).
    assert talked - 2 <= shown <= talked + 1, (shown, talked)
