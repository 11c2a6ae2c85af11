"""Worker leases: the fenced database lease (ADR 0003) and the one-machine ``flock`` lease.

The database lease runs against the test pass's real database (SQLite, then PostgreSQL);
the file lease on real files in a temporary folder. Two leases in one process stand for two
workers (their holders differ; a lock file's ``flock`` belongs to the open file).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async

from telephony.models import CallEvent, Connector, WorkerLease
from telephony.worker.leadership import DatabaseLease, FileLease, LeaseLost, lock_file_name
from telephony.worker.recorder import Recorder
from tests.factories import make_connector
from tests.integration.test_recorder import call_events

CHECKOUT_A = "django.db.backends.sqlite3::/home/a/cti/db.sqlite3"
CHECKOUT_B = "django.db.backends.sqlite3::/home/b/cti/db.sqlite3"
MISSED = "asterisk-22/c_inbound_no_answer"


async def _connector() -> Connector:
    connector: Connector = await sync_to_async(make_connector)()
    return connector


async def _expire(connector: Connector) -> None:
    past = datetime.now(tz=UTC) - timedelta(hours=1)
    await WorkerLease.objects.filter(connector=connector).aupdate(expires_at=past)


@pytest.mark.django_db(transaction=True)
async def test_one_database_lease_per_connector_and_each_takeover_raises_the_token() -> None:
    connector = await _connector()
    leader = DatabaseLease(connector.pk, ttl=30)
    standby = DatabaseLease(connector.pk, ttl=30)
    try:
        assert await leader.acquire()
        assert not await standby.acquire()
        assert await leader.renew()
        first = leader.token

        await leader.release()
        assert await standby.acquire()
        assert standby.token is not None and first is not None
        assert standby.token > first
    finally:
        await leader.release()
        await standby.release()


@pytest.mark.django_db(transaction=True)
async def test_a_deposed_leaders_history_write_is_refused_and_its_renewal_fails() -> None:
    connector = await _connector()
    leader = DatabaseLease(connector.pk, ttl=30)
    standby = DatabaseLease(connector.pk, ttl=30)
    events = await sync_to_async(call_events)(MISSED, connector.pk)
    recorder = Recorder(connector.pk, fence=leader.fence)
    try:
        assert await leader.acquire()
        # The leader stalls (a long GC pause, a frozen VM) past its TTL; the standby takes over.
        await _expire(connector)
        assert await standby.acquire()

        with pytest.raises(LeaseLost):
            await sync_to_async(recorder.write)(events)
        assert await CallEvent.objects.acount() == 0
        assert not await leader.renew()

        # The new leader's writes go through.
        saved = await sync_to_async(Recorder(connector.pk, fence=standby.fence).write)(events)
        assert saved
        assert await CallEvent.objects.acount() > 0
    finally:
        await leader.release()
        await standby.release()


@pytest.mark.django_db(transaction=True)
async def test_a_leader_back_from_a_database_outage_renews_before_a_standby_may_take_over() -> None:
    connector = await _connector()
    leader = DatabaseLease(connector.pk, ttl=30)
    standby = DatabaseLease(connector.pk, ttl=30)
    try:
        assert await leader.acquire()
        # Its renewals failed for a while: the lease expired 5 s ago, inside the 15 s grace.
        just_expired = datetime.now(tz=UTC) - timedelta(seconds=5)
        await WorkerLease.objects.filter(connector=connector).aupdate(expires_at=just_expired)

        assert not await standby.acquire()
        assert await leader.renew()
        row = await WorkerLease.objects.aget(connector=connector)
        assert row.token == leader.token
        assert row.expires_at > datetime.now(tz=UTC)
    finally:
        await leader.release()
        await standby.release()


@pytest.mark.django_db(transaction=True)
async def test_a_dead_processs_lease_on_this_host_is_taken_without_waiting_for_the_ttl() -> None:
    connector = await _connector()
    child = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = f"{socket.gethostname()}:{child.stdout.strip()}#deadbeef"
    alive = f"{socket.gethostname()}:{os.getppid()}#cafe0000"
    far = datetime.now(tz=UTC) + timedelta(hours=1)
    await WorkerLease.objects.acreate(connector=connector, holder=alive, token=4, expires_at=far)
    lease = DatabaseLease(connector.pk, ttl=30)
    try:
        assert not await lease.acquire()  # a live process keeps its lease until the TTL

        await WorkerLease.objects.filter(connector=connector).aupdate(holder=dead)
        assert await lease.acquire()
        assert lease.token == 5
    finally:
        await lease.release()


async def test_two_leases_on_one_connector_of_one_database_exclude_each_other(
    tmp_path: Path,
) -> None:
    leader = FileLease(1, directory=tmp_path, scope=CHECKOUT_A)
    standby = FileLease(1, directory=tmp_path, scope=CHECKOUT_A)

    assert await leader.acquire()
    assert not await standby.acquire()
    await leader.release()
    assert await standby.acquire()
    await standby.release()


async def test_the_same_connector_id_in_two_databases_does_not_block(tmp_path: Path) -> None:
    # Two checkouts (or the demo and a test run) each have a connector 1 of their own.
    first = FileLease(1, directory=tmp_path, scope=CHECKOUT_A)
    second = FileLease(1, directory=tmp_path, scope=CHECKOUT_B)

    assert await first.acquire()
    assert await second.acquire()
    await first.release()
    await second.release()


def test_the_lock_file_name_keeps_the_connector_id_and_hides_the_scope() -> None:
    name = lock_file_name(7, CHECKOUT_A)

    assert name.startswith("cti-worker-")
    assert name.endswith("-7.lock")
    assert "home" not in name
    assert name != lock_file_name(7, CHECKOUT_B)
    assert lock_file_name(7) == "cti-worker-7.lock"  # no scope: the name it always had
