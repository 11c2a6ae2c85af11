"""What every hello reads that changes only when an admin (or the worker's status) changes it:
the connectors part (name, capabilities, link status) and each user's audience (lines,
supervision), cached per process.

A storm of hellos would read the same rows thousands of times. Each process keeps them under
a version token held in Django's cache (Redis when several processes serve); any save or
delete of a ``Connector``, ``ConnectorStatus``, ``Extension``, user, group or permission row,
and any change of a user's groups or permissions, in any process (the admin's, the worker's
status writes), sets a new token once it is committed, so the next hello everywhere reads the
rows again: never stale after a change. A hello costs one cache read for all of it; without a
reachable cache it reads the database, as before.

Changes that skip model signals (``QuerySet.update()``, raw SQL) must call ``invalidate()``.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar, cast

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

logger = logging.getLogger(__name__)

VERSION_KEY = "cti:hello:connectors:version"
Loader = Callable[[Iterable[int]], list[dict[str, Any]]]

_T = TypeVar("_T")
_lock = threading.Lock()
_version: str | None = None
_entries: dict[Hashable, Any] = {}


def _current_version() -> str | None:
    """The shared version token (made when missing); None when the cache is down."""
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, uuid.uuid4().hex, None)
            version = cache.get(VERSION_KEY)
    except Exception:  # the cache is down: the database still answers
        logger.warning("hello cache unavailable; reading from the database")
        return None
    return str(version)


def _lookup(version: str, keys: list[Hashable]) -> dict[Hashable, Any]:
    global _version, _entries
    with _lock:
        if version != _version:
            _version, _entries = version, {}
        return {key: _entries[key] for key in keys if key in _entries}


def _store(version: str, found: dict[Hashable, Any]) -> None:
    # Read after the version: a change committed meanwhile sets a newer token, so what is
    # stored here under the older one is never served again.
    with _lock:
        if version == _version:
            _entries.update(found)


def connectors(connector_ids: Iterable[int], load: Loader) -> list[dict[str, Any]]:
    """``load(ids)``'s wire dicts (in id order), from the cache when it is current."""
    wanted = sorted(set(connector_ids))
    version = _current_version()
    if version is None:
        return load(wanted)
    keys: list[Hashable] = [("connector", cid) for cid in wanted]
    found = _lookup(version, keys)
    missing = [cid for cid in wanted if ("connector", cid) not in found]
    if missing:
        loaded: dict[Hashable, Any] = {("connector", wire["id"]): wire for wire in load(missing)}
        _store(version, loaded)
        found.update(loaded)
    return [found[("connector", cid)] for cid in wanted if ("connector", cid) in found]


def audience(user: Any, supervise: bool, load: Callable[[Any, bool], _T]) -> _T:
    """``load(user, supervise)`` (the socket's lines and supervised connectors), cached per
    user until an extension, connector, user, group or permission changes."""
    version = _current_version()
    if version is None:
        return load(user, supervise)
    key: Hashable = ("audience", user.pk, supervise)
    found = _lookup(version, [key])
    if key in found:
        return cast(_T, found[key])
    value = load(user, supervise)
    _store(version, {key: value})
    return value


def invalidate() -> None:
    """A connector or its status changed: every process reads them again."""
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    except Exception:
        logger.exception("cannot invalidate the hello cache")


def _changed(**kwargs: Any) -> None:
    if kwargs.get("update_fields") == frozenset({"last_login"}):
        return  # every login saves the user; nothing a hello shows
    transaction.on_commit(invalidate)


def connect_signals() -> None:
    """Called from ``TelephonyConfig.ready()``, so the worker's status writes count too."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    from ..models import Connector, ConnectorStatus, Extension

    user_model = get_user_model()
    for model in (Connector, ConnectorStatus, Extension, user_model, Group, Permission):
        name = model.__name__
        post_save.connect(_changed, sender=model, dispatch_uid=f"hellocache-save-{name}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"hellocache-delete-{name}")
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(_changed, sender=through, dispatch_uid=f"hellocache-m2m-{through}")
