"""The per-socket limits both sockets apply (our panel's and the TMS provider's): numbers from
Django settings with defaults, and the command rate limit built from them."""

from __future__ import annotations

import time

from django.conf import settings

from .protocol import TokenBucket


def number(name: str, default: float) -> float:
    """A numeric limit from Django settings, else ``default``."""
    return float(getattr(settings, name, default))


def command_bucket() -> TokenBucket:
    """A socket's command rate limit: ``CTI_COMMAND_RATE`` per second, ``CTI_COMMAND_BURST``."""
    return TokenBucket(
        number("CTI_COMMAND_RATE", 10), number("CTI_COMMAND_BURST", 20), time.monotonic()
    )
