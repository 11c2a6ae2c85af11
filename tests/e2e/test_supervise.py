"""A supervisor listens in on an operator's call and hangs it up from the supervisor page;
today's counters move with the calls. Personas in ``conftest.py``; here bob (line 102) is
also a supervisor, so his phone is the one ChanSpy rings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import expect

from telephony.simulator import Kind, Party, Simulator
from tests.support.daphne import DaphneServer

if TYPE_CHECKING:
    from tests.e2e.conftest import LogIn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make_supervisor(user: Any) -> None:
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="supervise"))


async def test_a_supervisor_listens_in_and_hangs_up(
    server: DaphneServer,
    simulator: Simulator,
    lines: dict[str, Any],
    log_in: LogIn,
    ivan: Party,
) -> None:
    await sync_to_async(make_supervisor)(lines["users"]["bob"])
    alice = await log_in("alice")
    bob = await log_in("bob")
    await bob.goto(server.url("/supervisor/"))
    await expect(bob.locator("#pbx-state")).to_have_attribute("data-state", "up", timeout=10000)
    await expect(bob.locator("#today-answered")).to_have_text("0")

    await simulator.start_call(Kind.INBOUND, "101", customer=ivan)
    card = alice.locator(".call-card").first
    await expect(card).to_have_attribute("data-state", "ringing", timeout=5000)
    await card.locator("[data-action=answer]").click()
    await expect(card).to_have_attribute("data-state", "connected", timeout=5000)

    row = bob.locator("#call-rows tr[data-line='101']")
    await expect(row).to_have_attribute("data-state", "connected", timeout=5000)
    await expect(bob.locator("#count-talking")).to_have_text("1")
    await expect(bob.locator("#today-answered")).to_have_text("1", timeout=5000)
    await row.locator("[data-command=ListenCall]").click()
    await expect(bob.locator("#supervisor-result")).to_have_attribute(
        "data-ok", "true", timeout=5000
    )
    spies = [action for action in simulator.actions if action.get("Application") == "ChanSpy"]
    assert len(spies) == 1, [action.name for action in simulator.actions]
    assert spies[0].name == "Originate"
    assert spies[0].get("Channel") == "PJSIP/102"
    assert (spies[0].get("Data") or "").startswith("PJSIP/101-")
    assert (spies[0].get("Data") or "").endswith(",bqE")

    await row.locator("[data-command=DropCall]").click()
    await expect(alice.locator(".call-card")).to_have_count(0, timeout=5000)
    hangups = [a.get("Channel") or "" for a in simulator.actions if a.name == "Hangup"]
    assert any(channel.startswith("PJSIP/101-") for channel in hangups), hangups
    assert not bob.errors, bob.errors  # type: ignore[attr-defined]
