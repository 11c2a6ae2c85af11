"""The worker's supervisor: follows connector rows, and never hammers a PBX that refused it."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from telephony.models import Connector, ConnectorStatus
from telephony.worker.supervisor import Supervisor
from tests.factories import make_connector
from tests.support.ami_peer import AmiPeer, event_list

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
