"""The project's settings with channels-redis's pub/sub layer, for ``fanout.py --layer pubsub``.

The core layer pulls every message with its own BZPOPMIN round trip per daphne process;
the pub/sub layer has Redis push them. Benchmarked side by side, not yet the default.
"""

from ctiproject.settings import *  # noqa: F403 - a settings overlay
from ctiproject.settings import REDIS_URL

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}]},
    }
}
