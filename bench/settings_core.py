"""The project's settings with channels-redis's core layer, for ``fanout.py --layer core``.

Production runs the pub/sub layer (ADR 0002); this overlay keeps the layer it replaced
measurable side by side. ``CHANNEL_CAPACITY`` sizes each channel's Redis queue.
"""

from ctiproject.env import env_int
from ctiproject.settings import *  # noqa: F403 - a settings overlay
from ctiproject.settings import REDIS_URL

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # redis-py 8 reads with a 5 s socket timeout by default, the same 5 s that the core
            # layer blocks in BZPOPMIN: an idle receive then dies (django/channels_redis#422).
            "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
            # Beyond `capacity` messages a channel's queue drops new ones silently.
            "capacity": env_int("CHANNEL_CAPACITY", 1000),
            "expiry": 60,
        },
    }
}
