"""What a browser socket reads from the database: who listens to what, the hello, live-call
snapshots and catch-up after a reconnect.

Synchronous ORM code; ``consumer.py`` calls it through ``database_sync_to_async``. Knows
no channel layer and no sockets; commands are routed by ``dispatch``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractUser
from django.db.models import Model, OuterRef, Q, Subquery

from .. import linkstatus
from ..callrows import snapshot_wire
from ..config import capabilities
from ..groups import line_group, status_group, supervisor_group
from ..models import CallEvent, CallRecord, Connector, ConnectorStatus, Extension
from . import hellocache
from .dnd import dnd_lines
from .protocol import line_key

SUPERVISE = "telephony.supervise"
_Row = TypeVar("_Row", bound=Model)


@dataclass(frozen=True, slots=True)
class LineRef:
    """One of the user's own lines."""

    connector_id: int
    number: str
    display_name: str


@dataclass(frozen=True, slots=True)
class Audience:
    """What one socket sees: the user's own lines, and whole connectors when supervising."""

    user_id: int
    username: str
    full_name: str
    can_supervise: bool
    lines: tuple[LineRef, ...]
    supervised: frozenset[int]
    connector_ids: tuple[int, ...]

    def groups(self) -> list[str]:
        """Line groups of own lines (not on supervised connectors, or events would come
        twice), supervisor groups, and every connector's status group."""
        names = [
            line_group(line.connector_id, line.number)
            for line in self.lines
            if line.connector_id not in self.supervised
        ]
        names += [supervisor_group(connector_id) for connector_id in sorted(self.supervised)]
        names += [status_group(connector_id) for connector_id in self.connector_ids]
        return names

    def owns(self, connector_id: int | None, line: str) -> bool:
        """Is this one of the user's own lines?"""
        return any(own.connector_id == connector_id and own.number == line for own in self.lines)

    def sees(self, connector_id: int, line: str) -> bool:
        return connector_id in self.supervised or self.owns(connector_id, line)

    def live_filter(self) -> Q:
        """Rows (CallRecord or CallEvent) on the lines this socket sees."""
        visible = Q(connector_id__in=self.supervised)
        for own in self.lines:
            visible |= Q(connector_id=own.connector_id, line=own.number)
        return visible


def load_audience(user: AbstractUser, supervise: bool) -> Audience | None:
    """The socket's audience, or None when the user has nothing to see (close 4403)."""
    extensions = list(
        Extension.objects.filter(operator_id=user.pk).order_by("connector_id", "number")
    )
    can_supervise = user.has_perm(SUPERVISE)
    supervised: frozenset[int] = frozenset()
    if supervise and can_supervise:
        supervised = frozenset(Connector.objects.filter(enabled=True).values_list("pk", flat=True))
    if not extensions and not supervised:
        return None
    own = {extension.connector_id for extension in extensions}
    return Audience(
        user_id=user.pk,
        username=user.get_username(),
        full_name=user.get_full_name(),
        can_supervise=can_supervise,
        lines=tuple(
            LineRef(extension.connector_id, extension.number, extension.display_name)
            for extension in extensions
        ),
        supervised=supervised,
        connector_ids=tuple(sorted(own | supervised)),
    )


def hello(audience: Audience, since: dict[tuple[int, str], int], limit: int) -> dict[str, Any]:
    """The first message of a socket: who, which lines and PBXs, live calls, sequences."""
    last_seq = last_sequences(audience)
    dnd_on = dnd_lines({line.connector_id for line in audience.lines})
    message: dict[str, Any] = {
        "type": "hello",
        "user": {
            "id": audience.user_id,
            "username": audience.username,
            "name": audience.full_name,
            "supervisor": audience.can_supervise,
            "supervising": sorted(audience.supervised),
        },
        "lines": [
            {
                "connector": line.connector_id,
                "line": line.number,
                "name": line.display_name,
                "dnd": (line.connector_id, line.number) in dnd_on,
            }
            for line in audience.lines
        ],
        "connectors": hellocache.connectors(audience.connector_ids, connectors),
        "snapshot": snapshot(audience),
        "last_seq": last_seq,
        "catch_up": "none",
        "missed": [],
    }
    if since:
        mode, missed = missed_events(audience, since, last_seq, limit)
        message["catch_up"] = mode
        message["missed"] = missed
    return message


