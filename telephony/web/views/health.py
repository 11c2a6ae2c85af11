"""Probes for load balancers and orchestrators, and the Prometheus scrape of a web process.

- ``/healthz``: liveness. 200 while the process answers HTTP; touches no other server, so
  a database or Redis outage never gets a healthy daphne restarted.
- ``/readyz``: readiness. 200 when this process can serve panels: the database answers and
  (with ``REDIS_URL``) Redis answers; 503 otherwise. Each enabled connector's PBX link is
  reported as the worker last recorded it (``up``, ``down``, or ``stale`` when no worker
  has written its status for ``STALE_AFTER`` seconds) but does not make the process
  unready: history and the phone book still work while a PBX is away.
- ``/metrics``: this process's metrics (``telephony/metrics.py``) when ``METRICS_ENABLED``,
  else 404. Expose it to the monitoring network only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ...models import Connector

#: A connector status row older than this has no live worker behind it (it beats every 10 s).
STALE_AFTER = timedelta(seconds=30)
#: Probes must answer fast even when a server hangs.
PROBE_TIMEOUT = 2.0


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers (``database`` names the configured engine, unchecked)."""
    return JsonResponse({"status": "ok", "database": connection.vendor})


def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "redis": _redis()}
    ready = all(value == "ok" for value in checks.values())
    body: dict[str, Any] = {
        "status": "ready" if ready else "unready",
        **checks,
        "connectors": _connectors() if checks["database"] == "ok" else {},
    }
    return JsonResponse(body, status=200 if ready else 503)


def metrics(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_ENABLED:
        raise Http404("metrics are off (METRICS_ENABLED)")
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error means "not ready", with its text
        connection.close()  # the next request starts afresh
        return f"error: {error}".strip()
    return "ok"


def _redis() -> str:
    if not settings.REDIS_URL:
        return "ok"  # the in-memory layer: one process, nothing to reach
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=PROBE_TIMEOUT, socket_connect_timeout=PROBE_TIMEOUT
    )
    try:
        client.ping()
    except redis.RedisError as error:
        return f"error: {error}"
    finally:
        client.close()
    return "ok"


def _connectors() -> dict[str, str]:
    now = timezone.now()
    links: dict[str, str] = {}
    for connector in Connector.objects.filter(enabled=True).select_related("status"):
        status = getattr(connector, "status", None)
        if status is None or now - status.updated_at > STALE_AFTER:
            links[connector.name] = "stale"
        else:
            links[connector.name] = "up" if status.connected else "down"
    return links
