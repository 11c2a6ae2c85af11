"""The TMS endpoint on its own port, as Creatio expects it (``ws://host:2013``, no path):

    daphne -b 0.0.0.0 -p 2013 telephony.tms.asgi:application

No session middleware and no ``ALLOWED_HOSTS`` origin check: a TMS client is Creatio's page,
of another site, and is admitted per connector by ``access.open_line`` (its Origin and key).
HTTP goes to Django as on the main port (``/healthz`` for a load balancer).
"""

import os

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ctiproject.settings")

django_asgi_app = get_asgi_application()

from django.urls import re_path  # noqa: E402 - after the app registry is ready

from telephony.tms.consumer import TmsConsumer  # noqa: E402 - needs the app registry
from telephony.web.sendbuffer import install as bound_send_buffers  # noqa: E402

bound_send_buffers()  # as on the main port: a provider that stops reading is closed with 4408

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # "/" is Creatio's default (SysMsgServerNode has no path); "/ws/tms/" as on the main port.
        "websocket": URLRouter([re_path(r"^(ws/tms/)?$", TmsConsumer.as_asgi())]),
    }
)
