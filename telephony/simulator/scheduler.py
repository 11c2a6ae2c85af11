"""When the simulated PBX starts calls on its own: every few seconds or at a fixed rate.

Picks the scenario, lines and customer from the seeded generator, so ``--seed`` repeats
a run. Knows no sockets and no event shapes; it only calls ``start``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence

from .scenarios import Kind

logger = logging.getLogger(__name__)

#: How often each scenario comes up in the demo (answered calls are the common case).
WEIGHTS: dict[Kind, int] = {
    Kind.INBOUND: 4,
    Kind.HOLD: 2,
    Kind.MISSED: 2,
    Kind.BUSY: 1,
    Kind.QUEUE: 3,
    Kind.OUTBOUND: 2,
    Kind.TRANSFER: 2,
}

#: ``start(kind, line)``: begins one call; the schedule never waits for it to end.
Start = Callable[[Kind, str], object]
#: ``is_busy(line)``: the line has a live channel (the demo leaves busy operators alone).
IsBusy = Callable[[str], bool]


class Schedule:
    """Starts a scenario every ``interval`` seconds until cancelled."""

    def __init__(
        self,
        start: Start,
        is_busy: IsBusy,
        rng: random.Random,
        lines: Sequence[str],
        *,
        interval: float,
        skip_busy_lines: bool = True,
    ) -> None:
        if interval <= 0:
            raise ValueError("the schedule interval must be positive")
        self.start = start
        self.is_busy = is_busy
        self.rng = rng
        self.lines = list(lines)
        self.interval = interval
        self.skip_busy_lines = skip_busy_lines
        self.started = 0

    def pick(self) -> tuple[Kind, str]:
        """The next scenario and the line it concerns (drawn even when it is then skipped)."""
        kinds = [kind for kind in WEIGHTS if kind is not Kind.TRANSFER or len(self.lines) > 1]
        kind = self.rng.choices(kinds, weights=[WEIGHTS[k] for k in kinds])[0]
        return kind, self.rng.choice(self.lines)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            kind, line = self.pick()
            lines = self.lines if kind is Kind.QUEUE else [line]
            if self.skip_busy_lines and any(self.is_busy(one) for one in lines):
                logger.debug("schedule: %s on %s skipped, the line is busy", kind, line)
            else:
                self.started += 1
                self.start(kind, line)
            next_at += self.interval
            await asyncio.sleep(max(0.0, next_at - loop.time()))
