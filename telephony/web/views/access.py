"""Who sees which lines and calls: the one place the history and the pages scope rows.

An operator sees the calls of their own extensions; a ``telephony.supervise`` user sees every
call. Pure ORM queries; no request parsing, no rendering.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, PermissionsMixin
from django.db.models import Q, QuerySet

from ...models import CallRecord, Extension

SUPERVISE = "telephony.supervise"


def can_supervise(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_authenticated and isinstance(user, PermissionsMixin) and user.has_perm(SUPERVISE)


def own_extensions(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Extension]:
    return Extension.objects.filter(operator_id=user.pk).select_related("connector")


def own_lines_filter(user: AbstractBaseUser | AnonymousUser) -> Q:
    """Rows whose (connector, line) is one of the user's extensions."""
    own = Q(pk__in=[])
    for connector_id, number in own_extensions(user).values_list("connector_id", "number"):
        own |= Q(connector_id=connector_id, line=number)
    return own


def visible_records(user: AbstractBaseUser | AnonymousUser) -> QuerySet[CallRecord]:
    """The call records this user may read, newest first."""
    records = CallRecord.objects.select_related("contact", "connector", "wrapup__tag").order_by(
        "-started_at", "-pk"
    )
    if can_supervise(user):
        return records
    return records.filter(own_lines_filter(user))
