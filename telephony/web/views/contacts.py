"""The phone book as operators read it: one contact's card with the calls the user may see.

Read-only (the admin edits contacts); any signed-in user with a line or the supervise
permission may open it, since the panel links every matched caller here.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from ...models import Contact
from .access import can_supervise, own_extensions, visible_records

RECENT_CALLS = 50


@login_required
def contact(request: HttpRequest, pk: int) -> HttpResponse:
    """Name, company, numbers and notes, then the newest calls with this contact."""
    if not (can_supervise(request.user) or own_extensions(request.user).exists()):
        raise PermissionDenied
    person = get_object_or_404(Contact, pk=pk)
    records = list(visible_records(request.user).filter(contact=person)[:RECENT_CALLS])
    numbers = [number.strip() for number in person.phones.replace(";", ",").split(",")]
    context = {
        "contact": person,
        "numbers": [number for number in numbers if number],
        "records": records,
        "supervisor": can_supervise(request.user),
    }
    return render(request, "telephony/contact.html", context)
