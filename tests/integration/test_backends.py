"""The database and both channel layers work as configured (SQLite/PostgreSQL, memory/Redis)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.db import connection
from django.test import Client


@pytest.mark.django_db
def test_health_endpoint_reaches_the_configured_database() -> None:
    ready = Client().get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    expected = (
        "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    )
    assert body["database"] == expected == connection.vendor


def test_home_page_answers_with_the_login_page() -> None:
    response = Client().get("/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[0][0].startswith("/accounts/login/")
    assert b"CTI connector" in response.content


async def test_group_messages_reach_members_on_both_layers(channel_layers: dict[str, Any]) -> None:
    layer = get_channel_layer()
    assert layer is not None
    member = await layer.new_channel()
    outsider = await layer.new_channel()
    await layer.group_add("line.1.101", member)
    await layer.group_add("line.1.102", outsider)
    await layer.group_send("line.1.101", {"type": "call.event", "seq": 1})
    assert await layer.receive(member) == {"type": "call.event", "seq": 1}
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await layer.receive(outsider)
    await layer.group_discard("line.1.101", member)
    await layer.group_discard("line.1.102", outsider)
    await layer.group_send("line.1.101", {"type": "call.event", "seq": 2})
    # Left the group: nothing more arrives for it.
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await layer.receive(member)
    await layer.flush()
