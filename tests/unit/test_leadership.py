"""The one-process worker lease (an ``flock`` file): exclusive per connector and database.

Real files in a temporary folder, two leases in one process (``flock`` locks belong to the
open file, so two handles of one process exclude each other as two processes would).
"""

from __future__ import annotations

from pathlib import Path

from telephony.worker.leadership import FileLease, lock_file_name

CHECKOUT_A = "django.db.backends.sqlite3::/home/a/cti/db.sqlite3"
CHECKOUT_B = "django.db.backends.sqlite3::/home/b/cti/db.sqlite3"


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
