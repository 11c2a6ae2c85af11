"""ASGI entry point for daphne: HTTP through Django, WebSockets through Channels."""

import os

from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ctiproject.settings")

# Django must be set up before anything imports models (the WebSocket routes will).
django_asgi_app = get_asgi_application()

application = ProtocolTypeRouter({"http": django_asgi_app})
