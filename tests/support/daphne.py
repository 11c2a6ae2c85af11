"""A real daphne process on a free 127.0.0.1 port, and a logged-in session for real clients.

For end-to-end tests and benchmarks that need the production stack (daphne, the ASGI app,
the session middleware, the origin check) rather than ``WebsocketCommunicator``. The server
reads its settings from the environment it is given (``DATABASE_URL``, ``REDIS_URL``...), so
it must share a database the test process can write: PostgreSQL (``shared_database_env()``
finds pytest-django's test database) or an SQLite *file*, never SQLite in memory.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now (the usual bind-to-0 trick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class DaphneServer:
    """A started daphne; ``url``/``ws_url`` build addresses, ``log()`` shows its output."""

    port: int
    process: subprocess.Popen[bytes]
    log_file: IO[bytes]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"{self.origin}{path}"

    def ws_url(self, path: str = "/ws/cti/") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def log(self) -> str:
        self.log_file.flush()
        return Path(self.log_file.name).read_text(errors="replace")

    def stop(self, timeout: float = 10.0, *, keep_log: bool = False) -> int:
        """SIGTERM, then SIGKILL after ``timeout``; returns the exit code. The log file is
        removed unless ``keep_log`` (read ``log()`` first when a test failed)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()
        if not keep_log:
            Path(self.log_file.name).unlink(missing_ok=True)
        return self.process.returncode


def start_daphne(
    env: Mapping[str, str],
    *,
    application: str = "ctiproject.asgi:application",
    ready_path: str | None = "/healthz",
    startup_timeout: float = 30.0,
    port: int | None = None,
) -> DaphneServer:
    """Start daphne with ``env`` on top of this process's environment; wait until it answers
    (an HTTP 200 on ``ready_path``, or only a TCP connection when that is None). ``port``
    (default: a free one) lets a restarted server take its predecessor's place."""
    port = port or free_port()
    log_file = tempfile.NamedTemporaryFile(prefix="daphne-", suffix=".log", delete=False)  # noqa: SIM115 - closed by stop()
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ctiproject.settings", **env}
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), application]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command, cwd=ROOT, env=full_env, stdout=log_file, stderr=subprocess.STDOUT
    )
    server = DaphneServer(port, process, log_file)
    deadline = time.monotonic() + startup_timeout
    while not _answers(server, ready_path):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop(keep_log=True)
            raise RuntimeError(f"daphne did not start on port {port}: see {log_file.name}")
        time.sleep(0.1)
    return server


@contextlib.contextmanager
def running_daphne(env: Mapping[str, str], **options: Any) -> Iterator[DaphneServer]:
    """``start_daphne`` as a context manager that always stops the server."""
    server = start_daphne(env, **options)
    try:
        yield server
    finally:
        server.stop()


def _answers(server: DaphneServer, ready_path: str | None) -> bool:
    if ready_path is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", server.port), 1):
            return True
        return False
    try:
        with urllib.request.urlopen(server.url(ready_path), timeout=2) as response:  # noqa: S310 - our own http URL
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def shared_database_env() -> dict[str, str]:
    """``DATABASE_URL`` or ``SQLITE_PATH`` pointing a server at the database of this (test)
    process; refuses SQLite in memory, which another process cannot open."""
    from django.db import connection

    settings = connection.settings_dict
    # The test settings (fast password hasher): users this process made must log in there.
    same = {"DJANGO_SETTINGS_MODULE": "tests.settings"}
    if connection.vendor == "postgresql":
        user, password = settings.get("USER") or "", settings.get("PASSWORD") or ""
        host, port = settings.get("HOST") or "127.0.0.1", settings.get("PORT") or 5432
        url = f"postgres://{user}:{password}@{host}:{port}/{settings['NAME']}"
        return {**same, "DATABASE_URL": url}
    name = str(settings["NAME"])
    if connection.vendor == "sqlite" and "memory" not in name and name != ":memory:":
        return {**same, "DATABASE_URL": "", "SQLITE_PATH": name}
    raise RuntimeError(f"a daphne process cannot share this database ({connection.vendor} {name})")


def session_cookie(user: Any) -> str:
    """Log ``user`` in through Django's test client; the ``sessionid`` value for a real client.

    Writes the session row to this process's database, which the server must share.
    """
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def websocket_options(server: DaphneServer, cookie: str | None) -> dict[str, Any]:
    """Keyword arguments for ``websockets.connect``: the session cookie and a same-site origin."""
    from django.conf import settings

    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"} if cookie else {}
    return {"origin": server.origin, "additional_headers": headers}
