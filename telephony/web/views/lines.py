"""The panel's directory: each extension of the user's connectors with its live state and
the name colleagues know it by.

Line state is the one rule of ``telephony.linestate``, from the live call records and the
server's ``LineDnd`` rows (``web.dnd``), written when the PBX accepted a ``SetDnd``.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from ...linestate import line_state
from ...models import CallRecord, Extension
from ..dnd import dnd_lines
from .access import can_supervise, own_extensions


def live_call_states(connector_ids: list[int]) -> dict[tuple[int, str], list[str]]:
    """``{(connector, line): ["ringing", ...]}``: the states of each line's live calls."""
    states: dict[tuple[int, str], list[str]] = {}
    live = CallRecord.objects.filter(connector_id__in=connector_ids, ended_at__isnull=True)
    for connector_id, line, state in live.values_list("connector_id", "line", "state"):
        states.setdefault((int(connector_id or 0), line), []).append(state)
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
    states = live_call_states(sorted({row.connector_id for row in rows}))
    flags = dnd_lines({row.connector_id for row in rows})
    entries = []
    for row in rows:
        key = (row.connector_id, row.number)
        state = str(line_state(states.get(key, ()), dnd=key in flags))
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
