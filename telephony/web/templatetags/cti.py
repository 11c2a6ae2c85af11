"""Template filters of the history pages (durations, call-event labels, the other party) and
the missed-calls badge."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from ...models import CallRecord
from ...parties import party_of
from .. import missed

register = template.Library()

EVENT_LABELS = {
    "RingStarted": _("Ringing started"),
    "CommutationStarted": _("Connected"),
    "PutHoldAction": _("Put on hold"),
    "EndHoldAction": _("Resumed"),
    "CallTransferred": _("Transferred"),
    "CallInfoChanged": _("Caller details changed"),
    "AbonentBusy": _("Other party busy"),
    "RingFinished": _("Ended"),
}


@register.filter
def duration(seconds: float | int | None) -> str:
    """``75`` -> ``1:15``; ``3700`` -> ``1:01:40``; None -> an em dash."""
    if seconds is None:
        return "—"
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def event_label(name: str) -> str:
    return str(EVENT_LABELS.get(name, name))


@register.filter
def disposition_label(code: str) -> str:
    """``"answered-elsewhere"`` -> "answered elsewhere", translated; unknown codes as they are."""
    try:
        return str(CallRecord.Disposition(code).label)
    except ValueError:
        return code


@register.filter
def party_name(record: CallRecord) -> str:
    """The name of the party the operator talked to."""
    return party_of(record).name


@register.simple_tag(takes_context=True)
def unseen_missed(context: dict[str, Any]) -> int:
    """The missed-calls badge's number for the page's user."""
    request = context.get("request")
    return missed.unseen_count(request.user) if request is not None else 0
