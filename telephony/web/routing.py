"""WebSocket routes of the app: the operator panel's socket."""

from django.urls import path

from .consumer import CtiConsumer

websocket_urlpatterns = [
    path("ws/cti/", CtiConsumer.as_asgi()),
]
