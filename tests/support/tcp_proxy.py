"""A TCP proxy in the test's event loop that can cut every connection through it, for
tests of clients that must notice a dead server and reconnect (the panel's WebSocket).

Chromium's offline emulation (Playwright ``set_offline``) leaves open WebSockets alone, so
a browser test that needs a real drop puts this proxy between the page and daphne.
Fault tests put it in front of the PBX and PostgreSQL: ``cut()`` is a network outage,
``silence()`` a link that stays open but carries nothing; ``opened``/``closed`` note when
client connections came and went (``time.time()``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

CHUNK = 65536


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to 127.0.0.1:``target_port`` until ``cut()``."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.is_cut = False
        self.is_silent = False
        self.opened: list[float] = []
        self.closed: list[float] = []
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def cut(self) -> None:
        """Close every open connection both ways, and every new one at once, until ``restore()``."""
        self.is_cut = True
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    def restore(self) -> None:
        self.is_cut = False
        self.is_silent = False

    def silence(self) -> None:
        """Keep every connection open but drop what goes through, both ways."""
        self.is_silent = True

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        self.opened.append(time.time())
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer)),
            asyncio.create_task(self._pump(up_reader, writer)),
        ]
        self._tasks.update(pumps)
        await asyncio.gather(*pumps, return_exceptions=True)
        self._tasks.difference_update(pumps)
        self.closed.append(time.time())
        for end in (writer, up_writer):
            self._writers.discard(end)
            end.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(CHUNK):
                if not self.is_silent:
                    writer.write(data)
                    await writer.drain()
        writer.close()


@contextlib.asynccontextmanager
async def running_proxy(target_port: int) -> AsyncIterator[TcpProxy]:
    """A started ``TcpProxy`` to ``target_port``; always stopped."""
    proxy = TcpProxy(target_port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()
