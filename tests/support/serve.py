"""``manage.py serve`` (daphne + worker in one process) on a free 127.0.0.1 port, for the
browser tests. Like ``tests.support.daphne``, the server shares the test database, so it
must be a file (``SQLITE_PATH``) or PostgreSQL (``shared_database_env()``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping

from tests.support.daphne import ROOT, DaphneServer, _answers, free_port


@contextlib.contextmanager
def running_serve(
    env: Mapping[str, str], *args: str, startup_timeout: float = 30.0
) -> Iterator[DaphneServer]:
    """Start ``manage.py serve`` with ``env``; wait for ``/healthz``; always stop it."""
    port = free_port()
    log_file = tempfile.NamedTemporaryFile(prefix="serve-", suffix=".log", delete=False)  # noqa: SIM115 - closed by stop()
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ctiproject.settings", **env}
    full_env.pop("DEMO", None)
    command = [sys.executable, "manage.py", "serve", "--port", str(port), *args]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command, cwd=ROOT, env=full_env, stdout=log_file, stderr=subprocess.STDOUT
    )
    server = DaphneServer(port, process, log_file)
    try:
        deadline = time.monotonic() + startup_timeout
        while not _answers(server, "/healthz"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start on port {port}:\n{server.log()[-3000:]}")
            time.sleep(0.1)
        yield server
    finally:
        code = server.stop()
        assert code == 0, f"serve exited with {code}:\n{server.log()[-3000:]}"
