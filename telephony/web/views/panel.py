"""The operator's call panel, the supervisor's page and the health check.

The pages are shells: live calls arrive over the WebSocket (docs/websocket-api.md) and the
static modules in ``static/telephony/js`` draw them. Knows no channel layer and no PBX.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from ...models import Extension, WrapUpTag
from ..counters import today_counts
from ..dnd import dnd_lines
from .access import SUPERVISE, can_supervise, own_extensions
from .lines import colleagues


@login_required
def panel(request: HttpRequest) -> HttpResponse:
    """The operator's lines, live call cards, dial box and directory."""
    extensions = list(own_extensions(request.user))
    context = {
        "extensions": extensions,
        "can_supervise": can_supervise(request.user),
        "panel_config": {
            "contactUrl": reverse("telephony:contact", args=[0]),
            "callOriginUrl": reverse("telephony:call-origin"),
            "missedCountUrl": reverse("telephony:missed-count"),
            "wrapUpUrl": reverse("telephony:wrapup"),
            "wrapUpTags": [
                {"id": tag.pk, "name": tag.name} for tag in WrapUpTag.objects.filter(active=True)
            ],
            "colleagues": colleagues({ext.connector_id for ext in extensions}),
            "directoryUrl": reverse("telephony:directory"),
        },
    }
    return render(request, "telephony/panel.html", context)


@login_required
@permission_required(SUPERVISE, raise_exception=True)
def supervisor(request: HttpRequest) -> HttpResponse:
    """Every live call of every connector, each line's state, today's counts."""
    extensions = Extension.objects.select_related("connector", "operator").order_by(
        "connector__name", "number"
    )
    today = today_counts()
    dnd_on = dnd_lines({ext.connector_id for ext in extensions})
    lines = [
        {
            "connector": ext.connector_id,
            "connectorName": ext.connector.name,
            "line": ext.number,
            "name": ext.display_name,
            "dnd": (ext.connector_id, ext.number) in dnd_on,
            "operator": ext.operator.get_full_name() or ext.operator.get_username()
            if ext.operator
            else "",
        }
        for ext in extensions
    ]
    return render(
        request,
        "telephony/supervisor.html",
        {
            "today": today,
            "supervisor_config": {
                "lines": lines,
                "todayUrl": reverse("telephony:today"),
                "queuesUrl": reverse("telephony:queues"),
            },
        },
    )


@login_required
@permission_required(SUPERVISE, raise_exception=True)
def today(request: HttpRequest) -> JsonResponse:
    """Today's counts, per call, for the supervisor page to refresh as calls end."""
    return JsonResponse(today_counts())
