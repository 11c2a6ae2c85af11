"""The connector's admin page fits a 1280 px window and tests its connection with a button,
the result shown beside it. The PBX is the simulator the ``server`` fixture connects to.
"""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import Browser, expect

from tests.support.daphne import DaphneServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


async def test_the_connector_page_tests_its_connection_inline(
    server: DaphneServer, lines: dict[str, Any], browser: Browser
) -> None:
    from django.contrib.auth.models import User

    await sync_to_async(User.objects.create_superuser)("root", password="root-pw")
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    connector = lines["connector"]
    await page.goto(server.url(f"/admin/telephony/connector/{connector.pk}/change/"))
    await page.fill("#id_username", "root")
    await page.fill("#id_password", "root-pw")
    await page.click("input[type=submit]")
    button = page.locator("#test-connection")
    await expect(button).to_be_visible(timeout=10000)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, width

    await button.click()
    result = page.locator("#test-connection-result")
    await expect(result).to_have_attribute("data-ok", "true", timeout=10000)
    await expect(result).to_contain_text("logged in to 127.0.0.1")
    assert page.url.endswith(f"/admin/telephony/connector/{connector.pk}/change/")
    assert not errors, errors
    await context.close()
