"""The one line-state rule (``telephony.linestate``; ``linestate.js`` is its twin)."""

from __future__ import annotations

import pytest

from telephony.linestate import LineState, line_state


@pytest.mark.parametrize(
    ("calls", "dnd", "expected"),
    [
        ([], False, LineState.IDLE),
        ([], True, LineState.DND),
        (["ringing"], False, LineState.RINGING),
        (["ringing"], True, LineState.RINGING),
        (["connected"], True, LineState.BUSY),
        (["held"], False, LineState.BUSY),
        (["busy"], False, LineState.BUSY),
        (["ringing", "connected"], False, LineState.BUSY),
        (["ringing", "ringing"], False, LineState.RINGING),
    ],
)
def test_a_line_is_busy_before_ringing_before_dnd_before_idle(
    calls: list[str], dnd: bool, expected: LineState
) -> None:
    assert line_state(calls, dnd=dnd) is expected


def test_the_states_are_the_wire_strings() -> None:
    assert [str(state) for state in LineState] == ["idle", "ringing", "busy", "dnd"]
