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
REDIS_LAYER = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # As in settings.py: above channels-redis's 5 s BZPOPMIN (channels_redis#422).
            "hosts": [{"address": TEST_REDIS_URL, "socket_timeout": 30}],
            "capacity": 1000,
            "expiry": 10,
        },
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
