"""What a call card asks besides the socket: who handed the call to this line.

The call events of the receiving line do not say who transferred the call; the
transferring line's ``CallTransferred`` (same call id, saved and published before the
receiving line rings) does. Reads only.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponseBadRequest, JsonResponse
from django.views.decorators.http import require_GET

from ...models import CallEvent, Extension
from .access import can_supervise, own_extensions
from .lines import colleague_name


def base_call_id(call_id: str) -> str:
    """``"1772.41:2"`` -> ``"1772.41"``: a line rung again in one call gets a ``:n`` suffix."""
    head, colon, tail = call_id.rpartition(":")
    return head if colon and tail.isdigit() else call_id


def transferred_by(connector_id: int, call_id: str, line: str) -> dict[str, str] | None:
    """``{"line", "name"}`` of the line that transferred ``call_id`` to ``line``, if any.

    A transfer aimed at ``line`` wins; otherwise the newest transfer by another line (a
    transfer to a queue or group that rang ``line``).
    """
    transfers = list(
        CallEvent.objects.filter(
            connector_id=connector_id,
            name="CallTransferred",
            record__call_id__in={call_id, base_call_id(call_id)},
        )
        .exclude(line=line)
        .order_by("-occurred_at", "-pk")
        .values_list("line", "payload")[:20]
    )
    if not transfers:
        return None
    aimed = [by for by, payload in transfers if (payload or {}).get("transferred_to") == line]
    by = aimed[0] if aimed else transfers[0][0]
    extension = (
        Extension.objects.filter(connector_id=connector_id, number=by)
        .select_related("operator")
        .first()
    )
    return {"line": by, "name": colleague_name(extension) or by}


@login_required
@require_GET
def call_origin(request: HttpRequest) -> JsonResponse | HttpResponseBadRequest:
    """``?connector=3&call=ID&line=102`` -> ``{"transferred_by": {"line", "name"} | null}``."""
    try:
        connector_id = int(request.GET["connector"])
        call_id, line = request.GET["call"], request.GET["line"]
    except (KeyError, ValueError):
        return HttpResponseBadRequest("expected connector, call and line")
    visible = can_supervise(request.user) or (
        own_extensions(request.user).filter(connector_id=connector_id, number=line).exists()
    )
    if not visible:
        return JsonResponse({"ok": False, "code": "not-your-line"}, status=403)
    return JsonResponse({"transferred_by": transferred_by(connector_id, call_id, line)})
