"""The AMI test peer on its own event loop in a background thread, for synchronous tests.

Django's admin views are sync and call ``async_to_sync`` themselves, so the peer cannot share
their loop; it gets a thread of its own, started and stopped around the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from tests.support.ami_peer import AmiPeer

#: Seconds to wait for the peer to start or stop before failing the test.
STARTUP = 5.0


@contextlib.contextmanager
def peer_in_thread(**options: Any) -> Iterator[AmiPeer]:
    """A started ``AmiPeer(**options)`` served from a background thread; stopped on exit.

    Read ``peer.port``, ``peer.secret`` and what it recorded (``peer.actions``) freely; its
    coroutine methods belong to its own loop and are not for the test's thread.
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="ami-peer", daemon=True)
    thread.start()

    async def start() -> AmiPeer:
        peer = AmiPeer(**options)
        await peer.start()
        return peer

    try:
        peer = asyncio.run_coroutine_threadsafe(start(), loop).result(STARTUP)
        try:
            yield peer
        finally:
            asyncio.run_coroutine_threadsafe(peer.stop(), loop).result(STARTUP)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(STARTUP)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
