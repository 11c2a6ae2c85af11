"""The user's own settings: the time zone they read times in (empty: the browser's)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ...models import OperatorProfile
from ..timezones import zone_names


class PreferencesForm(forms.Form):
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        choices = [("", _("as my browser says")), *((name, name) for name in zone_names())]
        self.fields["time_zone"].choices = choices  # type: ignore[attr-defined]


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    profile, _created = OperatorProfile.objects.get_or_create(user_id=request.user.pk)
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            profile.time_zone = form.cleaned_data["time_zone"]
            profile.save(update_fields=["time_zone"])
            return redirect("telephony:preferences")
    else:
        form = PreferencesForm(initial={"time_zone": profile.time_zone})
    context = {"form": form, "current_zone": timezone.get_current_timezone_name()}
    return render(request, "telephony/preferences.html", context)
