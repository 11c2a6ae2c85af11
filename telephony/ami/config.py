"""How to reach and talk to one Asterisk manager: address, credentials and timings.

A frozen value built by the worker from a ``Connector`` row; knows no ORM. Its ``repr``
masks the secret, so logging the config can never leak it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AmiConfig:
    """Connection settings for one PBX; timings are in seconds."""

    host: str
    port: int = 5038
    username: str = ""
    secret: str = field(default="", repr=False)
    #: Send ``Challenge`` and log in with ``Key = md5(challenge + secret)``, so the secret
    #: never crosses the wire (Asterisk's ``AuthType: md5``).
    use_md5: bool = False
    #: For caller names a PBX sends in a legacy code page (cp1251...) instead of UTF-8.
    fallback_encoding: str | None = None
    connect_timeout: float = 5.0
    action_timeout: float = 10.0
    #: A silent link is noticed within ``ping_interval + ping_timeout`` (issue #10: <= 10 s).
    ping_interval: float = 5.0
    ping_timeout: float = 5.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    #: Events waiting for the consumer before the client gives up on it and reconnects.
    #: 50k is about two seconds of a saturated Asterisk (DESIGN: 22-23k events/s).
    max_queued_events: int = 50_000

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "action_timeout", "ping_interval", "ping_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"AmiConfig.{name} must be positive")
        if not 0 < self.backoff_initial <= self.backoff_max:
            raise ValueError("AmiConfig needs 0 < backoff_initial <= backoff_max")

    def __repr__(self) -> str:
        return (
            f"AmiConfig(host={self.host!r}, port={self.port}, username={self.username!r}, "
            f"secret='***', use_md5={self.use_md5})"
        )

    @property
    def address(self) -> str:
        """``host:port`` for log lines."""
        return f"{self.host}:{self.port}"
