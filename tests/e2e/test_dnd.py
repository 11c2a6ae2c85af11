"""Do-not-disturb is the line's state on the server: set once, it survives a reload, shows
in another tab at once and in a colleague's directory. Personas in ``conftest.py``; the
PBX is the simulator (its AstDB gets ``DND/101``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import expect

from telephony.simulator import Kind, Party, Simulator
from tests.e2e.test_supervise import make_supervisor
from tests.support.daphne import DaphneServer

if TYPE_CHECKING:
    from tests.e2e.conftest import LogIn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


async def test_dnd_survives_a_reload_and_reaches_other_tabs(
    simulator: Simulator, log_in: LogIn
) -> None:
    alice = await log_in("alice")
    second_tab = await alice.context.new_page()
    await second_tab.goto(alice.url)
    await expect(second_tab.locator("#pbx-state")).to_have_attribute(
        "data-state", "up", timeout=15000
    )
    bob = await log_in("bob")
    toggle = alice.locator(".line[data-line='101'] .dnd-toggle")
    await toggle.check()
    pill = alice.locator(".line[data-line='101'] .line-state")
    await expect(pill).to_have_attribute("data-state", "dnd", timeout=5000)
    assert any(a.name == "DBPut" and a.get("Key") == "101" for a in simulator.actions)

    # The other tab follows at once; a colleague's directory says so within its refresh.
    await expect(second_tab.locator(".line[data-line='101'] .dnd-toggle")).to_be_checked()
    await expect(bob.locator("#directory li[data-line='101']")).to_have_attribute(
        "data-state", "dnd", timeout=10000
    )

    # A reload asks the server, not the panel's memory.
    await alice.reload()
    await expect(alice.locator("#pbx-state")).to_have_attribute("data-state", "up", timeout=15000)
    await expect(alice.locator(".line[data-line='101'] .dnd-toggle")).to_be_checked()
    await expect(pill).to_have_attribute("data-state", "dnd")

    await alice.locator(".line[data-line='101'] .dnd-toggle").uncheck()
    await expect(pill).to_have_attribute("data-state", "idle", timeout=5000)
    await alice.reload()
    await expect(alice.locator("#pbx-state")).to_have_attribute("data-state", "up", timeout=15000)
    await expect(alice.locator(".line[data-line='101'] .dnd-toggle")).not_to_be_checked()
    assert not alice.errors, alice.errors  # type: ignore[attr-defined]


async def test_dnd_reaches_the_supervisor_page_live_and_a_direct_call_does_not_ring(
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
    supervised = bob.locator("#line-rows tr[data-line='101'] .pill")
    await expect(supervised).to_have_attribute("data-state", "idle")

    await alice.locator(".line[data-line='101'] .dnd-toggle").check()
    # The worker announces the line's DND: the open supervisor page follows, no reload.
    await expect(supervised).to_have_attribute("data-state", "dnd", timeout=5000)
    assert simulator.pbx.is_dnd("101")

    # A direct call to 101 meets the dialplan's Busy(): the panel never rings.
    refused = await simulator.start_call(Kind.INBOUND, "101", customer=ivan)
    async with asyncio.timeout(10):
        await refused.finished.wait()
    # A later call to 102 shows on the supervisor page: the worker has read past the first.
    await simulator.start_call(Kind.INBOUND, "102", customer=ivan)
    await expect(bob.locator("#call-rows tr[data-line='102']")).to_have_count(1, timeout=5000)
    await expect(bob.locator("#call-rows tr[data-line='101']")).to_have_count(0)
    await expect(alice.locator(".call-card")).to_have_count(0)
    assert not alice.errors, alice.errors  # type: ignore[attr-defined]
    assert not bob.errors, bob.errors  # type: ignore[attr-defined]
