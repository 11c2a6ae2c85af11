"""Wrap-up after a call: who may note a result tag and text on which record, and the form
that checks them. Synchronous ORM code for the views; knows no socket.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.translation import gettext_lazy as _

from ..models import CallRecord, WrapUp, WrapUpTag
from .views.access import can_supervise, own_extensions


class WrapUpForm(forms.Form):
    """A result tag (from the admin's active ones) and a note; at least one of them."""

    tag = forms.ModelChoiceField(
        label=_("Result tag"),
        queryset=WrapUpTag.objects.filter(active=True),
        required=False,
        empty_label=_("no tag"),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if not data.get("tag") and not (data.get("note") or "").strip():
            raise forms.ValidationError(_("Choose a result tag or write a note."))
        return data


def may_wrap_up(user: AbstractBaseUser | AnonymousUser, record: CallRecord) -> bool:
    """The line's own operator, or a supervisor."""
    if can_supervise(user):
        return True
    if record.connector_id is None:
        return False
    return (
        own_extensions(user).filter(connector_id=record.connector_id, number=record.line).exists()
    )


def save(user: AbstractBaseUser | AnonymousUser, record: CallRecord, form: WrapUpForm) -> WrapUp:
    """Store the form's tag and note on ``record`` (a second save replaces the first)."""
    wrapup, _created = WrapUp.objects.update_or_create(
        record=record,
        defaults={
            "tag": form.cleaned_data["tag"],
            "note": form.cleaned_data["note"].strip(),
            "author_id": user.pk,
        },
    )
    return wrapup
