"""Reconnect delays: exponential growth with jitter, capped.

Knows nothing of sockets or clocks; the client sleeps for what it returns.
"""

from __future__ import annotations

import random


class Backoff:
    """``initial * 2**n`` capped at ``maximum``, each delay drawn from its upper half.

    "Equal jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): spreads the
    reconnects of many workers after a PBX restart, yet never retries sooner than half
    the nominal delay.
    """

    def __init__(self, initial: float, maximum: float, *, rng: random.Random | None = None) -> None:
        self._initial = initial
        self._maximum = maximum
        self._failures = 0
        # Jitter is not cryptography; a seeded Random keeps tests repeatable.
        self._rng = rng or random.Random()  # noqa: S311

    @property
    def failures(self) -> int:
        """Consecutive failures since the last ``reset()``."""
        return self._failures

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        nominal = min(self._maximum, self._initial * 2.0 ** min(self._failures, 32))
        self._failures += 1
        return nominal / 2 + self._rng.uniform(0, nominal / 2)

    def reset(self) -> None:
        """Start over from ``initial`` (after a successful login)."""
        self._failures = 0
