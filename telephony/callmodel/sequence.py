"""Per-line sequence numbers: the one rule for ``seq``, used by the recorder and by replay.

A stored call event takes the line's next number; a line-level message (``LineStateChanged``)
and a recomputed snapshot carry the line's last number and add none. The worker's recorder is
the only owner of the numbers it publishes (it starts each line from the database and skips
duplicates before numbering); ``replay`` numbers the same way without a database. Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Events that are not part of a call's history (line-level or recomputed snapshots).
NOT_STORED = frozenset({"ActiveCallSnapshot", "LineStateChanged"})


def is_stored(wire: dict[str, Any]) -> bool:
    """True for a call event that the history keeps (and that takes a new number)."""
    return bool(wire.get("call_id")) and wire.get("event") not in NOT_STORED


class LineSequences:
    """The last number handed out per line; ``start(line)`` gives a line's first base."""

    __slots__ = ("_last", "_start")

    def __init__(self, start: Callable[[str], int] | None = None) -> None:
        self._last: dict[str, int] = {}
        self._start = start

    def last(self, line: str) -> int:
        """The line's last number handed out (0 before any, without asking ``start``)."""
        return self._last.get(line, 0)

    def next(self, line: str) -> int:
        last = self._last.get(line)
        if last is None:
            last = self._start(line) if self._start is not None else 0
        self._last[line] = last + 1
        return last + 1

    def stamp(self, wire: dict[str, Any]) -> dict[str, Any]:
        """Set ``wire["seq"]`` by the rule above; returns ``wire``."""
        line = wire["line"]
        wire["seq"] = self.next(line) if is_stored(wire) else self.last(line)
        return wire

    def save(self) -> dict[str, int]:
        """The numbers so far, to ``restore`` after a rolled-back write (no gap, no reuse)."""
        return dict(self._last)

    def restore(self, saved: dict[str, int]) -> None:
        self._last = dict(saved)
