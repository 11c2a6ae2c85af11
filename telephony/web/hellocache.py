"""The connectors part of every hello (name, capabilities, link status), cached per process.

A storm of hellos on one PBX would read the same connector rows thousands of times. Each
process keeps the wire dicts under a version token held in Django's cache (Redis when several
processes serve); any save or delete of a ``Connector`` or ``ConnectorStatus`` row, in any
process (the admin's, the worker's status writes), sets a new token once it is committed, so
the next hello everywhere reads the rows again: never stale after a change. A hello costs one
cache read; without a reachable cache it reads the database, as before.

Changes that skip model signals (``QuerySet.update()``, raw SQL) must call ``invalidate()``.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

logger = logging.getLogger(__name__)

VERSION_KEY = "cti:hello:connectors:version"
Loader = Callable[[Iterable[int]], list[dict[str, Any]]]

_lock = threading.Lock()
_version: str | None = None
_wires: dict[int, dict[str, Any]] = {}


def connectors(connector_ids: Iterable[int], load: Loader) -> list[dict[str, Any]]:
    """``load(ids)``'s wire dicts (in id order), from the cache when it is current."""
    global _version, _wires
    wanted = sorted(set(connector_ids))
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, uuid.uuid4().hex, None)
            version = cache.get(VERSION_KEY)
    except Exception:  # the cache is down: the database still answers
        logger.warning("hello cache unavailable; reading connectors from the database")
        return load(wanted)
    with _lock:
        if version != _version:
            _version, _wires = version, {}
        found = {cid: _wires[cid] for cid in wanted if cid in _wires}
    missing = [cid for cid in wanted if cid not in found]
    if missing:
        # Read after the version: a change committed meanwhile sets a newer token, so what
        # is stored here under the older one is never served again.
        loaded = {wire["id"]: wire for wire in load(missing)}
        with _lock:
            if version == _version:
                _wires.update(loaded)
        found.update(loaded)
    return [found[cid] for cid in wanted if cid in found]


def invalidate() -> None:
    """A connector or its status changed: every process reads them again."""
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    except Exception:
        logger.exception("cannot invalidate the hello cache")


def _changed(**_: Any) -> None:
    transaction.on_commit(invalidate)


def connect_signals() -> None:
    """Called from ``TelephonyConfig.ready()``, so the worker's status writes count too."""
    from ..models import Connector, ConnectorStatus

    for model in (Connector, ConnectorStatus):
        post_save.connect(_changed, sender=model, dispatch_uid=f"hellocache-save-{model.__name__}")
        post_delete.connect(
            _changed, sender=model, dispatch_uid=f"hellocache-delete-{model.__name__}"
        )
