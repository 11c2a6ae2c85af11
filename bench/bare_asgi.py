"""The least a Channels WebSocket fan-out can be: the baseline ``bench/fanout.py`` compares with.

No authentication, no database, no origin check: a socket at ``/ws/bare/<group>/`` joins that
group and relays each event of a ``call.events`` batch as the operator socket does. Served by daphne
(``daphne bench.bare_asgi:application``) with the project's settings, so the channel layer
(``REDIS_URL``; ``CHANNEL_CAPACITY`` with ``--layer core``) is the same one.
"""

from __future__ import annotations

import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ctiproject.settings")
django.setup()

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class BareConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]  # channels is untyped
    async def connect(self) -> None:
        self.group = self.scope["url_route"]["kwargs"]["group"]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def call_events(self, message: dict[str, Any]) -> None:
        for event in message["events"]:
            await self.send_json({"type": "call.event", "event": event})


application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("ws/bare/<str:group>/", BareConsumer.as_asgi())])}
)
