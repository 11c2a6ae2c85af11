"""The time zone a user reads times in: their profile's choice, else what their browser
said (the ``cti_tz`` cookie that ``static/telephony/js/zone.js`` sets), else ``TIME_ZONE``.

A middleware activates it per request, so templates, the history's date filters and the
CSV all use it. Knows no socket.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import cache

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from ..models import OperatorProfile

COOKIE = "cti_tz"


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted (the settings page's choices)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def parse_zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    """A known zone, or None for anything else (a cookie is user input)."""
    if not name or name not in zone_names():
        return None
    return zoneinfo.ZoneInfo(name)


def user_zone(request: HttpRequest) -> zoneinfo.ZoneInfo | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        chosen = (
            OperatorProfile.objects.filter(user_id=user.pk)
            .values_list("time_zone", flat=True)
            .first()
        )
        if zone := parse_zone(chosen):
            return zone
    return parse_zone(request.COOKIES.get(COOKIE))


class UserTimezoneMiddleware:
    """Activate the user's time zone for the request (after authentication)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = user_zone(request)
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        return self.get_response(request)
