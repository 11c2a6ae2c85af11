"""The call panel in a real browser: Chromium (Playwright) against ``manage.py serve``
(daphne + the AMI worker in one process) connected to the simulated Asterisk.

Personas: alice owns line 101 and bob line 102, each in a browser context of their own.
The simulator runs in the test's event loop without a schedule, so every call is one the
test started; its ring and talk times are stretched so only the operators end calls.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from telephony.simulator import Kind, Party, Simulator
from telephony.simulator.scenarios import Plan
from tests.support.daphne import ROOT, DaphneServer, shared_database_env
from tests.support.serve import running_serve

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in a container
    "--disable-gpu",
    "--disable-background-networking",  # the network is closed here
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# `SAVE_SCREENSHOTS=1 make test-browser` refreshes the README's pictures; a normal run writes
# them to a temporary folder, so tests never dirty the checkout.
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("SAVE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "cti-screenshots"
)
SCREENSHOTS.mkdir(parents=True, exist_ok=True)
IVAN = Party("+15551230002", "Иван Петров")
#: Long enough that the simulator never answers, hangs up or times out on its own.
SLOW = Plan(ring=60.0, talk=600.0, hold_after=60.0, hold=60.0, far_end_ring=60.0)


@pytest.fixture
def lines() -> dict[str, Any]:
    """A connector (its id unlike the demo's, so the worker's file lease is ours), two
    operators and a phone-book entry for Ivan."""
    from django.contrib.auth.models import User

    from telephony.models import Connector, Contact, Extension

    connector = Connector.objects.create(
        pk=20000 + os.getpid() % 40000,
        name="e2e",
        host="127.0.0.1",
        port=1,  # set to the simulator's port by the `server` fixture
        username="cti",
        secret="cti",
        dialect="12",
        answer_method="phone-notify",
        hold_method="park",
    )
    users = {}
    for name, line in (("alice", "101"), ("bob", "102")):
        users[name] = User.objects.create_user(name, password=f"{name}-pw", first_name=name)
        Extension.objects.create(
            connector=connector, number=line, operator=users[name], display_name=name.title()
        )
    company = "ООО «Ромашка»"  # noqa: RUF001 - a Russian company name, Cyrillic on purpose
    Contact(name="Иван Петров", company=company, phones="+15551230002").save()
    return {"connector": connector, "users": users}


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    sim = Simulator(port=0, lines=("101", "102"), schedule=False, seed=7)
    # Deliberate: a fixed plan instead of the seeded dice, so no call ends by itself.
    sim.scenarios.plan = lambda rng=None: SLOW  # type: ignore[method-assign]
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
def server(lines: dict[str, Any], simulator: Simulator) -> Iterator[DaphneServer]:
    connector = lines["connector"]
    connector.port = simulator.port
    connector.save()
    with running_serve(shared_database_env()) as running:
        yield running


@pytest.fixture
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/services.sh chromium`")
    return CHROMIUM


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def log_in(browser: Browser, server: DaphneServer, username: str) -> Page:
    context: BrowserContext = await browser.new_context(viewport={"width": 1280, "height": 760})
    page = await context.new_page()
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.sockets = sockets  # type: ignore[attr-defined]  # read by the test's last check
    await page.goto(server.url("/"))
    await page.fill("#id_username", username)
    await page.fill("#id_password", f"{username}-pw")
    await page.click("form button[type=submit].primary")
    await expect(page.locator("#pbx-state")).to_have_attribute("data-state", "up", timeout=15000)
    return page


def hangups(sim: Simulator, line: str) -> list[str]:
    return [
        action.get("Channel") or ""
        for action in sim.actions
        if action.name == "Hangup" and (action.get("Channel") or "").startswith(f"PJSIP/{line}-")
    ]


async def test_operator_panel_end_to_end(
    server: DaphneServer, simulator: Simulator, browser: Browser
) -> None:
    alice = await log_in(browser, server, "alice")
    bob = await log_in(browser, server, "bob")
    a_cards, b_cards = alice.locator(".call-card"), bob.locator(".call-card")

    # 1. A ringing call reaches alice's panel within a second, and only hers.
    first = await simulator.start_call(Kind.INBOUND, "101", customer=IVAN)
    await expect(a_cards).to_have_count(1, timeout=1000)
    card = a_cards.first
    await expect(card).to_have_attribute("data-state", "ringing")
    await expect(card.locator(".party-number")).to_have_text("+15551230002")
    await expect(card.locator(".contact-link")).to_have_text("Иван Петров")
    await expect(card.locator("[data-action=answer]")).to_be_enabled()
    await expect(card.locator("[data-action=hold]")).to_be_disabled()
    await alice.wait_for_timeout(300)
    await alice.screenshot(path=str(SCREENSHOTS / "panel-ringing.png"))
    await expect(b_cards).to_have_count(0)

    # 2. Hang up from the browser: the PBX receives Hangup for alice's channel.
    await card.locator("[data-action=drop]").click()
    await expect(a_cards).to_have_count(0, timeout=5000)
    assert hangups(simulator, "101"), [action.name for action in simulator.actions]
    assert first.finished.is_set() or not simulator.is_busy("101")

    # 3. Answer, hold and resume: the card follows the call's state and features.
    await simulator.start_call(Kind.INBOUND, "101", customer=IVAN)
    card = a_cards.first
    await expect(card).to_have_attribute("data-state", "ringing", timeout=1000)
    call_id = await card.get_attribute("data-call-id")
    assert call_id
    await card.locator("[data-action=answer]").click()
    await expect(card).to_have_attribute("data-state", "connected", timeout=5000)
    await expect(card.locator("[data-action=answer]")).to_be_disabled()
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
