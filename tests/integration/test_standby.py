"""Two real ``ami_worker`` processes on one connector: one leads, the other stands by and
takes over when the leader is SIGKILLed; no call record is lost or duplicated. The lease is
the database's (ADR 0003); Redis is only the channel layer here."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from telephony.models import CallRecord, Extension
from tests.conftest import TEST_REDIS_URL
from tests.factories import make_connector
from tests.support.ami_peer import AmiPeer, event_list, strip_greeting
from tests.support.daphne import shared_database_env
from tests.support.replay import load_capture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
TTL = 1.0
MISSED = "asterisk-22/c_inbound_no_answer"


def _setup(port: int) -> int:
    connector = make_connector(port=port)
    Extension.objects.create(connector=connector, number="101", device="PJSIP/101")
    return int(connector.pk)


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:  # the child keeps its own copy of the descriptor
        return _spawn(env, output)


def _spawn(env: dict[str, str], output: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own manage.py with fixed arguments
        [
            sys.executable,
            "manage.py",
            "ami_worker",
            "--connector",
            "office",
            "--lease-ttl",
            str(TTL),
            "--poll",
            "0.5",
        ],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )


async def _records(**filters: Any) -> int:
    return await CallRecord.objects.filter(**filters).acount()


async def _wait_records(count: int, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while await _records() < count:  # noqa: ASYNC110 - polls the database
            await asyncio.sleep(0.05)


async def test_standby_takes_over_after_the_leader_is_killed(
    ami_peer: AmiPeer, tmp_path: Path
) -> None:
    ami_peer.answer("CoreShowChannels", event_list([], "CoreShowChannelsComplete"))
    await sync_to_async(_setup)(ami_peer.port)
    env = {
        **os.environ,
        **await sync_to_async(shared_database_env)(),
        "REDIS_URL": TEST_REDIS_URL,
        "LOG_LEVEL": "INFO",
    }
    leader = _start_worker(env, tmp_path / "leader.log")
    standby: subprocess.Popen[bytes] | None = None
    try:
        await ami_peer.wait_logged_in(timeout=20)
        standby = _start_worker(env, tmp_path / "standby.log")
        await asyncio.sleep(4 * TTL + 2)  # long enough for the standby to start and try
        assert len(ami_peer.sessions) == 1, "only the leader may ever connect"

        capture = strip_greeting(load_capture(MISSED))
        await ami_peer.replay(capture)
        await _wait_records(1)

        leader.send_signal(signal.SIGKILL)
        leader.wait(5)
        # The standby sees the lease expire (TTL) and logs in: within twice the TTL, plus
        # the PBX login round trip.
        await ami_peer.wait_logged_in(sessions=2, timeout=2 * TTL + 3)
        await ami_peer.wait_for_action("CoreShowChannels", count=2)
        await ami_peer.replay(capture.replace(b"ctilab-", b"second-"))
        await _wait_records(2)
        await asyncio.sleep(0.5)
        assert await _records() == 2
        assert await _records(disposition="missed", line="101") == 2

        standby.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(standby.wait, 15) == 0
        output = (tmp_path / "standby.log").read_text()
        assert "ami_worker stopped: office: leader" in output
        await ami_peer.wait_for_action("Logoff")
    finally:
        for process in (leader, standby):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(5)


async def test_a_frozen_leader_is_replaced_and_on_waking_writes_nothing_and_logs_off(
    ami_peer: AmiPeer, tmp_path: Path
) -> None:
    """SIGSTOP: the leader's process lives but renews nothing (a frozen VM, a long GC pause).
    The standby waits out the TTL and its grace, takes over and records the next call; the
    old leader, woken, finds its lease gone, logs off and writes nothing."""
    ami_peer.answer("CoreShowChannels", event_list([], "CoreShowChannelsComplete"))
    await sync_to_async(_setup)(ami_peer.port)
    env = {
        **os.environ,
        **await sync_to_async(shared_database_env)(),
        "REDIS_URL": TEST_REDIS_URL,
        "LOG_LEVEL": "INFO",
    }
    leader = _start_worker(env, tmp_path / "leader.log")
    standby: subprocess.Popen[bytes] | None = None
    try:
        await ami_peer.wait_logged_in(timeout=20)
        standby = _start_worker(env, tmp_path / "standby.log")
        await asyncio.sleep(4 * TTL + 2)  # long enough for the standby to start and try
        assert len(ami_peer.sessions) == 1, "only the leader may ever connect"

        leader.send_signal(signal.SIGSTOP)
        # Expiry (TTL) plus the incumbent's grace (TTL/2) plus one standby retry (TTL/3),
        # plus the PBX login round trip.
        await ami_peer.wait_logged_in(sessions=2, timeout=2 * TTL + 3)
        await ami_peer.wait_for_action("CoreShowChannels", count=2)
        await ami_peer.replay(strip_greeting(load_capture(MISSED)))
        await _wait_records(1)

        leader.send_signal(signal.SIGCONT)
        first = ami_peer.sessions[0]
        await ami_peer.wait_for(lambda: any(a.name == "Logoff" for a in first.actions))
        assert leader.poll() is None, "the old leader stays up, as a standby"
        assert not any(a.name == "Logoff" for a in ami_peer.sessions[1].actions)
        assert await _records() == 1
        assert await _records(disposition="missed", line="101") == 1
        assert "lost the worker lease" in (tmp_path / "leader.log").read_text()
    finally:
        for process in (leader, standby):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.kill()
                process.wait(5)
