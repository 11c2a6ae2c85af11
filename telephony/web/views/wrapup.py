"""Saving a wrap-up: from the panel right after a call (JSON, by connector, call id and
line) and from the call detail page (a form post, by record)."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ...models import CallRecord
from .. import wrapups
from .history import detail_context


@login_required
@require_POST
def wrapup_for_call(request: HttpRequest) -> JsonResponse:
    """``{"connector", "call", "line", "tag", "note"}`` -> ``{"ok": true}`` or an error."""
    try:
        body = json.loads(request.body or b"{}")
        connector_id = int(body["connector"])
        call_id, line = str(body["call"]), str(body["line"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"ok": False, "code": "invalid"}, status=400)
    record = CallRecord.objects.filter(
        connector_id=connector_id, call_id=call_id, line=line
    ).first()
    if record is None or not wrapups.may_wrap_up(request.user, record):
        return JsonResponse({"ok": False, "code": "not-your-call"}, status=403)
    form = wrapups.WrapUpForm({"tag": body.get("tag") or "", "note": body.get("note") or ""})
    if not form.is_valid():
        return JsonResponse({"ok": False, "code": "invalid", "errors": form.errors}, status=400)
    wrapups.save(request.user, record, form)
    return JsonResponse({"ok": True, "record": record.pk})


@login_required
@require_POST
def wrapup_for_record(request: HttpRequest, pk: int) -> HttpResponse:
    """The call detail page's form; on an error the page again, with the form's message."""
    record = get_object_or_404(CallRecord, pk=pk)
    if not wrapups.may_wrap_up(request.user, record):
        return HttpResponse(status=403)
    form = wrapups.WrapUpForm(request.POST)
    if form.is_valid():
        wrapups.save(request.user, record, form)
        return redirect("telephony:call-detail", pk=pk)
    context = detail_context(request, record)
    context["wrapup_form"] = form
    return render(request, "telephony/call_detail.html", context, status=400)
