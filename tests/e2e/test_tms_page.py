"""Creatio's TMS protocol from a real browser: a small page drives a JavaScript provider
look-alike (tests/e2e/tms/client.js, written from the protocol text) against ``manage.py
serve``'s ``/ws/tms/`` and the simulated Asterisk: ring, answer, hold, resume, hang up.

The page comes from a web server of its own (another origin, as Creatio's pages are), which
the connector lists among its TMS origins.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.async_api import Browser, expect

from telephony.simulator import Kind, Party, Simulator
from tests.support.daphne import DaphneServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = Path(__file__).parent / "tms"
KEY = "alice-e2e-key-0123456789"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def page_origin(lines: dict[str, Any]) -> Iterator[str]:
    """``tests/e2e/tms/`` served on a free 127.0.0.1 port: the "Creatio" origin, allowed on
    the connector, with alice's line given its TMS key."""
    handler = functools.partial(_QuietHandler, directory=str(PAGES))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    connector = lines["connector"]
    connector.tms_enabled, connector.tms_origins = True, origin
    connector.save()
    connector.extensions.filter(number="101").update(tms_key=KEY)
    try:
        yield origin
    finally:
        httpd.shutdown()
        httpd.server_close()
        with contextlib.suppress(RuntimeError):
            thread.join(5)


async def test_a_tms_client_page_drives_a_call(
    server: DaphneServer,
    simulator: Simulator,
    browser: Browser,
    ivan: Party,
    page_origin: str,
) -> None:
    page = await (await browser.new_context()).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    query = urlencode({"url": server.ws_url("/ws/tms/"), "ext": "101", "key": KEY})
    await page.goto(f"{page_origin}/page.html?{query}")
    await expect(page.locator("#state")).to_have_attribute("data-state", "connected")

    call = page.locator("li.call")
    await simulator.start_call(Kind.INBOUND, "101", customer=ivan)
    await expect(call).to_have_attribute("data-state", "ringing", timeout=5000)
    await expect(call).to_contain_text("+15551230002")
    await call.get_by_role("button", name="Answer").click()
    try:
        await expect(call).to_have_attribute("data-state", "connected", timeout=5000)
    except AssertionError as failed:  # show what the provider got (an ERROR event?)
        events = await page.evaluate("JSON.stringify(provider.events)")
        raise AssertionError(f"{failed}\nevents: {events}") from None
    await call.get_by_role("button", name="Hold").click()  # HoldCall is a toggle
    await expect(call).to_have_attribute("data-state", "held", timeout=5000)
    await call.get_by_role("button", name="Hold").click()
    await expect(call).to_have_attribute("data-state", "connected", timeout=5000)
    await call.get_by_role("button", name="Drop").click()
    await expect(call).to_have_count(0, timeout=5000)

    hangups = [a for a in simulator.actions if a.name == "Hangup"]
    assert any((a.get("Channel") or "").startswith("PJSIP/101-") for a in hangups)
    types = await page.evaluate("provider.events.map((event) => event.type)")
    assert types[:3] == [1, 2, 10]
    assert [t for t in types if t in {5, 6, 7, 8, 9}] == [5, 7, 8, 9, 6]
    assert await page.evaluate("provider.violations") == []
    assert errors == []
