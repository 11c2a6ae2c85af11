"""Closing open panel sockets when what they were opened with stops being true: the session
logged out, the user's password changed, the user was deactivated or removed, or the user's
lines changed (an extension given to someone else, renumbered or deleted), or a permission
or group was taken away (``telephony.supervise``).

Each socket joins ``user.<id>`` and ``session.<hash of its session key>`` (``socket_groups``);
these Django signal handlers send ``{"type": "session.revoked", "code": ...}`` there after the
change commits, and the consumer closes with that code (docs/websocket-api.md, "Close codes").
A socket is never left working for an account or a line it no longer has.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.auth import get_user
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from ..groups import session_group, user_group
from ..models import Extension
from . import admission

logger = logging.getLogger(__name__)

CLOSE_LOGGED_OUT = 4410
CLOSE_PASSWORD_CHANGED = 4411
CLOSE_DEACTIVATED = 4412
CLOSE_LINES_CHANGED = 4413
#: The message type the consumer handles (``CtiConsumer.session_revoked``).
REVOKED = "session.revoked"


def session_digest(session_key: str) -> str:
    """The session key as it may appear in a group name: hashed, so Redis never sees it."""
    return hashlib.sha256(session_key.encode()).hexdigest()[:40]


def socket_groups(user_id: int, session: Any) -> list[str]:
    """The groups a socket joins to be closed: its user's, and its session's when it has one."""
    groups = [user_group(user_id)]
    key = getattr(session, "session_key", None)
    if key:
        groups.append(session_group(session_digest(key)))
    return groups


async def still_logged_in(scope: dict[str, Any], user_id: int) -> bool:
    """Is the socket's session, read afresh, still this user's? Asked once its groups are
    joined: a logout or password change between the handshake's authentication and the join
    sent its ``session.revoked`` to no one, and must not leave the socket open."""
    key = getattr(scope.get("session"), "session_key", None)
    if not key:
        return False
    # On the hello pool, as the rest of the opening (admission): channels' ``get_user``
    # would queue behind every command on the shared database thread.
    return await admission.off_loop(_is_session_of, key, user_id)


def _is_session_of(key: str, user_id: int) -> bool:
    fresh = importlib.import_module(settings.SESSION_ENGINE).SessionStore(key)
    user = get_user.func({"session": fresh})
    return bool(user.is_authenticated and user.pk == user_id)


def revoke(group: str, code: int, reason: str) -> None:
    """Tell every socket in ``group`` to close with ``code``, once the transaction commits.

    A channel layer that is down must not fail the logout or the admin's save: logged, and
    the socket is refused at its next reconnect anyway (the session or the line is gone).
    """

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(group, {"type": REVOKED, "code": code})
        except Exception:
            logger.exception("cannot close the sockets of %s (%s)", group, reason)

    transaction.on_commit(send)


def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        revoke(session_group(session_digest(key)), CLOSE_LOGGED_OUT, "logout")


def _user_before_save(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    instance._cti_before = None
    if instance.pk is None or kwargs.get("raw"):
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. the last_login update of every login: nothing to compare
    instance._cti_before = (
        sender._default_manager.filter(pk=instance.pk).values_list("password", "is_active").first()
    )


def _user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    before = getattr(instance, "_cti_before", None)
    if created or before is None:
        return
    password, is_active = before
    if is_active and not instance.is_active:
        revoke(user_group(instance.pk), CLOSE_DEACTIVATED, "deactivated")
    elif password != instance.password:
        revoke(user_group(instance.pk), CLOSE_PASSWORD_CHANGED, "password changed")


def _user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    revoke(user_group(instance.pk), CLOSE_DEACTIVATED, "deleted")


def _line(extension: Extension) -> tuple[int | None, int, str]:
    return (extension.operator_id, extension.connector_id, extension.number)


def _extension_before_save(sender: Any, instance: Any, **kwargs: Any) -> None:
    new = instance.pk is None or kwargs.get("raw")
    old = None if new else Extension.objects.filter(pk=instance.pk).first()
    instance._cti_before = None if old is None else _line(old)


def _extension_saved(sender: Any, instance: Extension, created: bool, **kwargs: Any) -> None:
    before = getattr(instance, "_cti_before", None)
    after = _line(instance)
    if before == after:
        return  # a display name or device: the socket's groups are still right
    # The old operator lost the line; the new one gains it (its events start on reconnect).
    operators = {after[0], before[0] if before else None}
    for operator_id in sorted(operator for operator in operators if operator is not None):
        revoke(user_group(operator_id), CLOSE_LINES_CHANGED, "line changed")


def _extension_deleted(sender: Any, instance: Extension, **kwargs: Any) -> None:
    if instance.operator_id is not None:
        revoke(user_group(instance.operator_id), CLOSE_LINES_CHANGED, "line removed")


def _user_users(instance: Any, reverse: bool, pk_set: Any, action: str) -> list[int]:
    """Users who lost a permission or a group (``User.user_permissions`` / ``User.groups``)."""
    if not reverse:
        return [instance.pk]
    if action == "post_remove":
        return sorted(pk_set or ())
    return list(instance.user_set.values_list("pk", flat=True))  # pre_clear: still there


def _group_users(instance: Any, reverse: bool, pk_set: Any, action: str) -> list[int]:
    """Users of groups that lost a permission (``Group.permissions``)."""
    if not reverse:
        groups = Group.objects.filter(pk=instance.pk)
    elif action == "post_remove":
        groups = Group.objects.filter(pk__in=pk_set or ())
    else:
        groups = instance.group_set.all()
    return list(get_user_model().objects.filter(groups__in=groups).values_list("pk", flat=True))


def _rights_removed(sender: Any, instance: Any, action: str, reverse: bool, **kwargs: Any) -> None:
    """A permission or group taken away (``telephony.supervise`` among them, perhaps): the
    user's sockets reconnect with what they may still see."""
    if action not in {"post_remove", "pre_clear"}:
        return
    find = _group_users if sender is Group.permissions.through else _user_users
    for user_id in find(instance, reverse, kwargs.get("pk_set"), action):
        revoke(user_group(user_id), CLOSE_LINES_CHANGED, "permission removed")


def connect_signals() -> None:
    """Called once from ``TelephonyConfig.ready()``."""
    user_model = get_user_model()
    user_logged_out.connect(_logged_out, dispatch_uid="cti-revoke-logout")
    pre_save.connect(_user_before_save, sender=user_model, dispatch_uid="cti-revoke-user-pre")
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="cti-revoke-user")
    post_delete.connect(_user_deleted, sender=user_model, dispatch_uid="cti-revoke-user-del")
    pre_save.connect(_extension_before_save, sender=Extension, dispatch_uid="cti-revoke-ext-pre")
    post_save.connect(_extension_saved, sender=Extension, dispatch_uid="cti-revoke-ext")
    post_delete.connect(_extension_deleted, sender=Extension, dispatch_uid="cti-revoke-ext-del")
    for through in (
        user_model.user_permissions.through,
        user_model.groups.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(_rights_removed, sender=through, dispatch_uid=f"cti-revoke-{through}")
