"""The panel's directory: each extension of the user's connectors with its live state and
the name colleagues know it by.

Line state comes from the live call records (ringing, busy); DND from the server's
``LineDnd`` rows (``web.dnd``), written when the PBX accepted a ``SetDnd``.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from ...models import CallRecord, Extension
from ..dnd import dnd_lines
from .access import can_supervise, own_extensions


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


def colleagues(connector_ids: set[int]) -> dict[str, str]:
    """``{"3:102": "Bob Stone"}``: how the panel names a colleague's line on a card."""
    rows = Extension.objects.filter(connector_id__in=connector_ids).select_related("operator")
    names = {f"{row.connector_id}:{row.number}": colleague_name(row) for row in rows}
    return {key: name for key, name in names.items() if name}


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
    flags = dnd_lines({row.connector_id for row in rows})
    entries = []
    for row in rows:
        state = states.get((row.connector_id, row.number), "idle")
        if state == "idle" and (row.connector_id, row.number) in flags:
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
