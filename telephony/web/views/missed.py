"""The missed-calls page (who called, Call back) and the badge's count for the panel.

Opening the page marks the user's missed calls seen (``web.missed``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ...models import CallRecord
from ...parties import party_of
from .. import missed
from .lines import colleagues


@dataclass(frozen=True, slots=True)
class MissedRow:
    """One line of the page: the record, whom to call back and whether it is new."""

    record: CallRecord
    number: str
    name: str
    is_new: bool


@login_required
def missed_calls(request: HttpRequest) -> HttpResponse:
    """The user's missed calls of the last days, the unseen ones marked; then all seen.
    Callers named as on the card: a colleague by their name in the app, else the phone
    book, else the PBX."""
    seen = missed.seen_at(request.user)
    records = list(missed.missed_records(request.user)[:200])
    names = colleagues({record.connector_id for record in records if record.connector_id})
    rows = []
    for record in records:
        party = party_of(record)
        colleague = names.get(f"{record.connector_id}:{party.number}")
        contact = record.contact.name if record.contact else ""
        rows.append(
            MissedRow(
                record=record,
                number=party.number,
                name=colleague or contact or party.name,
                is_new=seen is None or (record.ended_at is not None and record.ended_at > seen),
            )
        )
    missed.mark_seen(request.user)
    return render(request, "telephony/missed.html", {"rows": rows})


@login_required
@require_GET
def missed_count(request: HttpRequest) -> JsonResponse:
    """``{"unseen": 3}`` for the panel's badge."""
    return JsonResponse({"unseen": missed.unseen_count(request.user)})
