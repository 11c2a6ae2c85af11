"""Call history: the list with filters and pages, its CSV export and one call's timeline.

Operators read their own lines' calls, supervisors everyone's (``access.visible_records``).
Reads only; the worker writes the rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterator
from operator import attrgetter
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ...models import CallRecord, WrapUp, WrapUpTag
from ...parties import party_of
from ...phones import digits_only
from ..wrapups import WrapUpForm, may_wrap_up
from .access import can_supervise, visible_records

PAGE_SIZE = 25
StrOrPromise = str | Promise


class HistoryFilter(forms.Form):
    """The list's filters, read from the query string (all optional)."""

    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        required=False,
        choices=[("", _("any")), *CallRecord.Direction.choices],
    )
    disposition = forms.ChoiceField(
        label=_("Result"),
        required=False,
        choices=[("", _("any")), *CallRecord.Disposition.choices],
    )
    tag = forms.ModelChoiceField(
        label=_("Result tag"),
        required=False,
        queryset=WrapUpTag.objects.all(),
        empty_label=_("any"),
    )
    q = forms.CharField(
        label=_("Number, contact or note"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("number, name, company")}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(
                _("The from-date is after the to-date: no call can match. Swap them?")
            )
        return data

    def apply(self, records: QuerySet[CallRecord]) -> QuerySet[CallRecord]:
        if not self.is_bound:
            return records
        if not self.is_valid():  # never "everything" for a filter that could not be read
            return records.none()
        data = self.cleaned_data
        if data["date_from"]:
            records = records.filter(started_at__gte=_midnight(data["date_from"]))
        if data["date_to"]:
            records = records.filter(started_at__lt=_midnight(data["date_to"], days_later=1))
        if data["direction"]:
            records = records.filter(direction=data["direction"])
        if data["disposition"]:
            records = records.filter(disposition=data["disposition"])
        if data["tag"]:
            records = records.filter(wrapup__tag=data["tag"])
        if data["q"]:
            records = records.filter(_search(data["q"].strip()))
        return records


def _midnight(day: dt.date, *, days_later: int = 0) -> dt.datetime:
    """The start of ``day`` (plus ``days_later``) in the current time zone. At the ends of
    the calendar (``9999-12-31`` + 1 day, ``0001-01-01`` east of UTC) it is the last or
    first moment a datetime holds, so such a filter still filters instead of failing."""
    try:
        later = day + dt.timedelta(days=days_later)
        return timezone.make_aware(dt.datetime.combine(later, dt.time.min)).astimezone(dt.UTC)
    except OverflowError:
        if day.year > 1:
            return dt.datetime.max.replace(tzinfo=dt.UTC)
        return dt.datetime.min.replace(tzinfo=dt.UTC)


def _search(text: str) -> Q:
    match = (
        Q(caller_number__icontains=text)
        | Q(callee_number__icontains=text)
        | Q(caller_name__icontains=text)
        | Q(callee_name__icontains=text)
        | Q(contact__name__icontains=text)
        | Q(contact__company__icontains=text)
        | Q(wrapup__note__icontains=text)
    )
    digits = digits_only(text)
    if len(digits) >= 3 and digits != text:
        # "+1 (555) 123-0002" finds "+15551230002".
        match |= Q(caller_number__contains=digits) | Q(callee_number__contains=digits)
    return match


def filtered(request: HttpRequest) -> tuple[HistoryFilter, QuerySet[CallRecord]]:
    form = HistoryFilter(request.GET or None)
    return form, form.apply(visible_records(request.user))


def other_party(record: CallRecord) -> str:
    """The number to call back: the other party, whoever dialled."""
    return party_of(record).number


@login_required
def history(request: HttpRequest) -> HttpResponse:
    form, records = filtered(request)
    status = 400 if form.is_bound and not form.is_valid() else 200  # errors shown in the form
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    for record in page.object_list:
        record.party = other_party(record)  # the template's call-back number
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "supervisor": can_supervise(request.user),
    }
    return render(request, "telephony/history.html", context, status=status)


