"""A panel is never silently wrong: when an event of its line was lost on the way (published
while its server could not relay it), the next event reveals the gap in ``seq``, and the
panel reconnects with ``since=`` and redraws from the catch-up hello.

Real daphne on the production Redis layer and this test's database; the test is the worker:
it stores call events and publishes only some of them on the line's group.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers, get_channel_layer
from django.test import override_settings
from playwright.async_api import Browser, Page, expect

from telephony.callmodel.events import (
    CallState,
    Direction,
    Disposition,
    Feature,
    RingFinished,
    RingStarted,
)
from telephony.groups import line_group
from telephony.models import CallEvent, CallRecord, Connector, ConnectorStatus
from tests.conftest import REDIS_LAYER, TEST_REDIS_URL
from tests.factories import CALL_START, make_call_record
from tests.support.daphne import DaphneServer, running_daphne, shared_database_env

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def daphne(lines: dict[str, Any]) -> Iterator[DaphneServer]:
    ConnectorStatus.objects.create(connector=lines["connector"], connected=True)
    with running_daphne({**shared_database_env(), "REDIS_URL": TEST_REDIS_URL}) as server:
        yield server


@pytest.fixture
async def layer() -> AsyncIterator[Any]:
    with override_settings(CHANNEL_LAYERS=REDIS_LAYER):
        channel_layers.backends.clear()
        yield get_channel_layer()
        channel_layers.backends.clear()


def ring(connector: Connector, call_id: str, seq: int, caller: str) -> RingStarted:
    return RingStarted(
        connector=str(connector.pk),
        line="101",
        seq=seq,
        time=CALL_START.timestamp() + seq,
        call_id=call_id,
        direction=Direction.INCOMING,
        caller_number=caller,
        caller_name=None,
        callee_number="101",
        callee_name=None,
        state=CallState.RINGING,
        features=Feature.CAN_DROP,
        queue=None,
    )


def store(record: CallRecord, wire: dict[str, Any]) -> None:
    """What the worker's recorder does for one event (without publishing it)."""
    CallEvent.objects.create(
        record=record,
        connector=record.connector,
        line=record.line,
        seq=wire["seq"],
        name=wire["event"],
        code=wire["code"],
        occurred_at=dt.datetime.fromtimestamp(wire["time"], tz=dt.UTC),
        dedupe_key=wire["event"],
        payload=wire,
    )
    record.last_event = wire
    record.save()


async def open_panel(browser: Browser, server: DaphneServer) -> Page:
    context = await browser.new_context(viewport={"width": 1280, "height": 760})
    page = await context.new_page()
    sockets: list[str] = []
    errors: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.sockets = sockets  # type: ignore[attr-defined]
    page.errors = errors  # type: ignore[attr-defined]
    await page.goto(server.url("/"))
    await page.fill("#id_username", "alice")
    await page.fill("#id_password", "alice-pw")
    await page.click("form button[type=submit].primary")
    await expect(page.locator("#pbx-state")).to_have_attribute("data-state", "up", timeout=15000)
    return page


async def test_a_lost_event_is_caught_up_with_since_and_the_stale_card_goes(
    lines: dict[str, Any], daphne: DaphneServer, browser: Browser, layer: Any
) -> None:
    connector: Connector = lines["connector"]
    first = ring(connector, "call-a", 1, "+15551230001")
    record_a = await sync_to_async(make_call_record)(
        connector=connector, call_id="call-a", disposition="", state="ringing"
    )
    await sync_to_async(store)(record_a, first.to_wire())

    alice = await open_panel(browser, daphne)
    cards = alice.locator(".call-card")
    await expect(cards).to_have_count(1)
    await expect(cards.first).to_have_attribute("data-call-id", "call-a")

    # Seq 2 (call A missed) is stored but lost on the way; seq 3 (call B rings) arrives.
    missed = RingFinished(
        **{
            **vars_of(first),
            "seq": 2,
            "time": CALL_START.timestamp() + 21,
            "state": CallState.FINISHED,
        },
        disposition=Disposition.MISSED,
        hangup_cause=16,
        hangup_cause_text="Normal Clearing",
    ).to_wire()

    def lose_and_ring() -> dict[str, Any]:
        record_a.ended_at = CALL_START + dt.timedelta(seconds=22)
        record_a.disposition = "missed"
        store(record_a, missed)
        record_b = make_call_record(
            connector=connector, call_id="call-b", disposition="", state="ringing"
        )
        wire = ring(connector, "call-b", 3, "+15551230003").to_wire()
        store(record_b, wire)
        return wire

    third = await sync_to_async(lose_and_ring)()
    await layer.group_send(
        line_group(connector.pk, "101"), {"type": "call.events", "events": [third]}
    )

    # Without the gap check the panel would show call A ringing forever next to call B.
    await expect(cards).to_have_count(1, timeout=10000)
    await expect(cards.first).to_have_attribute("data-call-id", "call-b")
    toast = alice.locator(".toast").filter(has_text="Missed call from +15551230001")
    await expect(toast).to_have_count(1)
    sockets: list[str] = alice.sockets  # type: ignore[attr-defined]
    assert len(sockets) == 2, sockets
    assert parse_qs(urlparse(sockets[1]).query)["since"] == [f"{connector.pk}:101:1"]

    # The next event continues the numbers: applied, no further catch-up.
    answered = {**third, "event": "CommutationStarted", "code": 7, "seq": 4, "state": "connected"}
    await layer.group_send(
        line_group(connector.pk, "101"), {"type": "call.events", "events": [answered]}
    )
    await expect(cards.first).to_have_attribute("data-state", "connected")
    await expect(cards).to_have_count(1)
    assert len(sockets) == 2, sockets
    assert not alice.errors, alice.errors  # type: ignore[attr-defined]


def vars_of(event: RingStarted) -> dict[str, Any]:
    return {field.name: getattr(event, field.name) for field in dataclasses.fields(event)}
