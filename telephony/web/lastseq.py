"""The newest stored ``seq`` of every line, per connector, for the panel's periodic audit
(``QueryLastSeq``): one query per connector at most every ``CTI_LAST_SEQ_MAX_AGE`` seconds
per event loop, however many sockets ask, instead of one per socket and audit.

The audit compares what a panel applied with what the server had stored one audit earlier
(static/telephony/js/sequence.js), so an answer up to ``CTI_LAST_SEQ_MAX_AGE`` old only
delays the catch-up of a lost event by that much; it never invents a loss, and the numbers
come from the database, not from the events this process relayed (a loss on the way to
this process is what the audit must see). Knows no sockets; reads through ``queries`` on
the hello pool (``admission.off_loop``).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass

from . import admission, queries
from .protocol import line_key


@dataclass(frozen=True, slots=True)
class _Read:
    seqs: dict[str, int]  # line -> newest stored seq (0: none yet), every extension
    at: float  # monotonic time the query was started


class LastSeqCache:
    """One event loop's reads, and the ones under way (each connector read once at a time)."""

    def __init__(self) -> None:
        self.reads: dict[int, _Read] = {}
        self.reading: dict[int, asyncio.Task[_Read]] = {}

    async def for_audience(self, audience: queries.Audience) -> dict[str, int]:
        """``{"3:101": 57}`` for the lines the socket sees, as the hello's ``last_seq``."""
        result: dict[str, int] = {}
        own = {(line.connector_id, line.number) for line in audience.lines}
        for connector_id in audience.connector_ids:
            seqs = (await self._connector(connector_id)).seqs
            if connector_id in audience.supervised:
                result.update((line_key(connector_id, n), seq) for n, seq in seqs.items())
            for cid, number in own:
                if cid == connector_id:
                    result[line_key(cid, number)] = seqs.get(number, 0)
        return result

    async def _connector(self, connector_id: int) -> _Read:
        found = self.reads.get(connector_id)
        max_age = admission.setting("CTI_LAST_SEQ_MAX_AGE", 10)
        if found is not None and time.monotonic() - found.at < max_age:
            return found
        task = self.reading.get(connector_id)
        if task is None:
            task = asyncio.ensure_future(self._read(connector_id))
            # Retrieved here too: a failure whose askers all left is not logged as lost.
            task.add_done_callback(lambda done: done.cancelled() or done.exception())
            self.reading[connector_id] = task
        return await asyncio.shield(task)

    async def _read(self, connector_id: int) -> _Read:
        try:
            started = time.monotonic()
            seqs = await admission.off_loop(queries.connector_last_sequences, connector_id)
            read = self.reads[connector_id] = _Read(seqs, started)
            return read
        finally:
            del self.reading[connector_id]


_caches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LastSeqCache] = (
    weakref.WeakKeyDictionary()
)


def cache() -> LastSeqCache:
    """The running loop's cache."""
    loop = asyncio.get_running_loop()
    found = _caches.get(loop)
    if found is None:
        found = _caches[loop] = LastSeqCache()
    return found
