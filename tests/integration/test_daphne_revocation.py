"""Logging out through a real daphne closes the panel socket held open on another daphne
process, over the production Redis layer: the logout view's signal crosses processes."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from telephony.models import Extension
from tests.conftest import TEST_REDIS_URL
from tests.factories import make_connector
from tests.support.daphne import (
    DaphneServer,
    running_daphne,
    session_cookie,
    shared_database_env,
    websocket_options,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


@pytest.fixture
def two_daphnes() -> Iterator[tuple[DaphneServer, DaphneServer]]:
    env = {**shared_database_env(), "REDIS_URL": TEST_REDIS_URL}
    with running_daphne(env) as first, running_daphne(env) as second:
        yield first, second


def make_alice() -> str:
    connector = make_connector()
    alice = User.objects.create_user("alice")
    Extension.objects.create(connector=connector, number="101", operator=alice)
    return session_cookie(alice)


def fetch(
    server: DaphneServer, path: str, cookies: dict[str, str], **post: str
) -> tuple[int, str, bytes]:
    """A GET, or a POST of the CSRF-protected form when ``post`` is given, not following
    redirects: (status, Set-Cookie, body)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
    data = None
    if post:
        headers["X-CSRFToken"] = cookies["csrftoken"]
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        data = "&".join(f"{key}={value}" for key, value in post.items()).encode()
    request = urllib.request.Request(server.url(path), data=data, headers=headers)  # noqa: S310
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, answer.headers.get("Set-Cookie", ""), answer.read()
    except urllib.error.HTTPError as answer:  # the 302 without a redirect handler
        with answer:
            return answer.code, answer.headers.get("Set-Cookie", ""), answer.read()


async def closed_with(ws: Any) -> int | None:
    """Read until the server closes; its close code."""
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(10):
            while True:  # other test runs' messages may come first (pub/sub ignores the db)
                await ws.recv()
    code: int | None = ws.close_code
    return code


async def test_logout_on_one_daphne_closes_the_socket_on_another_with_4410(
    two_daphnes: tuple[DaphneServer, DaphneServer],
) -> None:
    web, sockets = two_daphnes
    session = await sync_to_async(make_alice)()
    async with connect(sockets.ws_url(), **websocket_options(sockets, session)) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert hello["type"] == "hello"
        _, set_cookie, _ = await asyncio.to_thread(
            fetch, web, "/accounts/login/", {"sessionid": session}
        )
        jar = SimpleCookie(set_cookie)
        csrf = jar["csrftoken"].value
        assert re.fullmatch(r"[A-Za-z0-9]{32}", csrf)
        cookies = {"sessionid": session, "csrftoken": csrf}
        status, _, body = await asyncio.to_thread(
            fetch, web, "/accounts/logout/", cookies, next="/"
        )
        assert status == 302, body[:300]
        assert await closed_with(ws) == 4410
    # The session is gone: the panel's reconnect is refused as not logged in.
    async with connect(sockets.ws_url(), **websocket_options(sockets, session)) as again:
        assert await closed_with(again) == 4401
