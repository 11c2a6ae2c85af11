"""From ``Connector`` rows to the frozen configs the worker takes, and a login probe.

The only place that reads a connector's secret for use; nothing here logs it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from .ami import AmiConnectionLost, AmiError
from .ami.config import AmiConfig
from .ami.connection import AmiConnection
from .config import ConnectorConfig
from .models import Connector


def config_for(connector: Connector) -> AmiConfig:
    """The AMI settings of a connector row."""
    return AmiConfig(
        host=connector.host,
        port=connector.port,
        username=connector.username,
        secret=connector.secret,
        use_md5=connector.use_md5,
        fallback_encoding=connector.fallback_encoding or None,
        ping_interval=connector.ping_interval,
        ping_timeout=connector.ping_timeout,
    )


def connector_config(connector: Connector) -> ConnectorConfig:
    """Everything the worker and the command builder need of a connector and its lines."""
    lines = {ext.number: ext.device_name for ext in connector.extensions.all()}
    return ConnectorConfig(
        id=connector.pk,
        name=connector.name,
        ami=config_for(connector),
        dialect=connector.dialect,
        originate_context=connector.originate_context,
        outbound_dial_pattern=connector.outbound_dial_pattern,
        channel_template=connector.channel_template,
        hold_method=connector.hold_method,
        answer_method=connector.answer_method,
        parking_lot=connector.parking_lot,
        lines=lines,
    )


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What a login attempt found: ``ok`` and Asterisk's own words."""

    ok: bool
    message: str


async def probe(config: AmiConfig, *, timeout: float = 5.0) -> ProbeResult:
    """Connect, log in and log off once; report success or Asterisk's error."""
    try:
        async with asyncio.timeout(timeout):
            connection = await AmiConnection.open(config)
            reader = asyncio.create_task(connection.read_loop(lambda _event: None))
            try:
                greeting = await connection.login()
                await connection.logoff(1.0)
            finally:
                await connection.aclose(AmiConnectionLost("probe finished"))
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
    except TimeoutError:
        return ProbeResult(False, f"no answer from {config.address} within {timeout:g}s")
    except AmiError as error:
        return ProbeResult(False, str(error))
    return ProbeResult(True, f"logged in to {config.address} ({greeting.text})")
