"""The worker's supervisor: follows connector rows, never hammers a PBX that refused it, and
outlives a database connection the server dropped."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from telephony.models import Connector, ConnectorStatus, Extension
from telephony.worker.supervisor import Supervisor
from tests.factories import make_connector
from tests.support.ami_peer import AmiPeer, event_list, strip_greeting
from tests.support.replay import load_capture

MISSED = "asterisk-22/c_inbound_no_answer"


def _office(port: int) -> Connector:
    office: Connector = make_connector(port=port)
    Extension.objects.create(connector=office, number="101", device="PJSIP/101")
    return office


pytestmark = [pytest.mark.django_db(transaction=True)]


async def test_a_refused_login_is_not_retried_until_the_connector_changes(
    ami_peer: AmiPeer,
) -> None:
    ami_peer.answer("CoreShowChannels", event_list([], "CoreShowChannelsComplete"))
    connector: Connector = await sync_to_async(make_connector)(
        port=ami_peer.port, secret="wrong-secret"
    )
    supervisor = Supervisor(only="office", poll=0.2, lease_ttl=1.0)
    task = asyncio.create_task(supervisor.run())
    try:
        await ami_peer.wait_for(lambda: len(ami_peer.sessions) == 1)
        # The runner records Asterisk's refusal as it stops...
        async with asyncio.timeout(10):
            while not await ConnectorStatus.objects.filter(  # noqa: ASYNC110 - polls the database
                connector=connector, last_error__contains="Authentication failed"
            ).aexists():
                await asyncio.sleep(0.05)
        # ...and the supervisor, polling every 0.2 s, never starts another login.
        await asyncio.sleep(1.5)
        assert len(ami_peer.sessions) == 1
        status = await ConnectorStatus.objects.aget(connector=connector)
        assert not status.connected

        connector.secret = ami_peer.secret
        await connector.asave()
        await ami_peer.wait_logged_in(sessions=2, timeout=5)
    finally:
        supervisor.stop()
        await asyncio.wait_for(task, 10)


def _on_postgres() -> bool:
    return str(settings.DATABASES["default"]["ENGINE"]).endswith("postgresql")


def _raw_connection() -> Any:
    """A psycopg connection of the test's own, outside Django: it survives the kill."""
    import psycopg

    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"],
        dbname=db["NAME"],
        autocommit=True,
    )


def _kill_other_backends(raw: Any) -> int:
    rows = raw.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    ).fetchall()
    return len(rows)


def _count(raw: Any, sql: str, *params: Any) -> int:
    return int(raw.execute(sql, params).fetchone()[0])


# PostgreSQL only: pg_terminate_backend is how a real server drops a connection (restart,
# failover, idle timeout). SQLite has no server connection to drop.
if _on_postgres():

    async def test_every_worker_database_user_survives_its_connection_being_killed(
        ami_peer: AmiPeer, tmp_path: Path
    ) -> None:
        """After pg_terminate_backend the supervisor still sees a newly enabled connector,
        the running connector still saves calls, and its lease still holds."""
        ami_peer.answer("CoreShowChannels", event_list([], "CoreShowChannelsComplete"))
        office = await sync_to_async(_office)(ami_peer.port)
        async with AmiPeer() as branch_peer:
            branch_peer.answer("CoreShowChannels", event_list([], "CoreShowChannelsComplete"))
            branch = await sync_to_async(make_connector)(
                name="branch", port=branch_peer.port, enabled=False
            )
            supervisor = Supervisor(poll=0.2, lease_ttl=30)
            task = asyncio.create_task(supervisor.run())
            raw = await asyncio.to_thread(_raw_connection)
            try:
                await ami_peer.wait_for_action("CoreShowChannels")
                await asyncio.sleep(0.5)  # a few polls on the connection we are about to kill
                assert await asyncio.to_thread(_kill_other_backends, raw) >= 2

                # Nothing of the test touches Django's connections from here on: only the
                # worker's own users can notice the kill and must recover by themselves.
                await asyncio.to_thread(
                    raw.execute,
                    "UPDATE telephony_connector SET enabled = true WHERE id = %s",
                    (branch.pk,),
                )
                await branch_peer.wait_logged_in(timeout=10)

                await ami_peer.replay(strip_greeting(load_capture(MISSED)))
                missed = (
                    "SELECT count(*) FROM telephony_callrecord WHERE connector_id = %s "
                    "AND disposition = 'missed'"
                )
                async with asyncio.timeout(10):
                    while not await asyncio.to_thread(_count, raw, missed, office.pk):  # noqa: ASYNC110 - polls the database
                        await asyncio.sleep(0.05)
                assert len(ami_peer.sessions) == 1, "the office connector kept its session"
                held = "SELECT count(*) FROM telephony_workerlease WHERE holder <> ''"
                assert await asyncio.to_thread(_count, raw, held) == 2
            finally:
                supervisor.stop()
                await asyncio.wait_for(task, 15)
                await asyncio.to_thread(raw.close)
