"""A bounded send buffer per panel socket, for daphne: a client that stops reading is closed
with 4408 instead of daphne buffering its events without end.

ASGI has no back-pressure for WebSocket sends: daphne writes each ``websocket.send`` to the
Twisted transport at once, which buffers whatever the peer does not take (a laptop put to
sleep on a bad network, a frozen tab behind a proxy). Twisted tells a registered push
producer when that buffer passes its high-water mark (``pauseProducing``) and when it is empty
again (``resumeProducing``). ``BoundedWebSocketProtocol`` counts the bytes sent while paused;
past ``CTI_MAX_SEND_BUFFER_BYTES`` it sends no more, closes with 4408 and, after autobahn's
close-handshake timeout, aborts the TCP connection, which frees the buffer. The panel
reconnects with ``since=`` and catches up (docs/websocket-api.md).

``install()`` makes daphne's factory build this protocol; ``ctiproject/asgi.py`` calls it.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from django.conf import settings

logger = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 4408


def limit_bytes() -> int:
    default = int(os.environ.get("CTI_MAX_SEND_BUFFER_BYTES", str(1 << 20)))
    return int(getattr(settings, "CTI_MAX_SEND_BUFFER_BYTES", default))


class _Watch:
    """The push producer Twisted pauses while the socket's buffer is full."""

    def __init__(self) -> None:
        self.paused = False
        self.backlog = 0  # bytes sent since the last pause

    def pauseProducing(self) -> None:  # noqa: N802 - Twisted's IPushProducer
        self.paused = True

    def resumeProducing(self) -> None:  # noqa: N802
        self.paused = False
        self.backlog = 0

    def stopProducing(self) -> None:  # noqa: N802
        self.paused = True


class BoundedWebSocketProtocol(WebSocketProtocol):  # type: ignore[misc]  # daphne is untyped
    """daphne's WebSocket protocol with a cap on what waits in the send buffer."""

    watch: _Watch | None = None
    too_slow = False

    def connectionMade(self) -> None:  # noqa: N802 - Twisted's name
        super().connectionMade()
        transport: Any = self.transport
        if transport is None:
            return
        # The HTTP channel that upgraded this connection registered itself; it is gone now.
        if getattr(transport, "producer", None) is not None:
            transport.unregisterProducer()
        self.watch = _Watch()
        transport.registerProducer(self.watch, True)

    def serverSend(self, content: Any, binary: bool = False) -> None:  # noqa: N802
        if self.too_slow:
            return
        watch = self.watch
        if watch is not None and watch.paused:
            watch.backlog += len(content)
            if watch.backlog > limit_bytes():
                self.too_slow = True
                logger.warning(
                    "closing WebSocket %s with %d: it does not read (%d bytes waiting)",
                    self.client_addr,
                    CLOSE_TOO_SLOW,
                    watch.backlog,
                )
                self.serverClose(code=CLOSE_TOO_SLOW)
                return
        super().serverSend(content, binary)


def install() -> None:
    """Make daphne's WebSocket factory build ``BoundedWebSocketProtocol`` (before it runs)."""
    WebSocketFactory.protocol = BoundedWebSocketProtocol
