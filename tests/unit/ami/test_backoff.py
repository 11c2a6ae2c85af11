"""Reconnect delays: doubling, capped, jittered within the upper half, reset on login."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from telephony.ami.backoff import Backoff


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 (jitter is no cryptography; seeds make it repeatable)


def test_delays_double_until_the_cap_and_restart_after_reset() -> None:
    backoff = Backoff(0.5, 4.0, rng=seeded(7))
    nominal = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    delays = [backoff.next_delay() for _ in nominal]
    assert all(n / 2 <= d <= n for n, d in zip(nominal, delays, strict=True))
    assert backoff.failures == len(nominal)
    backoff.reset()
    assert backoff.failures == 0 and backoff.next_delay() <= 0.5


def test_jitter_spreads_workers_that_fail_together() -> None:
    first = [Backoff(1.0, 30.0, rng=seeded(seed)).next_delay() for seed in range(20)]
    assert len(set(first)) == 20


@given(
    initial=st.floats(0.001, 10),
    factor=st.floats(1, 100),
    failures=st.integers(0, 200),
    seed=st.integers(0, 2**32),
)
def test_a_delay_is_never_above_the_cap_nor_below_half_the_initial(
    initial: float, factor: float, failures: int, seed: int
) -> None:
    backoff = Backoff(initial, initial * factor, rng=seeded(seed))
    for _ in range(failures):
        backoff.next_delay()
    assert initial / 2 <= backoff.next_delay() <= initial * factor
