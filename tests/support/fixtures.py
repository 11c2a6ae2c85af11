"""Pytest fixtures over the test AMI peer; ``tests/conftest.py`` imports them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.support.ami_peer import AmiPeer


@pytest_asyncio.fixture
async def ami_peer() -> AsyncIterator[AmiPeer]:
    """A started AMI peer on 127.0.0.1 (user ``cti``, secret ``s3cret``), stopped after."""
    async with AmiPeer() as peer:
        yield peer
