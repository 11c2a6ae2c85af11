"""Shared fixtures: channel layers of both kinds and the project's AMI test peer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from tests.support.fixtures import ami_peer

__all__ = ["ami_peer", "channel_layers"]

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

IN_MEMORY_LAYER = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
#: What production runs with ``REDIS_URL`` (ctiproject/settings.py, ADR 0002).
REDIS_LAYER = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": TEST_REDIS_URL}]},
    }
}


@pytest.fixture(params=["in-memory", pytest.param("redis", marks=pytest.mark.redis)])
def channel_layers(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Runs the test once on the in-memory layer and once on a real Redis layer."""
    from channels.layers import channel_layers as registry

    config = IN_MEMORY_LAYER if request.param == "in-memory" else REDIS_LAYER
    with override_settings(CHANNEL_LAYERS=config):
        registry.backends.clear()
        yield config
        registry.backends.clear()


@pytest.fixture(autouse=True)
def _close_async_orm_connections() -> Iterator[None]:
    """Close the database connection of asgiref's sync thread after each test.

    Async tests reach the ORM through ``sync_to_async``, whose one thread keeps its own
    connection; left open, PostgreSQL refuses to drop the test database at the end.
    """
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)