def connectors(connector_ids: Iterable[int]) -> list[dict[str, Any]]:
    # Capabilities need three fields, not the extensions or the AMI secret; one query.
    rows = Connector.objects.filter(pk__in=list(connector_ids)).select_related("status")
    return [
        {
            "id": row.pk,
            "name": row.name,
            "capabilities": capabilities(row.dialect, row.hold_method, row.answer_method),
            "status": status_wire(getattr(row, "status", None)),
        }
        for row in rows
    ]


def status_wire(status: ConnectorStatus | None) -> dict[str, Any]:
    """A status row as the worker announces it (``connector.status``)."""
    if status is None:
        return linkstatus.status_wire(False, None, None)
    return linkstatus.status_wire(status.connected, status.since, status.last_error)


def snapshot(audience: Audience) -> list[dict[str, Any]]:
    """``ActiveCallSnapshot`` wire dicts of the live calls on the lines the socket sees."""
    records = CallRecord.objects.filter(audience.live_filter(), ended_at__isnull=True)
    return [snapshot_wire(record) for record in records.order_by("started_at", "pk")]


def last_sequences(audience: Audience) -> dict[str, int]:
    """``{"3:101": 57}``: the newest stored sequence number of each visible line."""
    newest = (
        CallEvent.objects.filter(connector_id=OuterRef("connector_id"), line=OuterRef("number"))
        .order_by("-seq")
        .values("seq")[:1]
    )
    own = Q(pk__in=[])
    for line in audience.lines:
        own |= Q(connector_id=line.connector_id, number=line.number)
    extensions = Extension.objects.filter(own | Q(connector_id__in=audience.supervised))
    rows = extensions.annotate(top=Subquery(newest)).values_list("connector_id", "number", "top")
    return {line_key(connector_id, number): int(top or 0) for connector_id, number, top in rows}


def missed_events(
    audience: Audience,
    since: dict[tuple[int, str], int],
    last_seq: dict[str, int],
    limit: int,
) -> tuple[str, list[dict[str, Any]]]:
    """The stored events after each ``since`` mark, per line in order; or ``("snapshot", [])``
    when more than ``limit`` were missed or the history has a hole (the hello's snapshot is
    then the client's truth)."""
    missed: list[dict[str, Any]] = []
    for (connector_id, line), seq in sorted(since.items()):
        if not audience.sees(connector_id, line):
            continue
        if seq > last_seq.get(line_key(connector_id, line), 0):
            return "snapshot", []  # the client knows a future: history was reset
        rows = list(
            CallEvent.objects.filter(connector_id=connector_id, line=line, seq__gt=seq)
            .order_by("seq")
            .values_list("seq", "payload")[: limit - len(missed) + 1]
        )
        if len(missed) + len(rows) > limit or (rows and rows[0][0] != seq + 1):
            return "snapshot", []
        missed.extend(payload for _, payload in rows)
    return "events", missed


def connector_last_sequences(connector_id: int) -> dict[str, int]:
    """``{"101": 57}``: the newest stored sequence number of every extension of a connector
    (one query; ``lastseq`` shares it between every socket of the process)."""
    newest = (
        CallEvent.objects.filter(connector_id=connector_id, line=OuterRef("number"))
        .order_by("-seq")
        .values("seq")[:1]
    )
    rows = (
        Extension.objects.filter(connector_id=connector_id)
        .annotate(top=Subquery(newest))
        .values_list("number", "top")
    )
    return {number: int(top or 0) for number, top in rows}
