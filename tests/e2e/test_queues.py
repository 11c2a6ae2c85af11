"""The supervisor page's queue view: members paused or not, pause and resume with a reason,
a caller waiting with a running wait time. Personas in ``conftest.py``; bob (line 102) is
also a supervisor. The simulator's queue ``support`` has both lines as members and skips
paused ones, as Asterisk does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import expect

from telephony.simulator import Kind, Party, Simulator
from tests.e2e.test_panel import SCREENSHOTS
from tests.e2e.test_supervise import make_supervisor
from tests.support.daphne import DaphneServer

if TYPE_CHECKING:
    from tests.e2e.conftest import LogIn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


async def test_the_supervisor_pauses_members_and_sees_the_caller_wait(
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
    board = bob.locator("#queue-boards .queue-board[data-queue='support']")
    await expect(board).to_have_count(1, timeout=10000)  # QueueStatus at the worker's login
    member = board.locator("tr.member[data-line='101']")
    await expect(member).to_have_attribute("data-paused", "false")

    # Pause both members with a reason; the PBX's QueueMemberPause comes back to the page.
    for line, reason in (("101", "lunch"), ("102", "training")):
        row = board.locator(f"tr.member[data-line='{line}']")
        await row.locator(".pause-reason").fill(reason)
        await row.locator("[data-command=pause]").click()
        await expect(row).to_have_attribute("data-paused", "true", timeout=5000)
        await expect(row).to_contain_text(reason)
    pauses = [a for a in simulator.actions if a.name == "QueuePause"]
    assert [(a.get("Interface"), a.get("Reason")) for a in pauses] == [
        ("PJSIP/101", "lunch"),
        ("PJSIP/102", "training"),
    ]

    # Nobody available: the caller waits in the queue, and the page counts the wait.
    await simulator.start_call(Kind.QUEUE, "101", customer=ivan)
    caller = board.locator("tr.caller")
    await expect(caller).to_have_count(1, timeout=5000)
    await expect(caller).to_contain_text("Иван Петров")
    await expect(caller.locator(".wait")).to_have_text("0:02", timeout=5000)
    await expect(alice.locator(".call-card")).to_have_count(0)  # a paused member never rings
    await bob.locator("#queues").screenshot(path=str(SCREENSHOTS / "supervisor-queues.png"))

    # Resume alice: the page says so.
    await member.locator("[data-command=resume]").click()
    await expect(member).to_have_attribute("data-paused", "false", timeout=5000)
    assert not bob.errors, bob.errors  # type: ignore[attr-defined]
