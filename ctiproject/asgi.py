"""ASGI entry point for daphne: HTTP through Django, WebSockets through Channels."""

import os

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ctiproject.settings")

# Django must be set up before anything imports models (the WebSocket routes will).
django_asgi_app = get_asgi_application()

from telephony.web.routing import websocket_urlpatterns  # noqa: E402 - needs the app registry

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Session cookie -> scope["user"]; a page of another site may not open the socket.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
