"""``/healthz``, ``/readyz`` and the web ``/metrics`` (telephony/views/health.py), and the
panel socket's metrics moving as sockets open, command and close."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from telephony.models import ConnectorStatus
from tests.factories import make_connector
from tests.integration.test_consumer import World, command, connected, world

__all__ = ["world"]  # the fixture, shared with the consumer tests

pytestmark = [pytest.mark.django_db(transaction=True)]

DEAD_REDIS = "redis://127.0.0.1:1/0"


def scrape(client: Client | None = None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample ``/metrics`` shows, by name and labels."""
    with override_settings(METRICS_ENABLED=True):
        response = (client or Client()).get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_healthz_answers_without_asking_any_other_server() -> None:
    with override_settings(REDIS_URL=DEAD_REDIS):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_checks_the_database_and_redis_and_reports_links() -> None:
    up, down, stale = (make_connector(name=name) for name in ("up", "down", "stale"))
    ConnectorStatus.objects.create(connector=up, connected=True)
    ConnectorStatus.objects.create(connector=down, connected=False)
    old = ConnectorStatus.objects.create(connector=stale, connected=True)
    ConnectorStatus.objects.filter(pk=old.pk).update(
        updated_at=timezone.now() - timedelta(minutes=5)
    )
    make_connector(name="off", enabled=False)

    response = Client().get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert body["database"] == "ok"
    assert body["connectors"] == {"up": "up", "down": "down", "stale": "stale"}


def test_readyz_is_503_when_redis_does_not_answer() -> None:
    with override_settings(REDIS_URL=DEAD_REDIS):
        response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unready"
    assert body["redis"].startswith("error")
    assert body["database"] == "ok"


def test_metrics_are_off_unless_enabled() -> None:
    with override_settings(METRICS_ENABLED=False):
        assert Client().get("/metrics").status_code == 404


async def test_socket_metrics_follow_hellos_commands_and_drops(
    world: World, channel_layers: dict[str, Any]
) -> None:
    from asgiref.sync import sync_to_async

    before = await sync_to_async(scrape)()
    socket, _hello = await connected(world, "alice")
    opened = await sync_to_async(scrape)()
    assert value(opened, "cti_hellos_total") == value(before, "cti_hellos_total") + 1
    assert value(opened, "cti_sockets_open") == value(before, "cti_sockets_open") + 1

    reply = await command(socket, id="x1", command="HoldCall", callId="no-such-call")
    assert reply["ok"] is False
    code = reply["code"]
    await socket.disconnect(code=4001)
    await socket.wait()
    after = await sync_to_async(scrape)()
    assert value(after, "cti_sockets_open") == value(before, "cti_sockets_open")
    assert value(after, "cti_commands_total", result=code) == (
        value(before, "cti_commands_total", result=code) + 1
    )
    assert value(after, "cti_socket_drops_total", reason="4001") == (
        value(before, "cti_socket_drops_total", reason="4001") + 1
    )
