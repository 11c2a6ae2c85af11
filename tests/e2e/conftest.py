"""Fixtures of the browser tests: Chromium (Playwright) against ``manage.py serve`` (daphne
+ the AMI worker in one process) connected to the simulated Asterisk.

Personas: alice owns line 101 and bob line 102, each in a browser context of their own.
The simulator runs in the test's event loop without a schedule, so every call is one the
test started; its ring and talk times are stretched so only the operators end calls.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from telephony.simulator import Party, Simulator
from telephony.simulator.scenarios import Plan
from tests.support.daphne import DaphneServer, shared_database_env
from tests.support.serve import running_serve
from tests.support.tcp_proxy import TcpProxy, running_proxy

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in a container
    "--disable-gpu",
    "--disable-background-networking",  # the network is closed here
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
#: Long enough that the simulator never answers, hangs up or times out on its own.
SLOW = Plan(ring=60.0, talk=600.0, hold_after=60.0, hold=60.0, far_end_ring=60.0)

#: ``await log_in("alice")``: a logged-in panel page in a browser context of its own;
#: ``log_in("alice", proxy.origin)`` reaches the server through a ``TcpProxy``.
LogIn = Callable[..., Awaitable[Page]]


@pytest.fixture
def ivan() -> Party:
    """A caller in the phone book (see ``lines``)."""
    return Party("+15551230002", "Иван Петров")


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
async def proxy(server: DaphneServer) -> AsyncIterator[TcpProxy]:
    """A proxy to ``server`` that a test can cut, to drop the browser's sockets for real."""
    async with running_proxy(server.port) as running:
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


@pytest.fixture
def log_in(browser: Browser, server: DaphneServer) -> LogIn:
    """Log a persona in; the page records its sockets' URLs (``page.sockets``) and its
    uncaught script errors (``page.errors``), for the tests' last checks."""

    async def log_in(username: str, origin: str | None = None) -> Page:
        context: BrowserContext = await browser.new_context(viewport={"width": 1280, "height": 760})
        page = await context.new_page()
        sockets: list[str] = []
        errors: list[str] = []
        page.on("websocket", lambda socket: sockets.append(socket.url))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.sockets = sockets  # type: ignore[attr-defined]
        page.errors = errors  # type: ignore[attr-defined]
        await page.goto(f"{origin or server.origin}/")
        await page.fill("#id_username", username)
        await page.fill("#id_password", f"{username}-pw")
        await page.click("form button[type=submit].primary")
        await expect(page.locator("#pbx-state")).to_have_attribute(
            "data-state", "up", timeout=15000
        )
        return page

    return log_in
