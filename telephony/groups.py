"""Names of channel-layer groups: the only place they are spelled.

``line.<connector>.<extension>`` (an operator's panel), ``supervisor.<connector>``
(everything of a connector), ``worker.<connector>`` (commands for the worker that owns it).
"""

from __future__ import annotations

import re

# Channels allows only ASCII letters, digits, hyphens, underscores and periods in group
# names (and fewer than 100 characters); an extension such as "*97" must not break that.
_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]")


def _part(value: object) -> str:
    return _UNSAFE.sub(lambda match: f"_{ord(match.group()):x}", str(value))


def line_group(connector_id: int | str, line: str) -> str:
    """The group of one operator line: ``line.3.101``."""
    return f"line.{_part(connector_id)}.{_part(line)}"


def supervisor_group(connector_id: int | str) -> str:
    """Every call event of a connector: ``supervisor.3``."""
    return f"supervisor.{_part(connector_id)}"


def worker_group(connector_id: int | str) -> str:
    """Commands for the worker that owns the connector's AMI session: ``worker.3``."""
    return f"worker.{_part(connector_id)}"


def status_group(connector_id: int | str) -> str:
    """Connector status changes (PBX connected/lost): ``status.3``."""
    return f"status.{_part(connector_id)}"


def user_group(user_id: int | str) -> str:
    """Every panel socket of one user, to close them (logout elsewhere, password, lines):
    ``user.7``."""
    return f"user.{_part(user_id)}"


def session_group(session_digest: str) -> str:
    """The sockets of one login session (a hash of its key, never the key): ``session.<hex>``."""
    return f"session.{_part(session_digest)}"


def queues_cache_key(connector_id: int | str) -> str:
    """Where the worker leaves the connector's queue board for pages that open later."""
    return f"cti.queues.{_part(connector_id)}"
