"""The socket's session and user, resolved by the consumer after it accepted the socket.

Channels' ``AuthMiddlewareStack`` reads the user before the consumer runs, on the one
database thread every ``database_sync_to_async`` call of the process shares, while daphne's
handshake timeout runs. ``LazyAuthMiddlewareStack`` only puts an unresolved user in the scope
(reading it early raises ``ValueError``); the consumer calls ``resolve_user`` on its own
pool (``admission``), after ``accept()``. Same session rules as Channels' (the session hash
must match, or the user is anonymous).
"""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddleware, get_user
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.utils.functional import LazyObject, empty

from . import hellocache, queries


class LazyAuthMiddleware(AuthMiddleware):  # type: ignore[misc]  # channels is untyped
    """``scope["user"]`` stays a lazy object until ``resolve_user(scope)``."""

    async def resolve_scope(self, scope: dict[str, Any]) -> None:
        return None


def LazyAuthMiddlewareStack(inner: Any) -> Any:  # noqa: N802 - named like Channels' stack
    return CookieMiddleware(SessionMiddleware(LazyAuthMiddleware(inner)))


def resolve_user(scope: dict[str, Any]) -> Any:
    """Read the session and its user (synchronous: run it off the event loop)."""
    user = scope.get("user")
    if not isinstance(user, LazyObject):
        return user  # set by an outer middleware or a test
    lazy: Any = user
    if lazy._wrapped is empty:
        lazy._wrapped = get_user.func(scope)
    return lazy._wrapped


def open_audience(scope: dict[str, Any], supervise: bool) -> tuple[Any, queries.Audience | None]:
    """The socket's user and what it sees (``None``: nothing); one trip off the loop."""
    user = resolve_user(scope)
    if user is None or not user.is_authenticated:
        return user, None
    return user, hellocache.audience(user, supervise, queries.load_audience)
