"""Fixtures of the fault-injection suite: a started ``Stack`` with the connector configured
and one worker leading it, and ``finish()`` that ends the calls and compares the history.

The suite runs in the PostgreSQL pass of ``make test`` (the workers and this test share the
database through a proxy the test can cut); on SQLite it fails at once rather than skip.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async

from telephony.models import CallRecord, Extension
from tests.factories import make_connector
from tests.faults.history import Comparison, Window, compare, read_truth
from tests.faults.stack import LINES, Stack, running_stack
from tests.support.daphne import shared_database_env

#: Calls in flight end when the PBX stops; how long the worker may take to save the last.
SETTLE = 20.0


def _database_url() -> str:
    env = shared_database_env()
    url = env.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise RuntimeError("the fault suite needs PostgreSQL: run it with DATABASE_URL=postgres://")
    return url


def _configure(pbx_port: int) -> int:
    connector = make_connector(port=pbx_port)
    for number in LINES:
        Extension.objects.create(connector=connector, number=number, device=f"PJSIP/{number}")
    return int(connector.pk)


@pytest_asyncio.fixture
async def stack(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Stack]:
    """The stack, the connector ``office`` on its PBX link, no worker yet."""
    url = await sync_to_async(_database_url)()
    seed = sum(request.node.name.encode()) % 1000
    async with running_stack(tmp_path, url, seed) as started:
        await sync_to_async(_configure)(started.pbx_link.port)
        try:
            yield started
        finally:
            if request.node.stash.get(FAILED, False):
                print(started.logs())


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


async def _records() -> list[dict[str, Any]]:
    return [dict(record) async for record in CallRecord.objects.values()]


async def finish(stack: Stack, *, blind: tuple[Window, ...] = ()) -> Comparison:
    """Stop the PBX (it hangs up every live call), wait for the history to settle, compare.

    Settled: every leg the worker could know has a closed record, or ``SETTLE`` is over
    (the comparison then says what is missing).
    """
    await asyncio.to_thread(stack.pbx.stop)
    truth = read_truth(stack.pbx.truth)
    since, windows = stack.logins()[0], list(blind)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE
    while loop.time() < deadline:
        result = compare(truth, await _records(), since=since, blind=windows)
        if result.ok:
            break
        await asyncio.sleep(0.25)
    return compare(truth, await _records(), since=since, blind=windows)
