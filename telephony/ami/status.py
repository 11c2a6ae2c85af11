"""What a worker shows about its AMI link: up or down, since when, and why.

A snapshot value; the client builds a fresh one on each read, so holders never see it change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """The AMI link of one connector at one moment."""

    #: Logged in and able to send actions.
    connected: bool
    #: When ``connected`` last changed (or the client started), UTC.
    since: datetime | None
    #: The last reason the link dropped or failed, for an admin to read.
    last_error: str | None
    #: When the last ordinary event arrived, UTC: a quiet PBX and a stuck reader differ here.
    last_event_at: datetime | None
    #: Round trip of the last ``Ping``, seconds: how far behind Asterisk's queue we read.
    ping_round_trip: float | None
    #: Consecutive sessions that failed, or ended before their first Pong proved them.
    failed_attempts: int
    #: Events received and not yet taken by the consumer.
    queued_events: int
    #: The client gave up for good (refused login); it needs new settings, not time.
    stopped_permanently: bool
