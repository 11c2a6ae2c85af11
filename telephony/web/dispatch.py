"""Where a browser command goes: its connector, line and worker verb, after the ownership and
number checks that need the database.

Synchronous ORM code, called through ``database_sync_to_async``. Ownership is decided here
(and again by the worker): a user acts on the live calls of their own lines, a
``telephony.supervise`` user on any line. Lines and the permission are read afresh for every
command, not taken from when the socket opened. Nothing here sends anything.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.db.models import Model, Q, QuerySet

from ..callmodel.events import CallState
from ..commands import CommandRejected, check_number
from ..connectors import connector_config
from ..models import CallRecord, Connector, ConnectorStatus, Extension
from .protocol import PanelRequest
from .queries import Audience, load_audience

#: Verbs that ring the supervisor's own phone into an operator's call (ChanSpy).
SPY_VERBS = frozenset({"listen", "whisper", "barge"})

_Row = TypeVar("_Row", bound=Model)


@dataclass(frozen=True, slots=True)
class Routed:
    """A command ready for ``worker.<connector>``."""

    connector_id: int
    command: dict[str, Any]
    lines: list[str]


def route(audience: Audience, request: PanelRequest) -> Routed:
    """Check a command against the database and pick its connector and line.

    Raises:
        CommandRejected: not-your-call, invalid-number, invalid-state, invalid-input,
            pbx-unreachable (the worker reported the PBX lost).
    """
    assert request.verb is not None  # noqa: S101 - local commands never get here
    audience = current_audience(audience)
    verb = request.verb
    if request.call_id is not None:
        record = _own_live_record(audience, request)
        connector_id, line = int(record.connector_id or 0), record.line
        if request.name == "HoldCall":
            verb = _hold_toggle(record.state)
    else:
        connector_id, line = _own_line(audience, request)
    connector = Connector.objects.prefetch_related("extensions").get(pk=connector_id)
    target = None
    if request.target is not None:
        target = check_number(connector_config(connector), request.target)
    if verb in SPY_VERBS:
        target = _supervisor_phone(audience, connector_id)
    status = ConnectorStatus.objects.filter(connector_id=connector_id).first()
    if status is not None and not status.connected:
        raise CommandRejected("pbx-unreachable", status.last_error or "the PBX is not connected")
    if audience.can_supervise:
        lines = [extension.number for extension in connector.extensions.all()]
    else:
        lines = [own.number for own in audience.lines if own.connector_id == connector_id]
    command = {
        "verb": verb,
        "line": line,
        "call_id": request.call_id,
        "target": target,
        "digits": request.digits,
        "enabled": request.enabled,
        "queue": request.queue,
        "reason": request.reason,
    }
    return Routed(connector_id, command, lines)


def current_audience(audience: Audience) -> Audience:
    """``audience`` as the database has it now: an extension given to someone else or a
    supervise permission taken away since the socket opened no longer lets it act.

    Raises:
        CommandRejected: not-your-call, when the user is gone, inactive or has nothing left.
    """
    user = get_user_model().objects.filter(pk=audience.user_id, is_active=True).first()
    if user is None:
        raise CommandRejected("not-your-call", "your account is no longer active")
    current = load_audience(user, supervise=bool(audience.supervised))
    if current is None:
        raise CommandRejected("not-your-call", "you no longer have a line")
    return current


def _scoped(query: QuerySet[_Row], request: PanelRequest, line_field: str) -> QuerySet[_Row]:
    if request.connector is not None:
        query = query.filter(connector_id=request.connector)
    if request.line is not None:
        query = query.filter(**{line_field: request.line})
    return query


def _own_live_record(audience: Audience, request: PanelRequest) -> CallRecord:
    records = _scoped(
        CallRecord.objects.filter(call_id=request.call_id, ended_at__isnull=True), request, "line"
    )
    if not audience.can_supervise:
        own = Q(pk__in=[])
        for line in audience.lines:
            own |= Q(connector_id=line.connector_id, line=line.number)
        records = records.filter(own)
    found = list(records[:10])
    if not found:
        raise CommandRejected("not-your-call", "that call is not live on your line")
    # A supervisor watching both ends of an internal call acts on their own end first.
    mine = [record for record in found if audience.owns(record.connector_id, record.line)]
    return (mine or found)[0]


def _own_line(audience: Audience, request: PanelRequest) -> tuple[int, str]:
    candidates = [
        (line.connector_id, line.number)
        for line in audience.lines
        if request.line in {None, line.number} and request.connector in {None, line.connector_id}
    ]
    if not candidates and audience.can_supervise and request.line is not None:
        extensions = _scoped(Extension.objects.all(), request, "number")
        candidates = list(extensions.values_list("connector_id", "number")[:2])
    if not candidates:
        raise CommandRejected("not-your-call", "that line is not yours")
    if len(candidates) > 1:
        raise CommandRejected("invalid-input", "you have several lines: say which (line)")
    return candidates[0]


def _supervisor_phone(audience: Audience, connector_id: int) -> str:
    """The supervisor's own line on the call's PBX: the phone ChanSpy rings.

    Raises:
        CommandRejected: not-your-call for an operator, invalid-input without a line there.
    """
    if not audience.can_supervise:
        raise CommandRejected("not-your-call", "only a supervisor may listen in on a call")
    own = [line.number for line in audience.lines if line.connector_id == connector_id]
    if not own:
        raise CommandRejected("invalid-input", "you need a phone line on this PBX to listen in")
    return own[0]


def _hold_toggle(state: str) -> str:
    if state == CallState.CONNECTED:
        return "hold"
    if state == CallState.HELD:
        return "unhold"
    raise CommandRejected("invalid-state", f"a {state} call can be neither held nor resumed")


async def deliver(
    layer: Any,
    group: str,
    message: dict[str, Any],
    accepted: asyncio.Event,
    errors: list[Exception],
    *,
    resend: float = 1.0,
) -> None:
    """Send a ``command.run`` until the worker acknowledges it (the caller bounds the time).

    After a Redis restart the worker's subscription comes back within a second or two: a
    publish meanwhile reaches nobody, and one on a dropped connection raises (kept in
    ``errors``). Sending again is safe: the worker carries out a ``request_id`` once.
    """
    while not accepted.is_set():
        try:
            await layer.group_send(group, message)
            errors.clear()
        except Exception as error:  # Redis down or restarting: send again shortly
            errors.append(error)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(resend):
                await accepted.wait()
