"""The production stack as separate processes, with faults the test controls.

``Stack`` runs: its own ``redis-server`` (on a free port, killable), the simulated PBX
(``manage.py ami_simulator`` with a ground-truth log, killable and restartable on the same
port), one or more ``manage.py ami_worker`` processes, and two TCP proxies in the test's
event loop, one in front of the PBX and one in front of PostgreSQL, which ``cut()`` or
``silence()`` a link. The machine's shared Redis and PostgreSQL are never touched: the
workers reach this test's PostgreSQL database only through the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis

from tests.support.daphne import free_port
from tests.support.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parents[2]
LINES = ("101", "102", "103", "104")
#: Script pauses a quarter as long: rings of 0.5-1.3 s, talks of 1.5-5 s, a missed call 4 s.
TIME_SCALE = 0.25
#: A new call every this many seconds on a free line (busy lines are skipped).
EVERY = 0.5
LEASE_TTL = 3.0
#: The simulator's log line for an accepted login (``telephony/simulator/server.py``).
LOGIN = re.compile(r"^(\S+ \S+) INFO telephony\.simulator\.server: AMI session \d+ logged in", re.M)


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            args, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )


def _end(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@dataclass
class RedisServer:
    """A ``redis-server`` of the test's own: no persistence, so a restart is an empty Redis."""

    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        args = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
        args += ["--save", "", "--appendonly", "no", "--protected-mode", "no"]
        self.process = _spawn(args, dict(os.environ), self.log)
        client = redis.Redis(port=self.port)
        async with asyncio.timeout(10):
            while True:
                with contextlib.suppress(redis.ConnectionError):
                    if client.ping():
                        break
                await asyncio.sleep(0.05)
        client.close()

    def kill(self) -> None:
        _end(self.process, signal.SIGKILL)

    def stop(self) -> None:
        _end(self.process)


@dataclass
class Pbx:
    """The simulated Asterisk as its own process, appending to one ground-truth file."""

    truth: Path
    log: Path
    seed: int
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    async def start(self) -> None:
        self.starts += 1
        args = [sys.executable, "manage.py", "ami_simulator", "--port", str(self.port)]
        args += ["--username", "cti", "--secret", "s3cret", "--lines", ",".join(LINES)]
        args += ["--every", str(EVERY), "--time-scale", str(TIME_SCALE), "--truth", str(self.truth)]
        args += ["--seed", str(self.seed * 10 + self.starts)]
        self.process = _spawn(args, {**os.environ, "LOG_LEVEL": "INFO"}, self.log)
        async with asyncio.timeout(30):
            while not _listening(self.port):
                if self.process.poll() is not None:
                    raise RuntimeError(f"the simulator exited: {self.log.read_text()}")
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        _end(self.process, signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM: the PBX hangs up every live call (in the truth log too), then exits."""
        _end(self.process)


def _listening(port: int) -> bool:
    import socket

    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


@dataclass
class Worker:
    """One ``manage.py ami_worker`` process for the connector ``office``."""

    env: dict[str, str]
    log: Path
    metrics_port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [sys.executable, "manage.py", "ami_worker", "--connector", "office"]
        args += ["--lease-ttl", str(LEASE_TTL), "--poll", "0.5"]
        if self.metrics_port:
            args += ["--metrics-port", str(self.metrics_port)]
        self.process = _spawn(args, self.env, self.log)

    def kill(self) -> None:
        _end(self.process, signal.SIGKILL)

    def stop(self) -> int | None:
        _end(self.process)
        return None if self.process is None else self.process.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """A worker's metrics (``--metrics-port``) by sample name and labels."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def through(url: str, port: int) -> str:
    """``url`` with its port replaced: the same database, reached through a proxy."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


@dataclass
class Stack:
    """Everything a fault scenario runs; see the module docstring."""

    directory: Path
    database_url: str
    seed: int
    redis: RedisServer = field(init=False)
    pbx: Pbx = field(init=False)
    pbx_link: TcpProxy = field(init=False)
    db_link: TcpProxy = field(init=False)
    workers: list[Worker] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.redis = RedisServer(self.directory / "redis.log")
        self.pbx = Pbx(self.directory / "truth.jsonl", self.directory / "pbx.log", self.seed)
        self.pbx_link = TcpProxy(self.pbx.port)
        self.db_link = TcpProxy(urlsplit(self.database_url).port or 5432)

    @property
    def worker_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": through(self.database_url, self.db_link.port),
            "REDIS_URL": self.redis.url,
            "LOG_LEVEL": "INFO",
        }

    async def start(self) -> None:
        await asyncio.gather(self.redis.start(), self.pbx.start())
        await self.pbx_link.start()
        await self.db_link.start()

    def add_worker(self, metrics_port: int = 0) -> Worker:
        worker = Worker(
            self.worker_env, self.directory / f"worker-{len(self.workers) + 1}.log", metrics_port
        )
        worker.start()
        self.workers.append(worker)
        return worker

    async def wait_connections(self, count: int, timeout: float = 30.0) -> float:
        """Until the PBX link has seen ``count`` connections; the time of the last one."""
        async with asyncio.timeout(timeout):
            while len(self.pbx_link.opened) < count:  # noqa: ASYNC110 - polls the proxy
                await asyncio.sleep(0.05)
        return self.pbx_link.opened[count - 1]

    def logins(self) -> list[float]:
        """When the PBX accepted each AMI login (its own log, every run of it): from that
        moment a client gets every event, and its channel list follows at once."""
        text = self.pbx.log.read_text(errors="replace") if self.pbx.log.exists() else ""
        return [
            datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()  # noqa: DTZ007 - local, as logged
            for stamp in LOGIN.findall(text)
        ]

    async def stop(self) -> None:
        await asyncio.to_thread(self.pbx.stop)
        for worker in self.workers:
            await asyncio.to_thread(worker.stop)
        await self.pbx_link.stop()
        await self.db_link.stop()
        self.redis.stop()

    def logs(self) -> str:
        """Every process's output, for a failed assertion's message."""
        parts = []
        for path in sorted(self.directory.glob("*.log")):
            text = path.read_text(errors="replace")
            parts.append(f"--- {path.name} (last 60 lines)\n" + "\n".join(text.splitlines()[-60:]))
        return "\n".join(parts)


@contextlib.asynccontextmanager
async def running_stack(directory: Path, database_url: str, seed: int) -> AsyncIterator[Stack]:
    stack = Stack(directory, database_url, seed)
    try:
        await stack.start()
        yield stack
    finally:
        await stack.stop()


def now() -> float:
    return time.time()