#: The export's columns: a translated header and how to read the cell from a record.
CSV_COLUMNS: tuple[tuple[StrOrPromise, Callable[[CallRecord], object]], ...] = (
    (_("Started"), attrgetter("started_at")),
    (_("Answered"), attrgetter("answered_at")),
    (_("Ended"), attrgetter("ended_at")),
    (_("Line"), attrgetter("line")),
    (_("Direction"), lambda record: record.get_direction_display()),
    (
        _("Result"),
        lambda record: record.get_disposition_display() if record.ended_at else _("live"),
    ),
    (_("Caller number"), attrgetter("caller_number")),
    (_("Caller name"), attrgetter("caller_name")),
    (_("Callee number"), attrgetter("callee_number")),
    (_("Callee name"), attrgetter("callee_name")),
    (_("Contact"), attrgetter("contact")),
    (_("Queue"), attrgetter("queue")),
    (_("Talk, seconds"), attrgetter("talk_seconds")),
    (_("On hold, seconds"), attrgetter("hold_seconds")),
    (_("Transferred to"), attrgetter("transferred_to")),
    (_("Result tag"), lambda record: getattr(_wrapup(record), "tag", None)),
    (_("Note"), lambda record: getattr(_wrapup(record), "note", None)),
    (_("Call id"), attrgetter("call_id")),
)


def _wrapup(record: CallRecord) -> WrapUp | None:
    return getattr(record, "wrapup", None)


class _Echo:
    """A file-like object whose write returns the line: csv.writer into a stream."""

    def write(self, value: str) -> str:
        return value


#: A cell a spreadsheet would run as a formula (OWASP "CSV Injection"): caller names come from
#: caller ID, which anyone who phones in can set.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PHONE_NUMBER = re.compile(r"^\+?[0-9 ()-]+$")


def csv_cell(value: str) -> str:
    """``value`` made inert for Excel and LibreOffice: a leading quote before a formula start.

    Plain phone numbers (``+15551230001``) stay as they are: a spreadsheet reads them as
    numbers or text, never as a formula, and the export's users copy them.
    """
    if value.startswith(_FORMULA_START) and not _PHONE_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _csv_rows(records: QuerySet[CallRecord], zone: dt.tzinfo) -> Iterator[str]:
    """The export, rendered while streaming; the caller fixes the language and time zone
    (``zone``) first, since the generator may run after the request's are gone."""
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so Excel opens Cyrillic names as UTF-8
    yield writer.writerow([str(header) for header, _read in CSV_COLUMNS])
    for record in records.iterator(chunk_size=500):
        values: list[str] = []
        for _header, read in CSV_COLUMNS:
            value = read(record)
            if isinstance(value, dt.datetime):
                value = value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
            values.append("" if value is None else csv_cell(str(value)))
        yield writer.writerow(values)


@login_required
def history_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form, records = filtered(request)
    if form.is_bound and not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain")
    zone = timezone.get_current_timezone()
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    language = translation.get_language()

    def rows() -> Iterator[str]:
        with translation.override(language):
            yield from _csv_rows(records, zone)

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="calls-{stamp}.csv"'
    return response


@login_required
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(visible_records(request.user), pk=pk)
    return render(request, "telephony/call_detail.html", detail_context(request, record))


def detail_context(request: HttpRequest, record: CallRecord) -> dict[str, Any]:
    """The call detail page's context: timeline, durations and the wrap-up form."""
    events = list(record.events.order_by("seq"))
    start = record.started_at
    timeline = [
        {
            "event": event,
            "offset": (event.occurred_at - start).total_seconds(),
            "payload": event.payload,
        }
        for event in events
    ]
    ring_seconds = None
    if record.answered_at:
        ring_seconds = (record.answered_at - start).total_seconds()
    elif record.ended_at:
        ring_seconds = (record.ended_at - start).total_seconds()
    total = (record.ended_at - start).total_seconds() if record.ended_at else None
    wrapup = getattr(record, "wrapup", None)
    initial = {"tag": wrapup.tag_id, "note": wrapup.note} if wrapup else {}
    return {
        "record": record,
        "timeline": timeline,
        "ring_seconds": ring_seconds,
        "total_seconds": total,
        "party": other_party(record),
        "wrapup": wrapup,
        "wrapup_form": WrapUpForm(initial=initial) if may_wrap_up(request.user, record) else None,
    }
