"""The worker's long-lived database users survive a dropped connection (issue #10).

A worker keeps its Django connection between uses (a new PostgreSQL connection per batch
showed up in its profile), so a connection the server dropped (restart, failover,
``pg_terminate_backend``, an idle timeout) fails its next query. Django only closes an
unusable connection at request boundaries, which a worker has none of: without this, the
thread that owns the connection keeps the dead one for ever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)

T = TypeVar("T")


def reconnecting(work: Callable[[], T]) -> Callable[[], T]:
    """``work`` that, on a connection error, reconnects and tries once more at once.

    One immediate retry tells a dropped connection (the retry succeeds) from an outage (it
    fails too and the caller's own retry or poll takes over). Any failure closes this
    thread's connections, so the next use starts afresh instead of on a broken one.
    ``work`` must be safe to run twice: a failed attempt's transaction was rolled back.
    """

    def run() -> T:
        try:
            return work()
        except (InterfaceError, OperationalError) as error:
            connections.close_all()
            logger.warning("database connection failed (%s); reconnecting", error)
        except BaseException:
            connections.close_all()
            raise
        try:
            return work()
        except BaseException:
            connections.close_all()
            raise

    return run
