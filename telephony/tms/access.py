"""Who a TMS socket is and what it may read: the line an ``OpenConnection`` opens, and that
line's live calls.

Synchronous ORM code, called through ``database_sync_to_async``. The decision is the one in
docs/adr/0004-tms-authentication.md: the connector has TMS switched on, the browser's Origin
is one of the connector's, the key matches the extension's (compared in constant time), and
the extension has an active operator, whose audience then routes every command.
"""

from __future__ import annotations

import dataclasses
import hmac
from dataclasses import dataclass
from typing import Any

from ..callrows import snapshot_wire
from ..models import CallEvent, CallRecord, Extension
from ..web.queries import Audience, load_audience
from .mapping import ErrorType, OpenParams, TmsError


@dataclass(frozen=True, slots=True)
class TmsLine:
    """The one line a TMS connection drives, and the operator it acts as."""

    connector_id: int
    line: str
    audience: Audience
    key: str = dataclasses.field(repr=False, default="")


def normalize_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def allowed_origins(text: str) -> set[str]:
    return {normalize_origin(item) for item in text.split() if item.strip()}


def open_line(params: OpenParams, origin: str | None) -> TmsLine:
    """The line ``OpenConnection`` asks for, if this socket may have it.

    Raises:
        TmsError: AUTHENTICATION, the same message whatever failed (no hint which part).
    """
    refused = TmsError(ErrorType.AUTHENTICATION, "forbidden", "this line may not be opened here")
    if not params.key or origin is None:
        raise refused
    candidates = Extension.objects.select_related("connector", "operator").filter(
        number=params.extension,
        connector__enabled=True,
        connector__tms_enabled=True,
        operator__isnull=False,
        operator__is_active=True,
    )
    given = params.key.encode("utf-8")
    for extension in candidates:
        key = extension.tms_key.encode("utf-8")
        if not key or not hmac.compare_digest(given, key):
            continue
        if normalize_origin(origin) not in allowed_origins(extension.connector.tms_origins):
            continue
        assert extension.operator is not None  # noqa: S101 - filtered above
        audience = load_audience(extension.operator, supervise=False)
        if audience is None:
            continue
        return TmsLine(extension.connector_id, extension.number, audience, params.key)
    raise refused


def still_allowed(line: TmsLine) -> bool:
    """Before each command: TMS still on, the line still this operator's, the key unchanged
    (an admin's change takes effect at once, not at the next reconnect)."""
    keys = Extension.objects.filter(
        connector_id=line.connector_id,
        number=line.line,
        connector__enabled=True,
        connector__tms_enabled=True,
        operator_id=line.audience.user_id,
        operator__is_active=True,
    ).values_list("tms_key", flat=True)
    given = line.key.encode("utf-8")
    return any(key and hmac.compare_digest(given, key.encode("utf-8")) for key in keys)


def line_calls(line: TmsLine) -> tuple[list[dict[str, Any]], int]:
    """The line's live calls (oldest first, as ``ActiveCallSnapshot`` wire dicts) and the
    line's newest stored sequence number: events up to it are in the snapshot already."""
    records = CallRecord.objects.filter(
        connector_id=line.connector_id, line=line.line, ended_at__isnull=True
    ).order_by("started_at", "pk")
    wires = [snapshot_wire(record) for record in records]
    newest = (
        CallEvent.objects.filter(connector_id=line.connector_id, line=line.line)
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    )
    return wires, int(newest or 0)
