"""After a call the operator tags its result and writes a note on the panel; the history
shows both. Personas in ``conftest.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import expect

from telephony.simulator import Kind, Party, Simulator
from tests.support.daphne import DaphneServer

if TYPE_CHECKING:
    from tests.e2e.conftest import LogIn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


async def test_the_operator_wraps_up_an_answered_call(
    server: DaphneServer, simulator: Simulator, log_in: LogIn, ivan: Party
) -> None:
    from telephony.models import WrapUp, WrapUpTag

    sale = await sync_to_async(WrapUpTag.objects.create)(name="Sale")
    alice = await log_in("alice")
    await simulator.start_call(Kind.INBOUND, "101", customer=ivan)
    card = alice.locator(".call-card").first
    await expect(card).to_have_attribute("data-state", "ringing", timeout=5000)
    call_id = await card.get_attribute("data-call-id")
    await card.locator("[data-action=answer]").click()
    await expect(card).to_have_attribute("data-state", "connected", timeout=5000)
    await card.locator("[data-action=drop]").click()

    form = alice.locator(".wrapup-card")
    await expect(form).to_have_count(1, timeout=5000)
    await expect(form.locator(".wrapup-title")).to_contain_text("Иван Петров")
    await form.locator(".wrapup-tag").select_option(label="Sale")
    await form.locator(".wrapup-note").fill("Wants the blue model")
    await form.locator("button[type=submit]").click()
    await expect(form).to_have_count(0, timeout=5000)
    await expect(alice.locator(".toast.ok")).to_contain_text("Wrap-up saved.")
    wrapup = await sync_to_async(WrapUp.objects.get)(record__call_id=call_id, record__line="101")
    assert (wrapup.tag_id, wrapup.note) == (sale.pk, "Wants the blue model")

    await alice.goto(server.url("/history/"))
    row = alice.locator(f"tr.call-row[data-call-id='{call_id}']")
    await expect(row.locator(".wrapup-tag")).to_have_text("Sale")
    await expect(row.locator(".wrapup-note")).to_have_text("Wants the blue model")
    assert not alice.errors, alice.errors  # type: ignore[attr-defined]
