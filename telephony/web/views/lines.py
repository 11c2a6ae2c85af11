"""The panel's JSON helpers: the extension directory with each line's live state, and the
do-not-disturb flag a panel reports for its own line.

Line state comes from the live call records (ringing, busy); DND from the cache, set by the
line's own panel when the PBX confirmed it (a ``LineStateChanged``): the worker does not
store line-level events. With ``REDIS_URL`` the cache is Redis, shared by every process.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponseBadRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from ...models import CallRecord, Extension
from .access import can_supervise, own_extensions

#: DND flags live a day: a stale flag must not hide an operator forever.
DND_TTL = 24 * 3600


def dnd_key(connector_id: int, line: str) -> str:
    return f"cti:dnd:{connector_id}:{line}"


def line_states(connector_ids: list[int]) -> dict[tuple[int, str], str]:
    """``{(connector, line): "ringing" | "busy"}`` for lines with a live call."""
    states: dict[tuple[int, str], str] = {}
    live = CallRecord.objects.filter(connector_id__in=connector_ids, ended_at__isnull=True)
    for connector_id, line, state in live.values_list("connector_id", "line", "state"):
        key = (int(connector_id or 0), line)
        if state == "ringing" and states.get(key) != "busy":
            states[key] = "ringing"
        elif state in {"connected", "held", "busy"}:
            states[key] = "busy"
    return states


def colleague_name(extension: Extension | None) -> str:
    """A line as colleagues know it: its operator's name in the app, else its label."""
    if extension is None:
        return ""
    operator = extension.operator
    if operator is not None and operator.get_full_name():
        return operator.get_full_name()
    return extension.display_name or (operator.get_username() if operator else "")


@login_required
@require_GET
def directory(request: HttpRequest) -> JsonResponse:
    """Extensions of the user's connectors (all for a supervisor): idle/ringing/busy/dnd."""
    if can_supervise(request.user):
        extensions = Extension.objects.select_related("operator")
    else:
        connectors = own_extensions(request.user).values_list("connector_id", flat=True)
        extensions = Extension.objects.filter(connector_id__in=list(connectors))
        extensions = extensions.select_related("operator")
    rows = list(extensions.order_by("connector_id", "number"))
    states = line_states(sorted({row.connector_id for row in rows}))
    flags = cache.get_many([dnd_key(row.connector_id, row.number) for row in rows])
    entries = []
    for row in rows:
        state = states.get((row.connector_id, row.number), "idle")
        if state == "idle" and flags.get(dnd_key(row.connector_id, row.number)):
            state = "dnd"
        operator = row.operator
        entries.append(
            {
                "connector": row.connector_id,
                "line": row.number,
                "name": colleague_name(row),
                "state": state,
                "mine": operator is not None and operator.pk == request.user.pk,
            }
        )
    return JsonResponse({"lines": entries})


@login_required
@require_POST
def set_dnd(request: HttpRequest) -> JsonResponse | HttpResponseBadRequest:
    """Record the DND flag of one of the user's own lines: ``{"line", "connector", "enabled"}``."""
    try:
        body = json.loads(request.body or b"{}")
        line, enabled = str(body["line"]), bool(body["enabled"])
        connector = int(body["connector"])
    except (ValueError, KeyError, TypeError):
        return HttpResponseBadRequest("expected line, connector and enabled")
    if not own_extensions(request.user).filter(connector_id=connector, number=line).exists():
        return JsonResponse({"ok": False, "code": "not-your-line"}, status=403)
    if enabled:
        cache.set(dnd_key(connector, line), True, DND_TTL)
    else:
        cache.delete(dnd_key(connector, line))
    return JsonResponse({"ok": True})
