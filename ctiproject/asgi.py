"""ASGI entry point for daphne: HTTP through Django, WebSockets through Channels."""

import os

from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ctiproject.settings")

# Django must be set up before anything imports models (the WebSocket routes will).
django_asgi_app = get_asgi_application()

from telephony.web.auth import LazyAuthMiddlewareStack  # noqa: E402 - needs the app registry
from telephony.web.routing import websocket_urlpatterns  # noqa: E402 - needs the app registry
from telephony.web.sendbuffer import install as bound_send_buffers  # noqa: E402

bound_send_buffers()  # under daphne: a socket that stops reading is closed with 4408

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Session cookie -> scope["user"], read by the consumer once it accepted the socket
        # (telephony/web/auth.py); a page of another site may not open the socket.
        "websocket": AllowedHostsOriginValidator(
            LazyAuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
