"""Prometheus metrics of the worker and of the web processes, defined once.

``prometheus-client`` keeps them in its default registry, per process. The worker serves
them on a port of its own (``ami_worker --metrics-port``); each daphne serves its own at
``/metrics`` when ``METRICS_ENABLED`` is set. Call sites stay one line: counters are
incremented where the thing happens, nothing here reaches back into the worker.

Names, their meaning and the alerts built on them: README "Production" and
``docs/deploy/prometheus-alerts.yml``.
"""

from __future__ import annotations

import contextlib

from prometheus_client import Counter, Gauge, Histogram, start_http_server

# -- worker (labels: connector name) ------------------------------------------------------

AMI_EVENTS = Counter("cti_ami_events", "AMI events read from the PBX.", ["connector"])
AMI_LAG = Gauge(
    "cti_ami_lag_seconds",
    "How far the worker reads behind the PBX's own clock (event Timestamp, "
    "manager.conf timestampevents=yes); absent without timestamps.",
    ["connector"],
)
AMI_LOGINS = Counter(
    "cti_ami_logins", "Successful AMI logins (first and every reconnect).", ["connector"]
)
AMI_RECONNECTS = Counter("cti_ami_reconnects", "AMI logins after the first one.", ["connector"])
LEASE_HELD = Gauge(
    "cti_worker_lease_held", "1 while this process is the connector's active reader.", ["connector"]
)
RESYNCS = Counter(
    "cti_resyncs", "Channel lists (CoreShowChannels) applied after a login.", ["connector"]
)
HISTORY_WRITE = Histogram(
    "cti_history_write_seconds",
    "One history transaction (a batch of call events), retries included.",
    ["connector"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
PUBLISH_DELAY = Histogram(
    "cti_publish_delay_seconds",
    "From an AMI event's arrival to its call events published to the panels.",
    ["connector"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
PUBLISH_FAILURES = Counter(
    "cti_publish_failures", "Call events the channel layer (Redis) refused.", ["connector"]
)
EVENTS_HELD = Gauge(
    "cti_events_held",
    "Call events saved but not yet published because the channel layer is down.",
    ["connector"],
)

# -- web (per daphne process) -------------------------------------------------------------

SOCKETS_OPEN = Gauge("cti_sockets_open", "Panel WebSockets open (accepted, hello sent).")
HELLOS = Counter("cti_hellos", "Hellos sent: panel sockets opened, reconnects included.")
COMMANDS = Counter("cti_commands", "Replies to browser commands, by result code.", ["result"])
SOCKET_DROPS = Counter(
    "cti_socket_drops", "Panel sockets closed, by WebSocket close code.", ["reason"]
)


def ami_logged_in(connector: str) -> None:
    """One login; every one after the first is a reconnect."""
    logins = AMI_LOGINS.labels(connector)
    if logins._value.get() > 0:
        AMI_RECONNECTS.labels(connector).inc()
    logins.inc()


class AmiReadMeter:
    """One connector's per-event metrics, its labelled children looked up once: ``read`` runs
    for every AMI event on the read loop, where a ``labels()`` look-up (a lock and a dict)
    per event is work the loop need not do."""

    def __init__(self, connector: str) -> None:
        self._events = AMI_EVENTS.labels(connector)
        self._lag = AMI_LAG.labels(connector)

    def read(self, timestamp: str | None, now: float) -> None:
        """One AMI event read at ``now``; its ``Timestamp`` (if any) gives the lag."""
        self._events.inc()
        if timestamp is not None:
            with contextlib.suppress(ValueError):
                self._lag.set(max(0.0, now - float(timestamp)))


def hello_sent() -> bool:
    """A panel socket is open: counted until ``socket_closed(counted=True)``."""
    HELLOS.inc()
    SOCKETS_OPEN.inc()
    return True


def socket_closed(code: int | None, *, counted: bool) -> None:
    """A panel socket closed with ``code`` (refused ones too, never counted as open)."""
    if counted:
        SOCKETS_OPEN.dec()
    SOCKET_DROPS.labels(str(code)).inc()


def serve_worker_metrics(port: int, address: str = "127.0.0.1") -> None:
    """Serve ``/metrics`` (any path) on ``address:port`` from a daemon thread."""
    start_http_server(port, addr=address)
