"""A line's state as the panel, the directory and the supervisor page show it.

One rule (the JavaScript twin is ``static/telephony/js/linestate.js``): a line with a live
call past ringing is busy; else with a ringing call, ringing; else do-not-disturb if its DND
is on; else idle. DND never hides a call: a line on the phone is busy whatever its switch.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class LineState(enum.StrEnum):
    IDLE = "idle"
    RINGING = "ringing"
    BUSY = "busy"
    DND = "dnd"


def line_state(call_states: Iterable[str], *, dnd: bool) -> LineState:
    """The state of a line from the states of its live calls (``CallState`` values)."""
    states = list(call_states)
    if any(state != "ringing" for state in states):
        return LineState.BUSY
    if states:
        return LineState.RINGING
    return LineState.DND if dnd else LineState.IDLE
