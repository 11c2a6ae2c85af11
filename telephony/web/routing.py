"""WebSocket routes of the app: the operator panel's socket."""

from django.urls import path

from ..tms.consumer import TmsConsumer
from .consumer import CtiConsumer

websocket_urlpatterns = [
    path("ws/cti/", CtiConsumer.as_asgi()),
    path("ws/tms/", TmsConsumer.as_asgi()),  # Creatio's TMS protocol (also telephony.tms.asgi)
]
