"""Plain keyword-only factories for the rows and values tests need; defaults are a working PBX."""

from __future__ import annotations

import datetime as dt
from typing import Any

from telephony.ami.config import AmiConfig
from telephony.config import ConnectorConfig

#: The start of every made-up call: a fixed instant, so tests never read the clock.
CALL_START = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def make_connector_config(
    *,
    dialect: str = "12",
    hold_method: str = "park",
    answer_method: str = "none",
    parking_lot: str = "",
    outbound_dial_pattern: str = r"^\+?[0-9*#]{2,20}$",
    channel_template: str = "PJSIP/{ext}",
    lines: dict[str, str] | None = None,
    secret: str = "s3cret",  # noqa: S107 (the AMI test peer's own secret)
) -> ConnectorConfig:
    """A connector's frozen config, Asterisk 12+ with parking unless told otherwise."""
    return ConnectorConfig(
        id=1,
        name="office",
        ami=AmiConfig(host="127.0.0.1", username="cti", secret=secret),
        dialect=dialect,
        originate_context="from-internal",
        outbound_dial_pattern=outbound_dial_pattern,
        channel_template=channel_template,
        hold_method=hold_method,
        answer_method=answer_method,
        parking_lot=parking_lot,
        lines=lines or {},
    )


def make_connector(
    *,
    name: str = "office",
    host: str = "127.0.0.1",
    port: int = 5038,
    username: str = "cti",
    secret: str = "s3cret",  # noqa: S107 (the AMI test peer's own secret)
    **fields: Any,
) -> Any:
    """A saved ``Connector`` row (needs the database)."""
    from telephony.models import Connector

    return Connector.objects.create(
        name=name, host=host, port=port, username=username, secret=secret, **fields
    )


def make_call_record(
    *,
    connector: Any,
    call_id: str = "1772443800.41",
    line: str = "101",
    direction: str = "incoming",
    disposition: str = "answered",
    caller_number: str = "+15551230001",
    callee_number: str = "101",
    started_at: dt.datetime = CALL_START,
    **fields: Any,
) -> Any:
    """A saved ``CallRecord`` row (needs the database)."""
    from telephony.models import CallRecord

    return CallRecord.objects.create(
        connector=connector,
        call_id=call_id,
        line=line,
        direction=direction,
        disposition=disposition,
        caller_number=caller_number,
        callee_number=callee_number,
        started_at=started_at,
        **fields,
    )
