"""Who the other party of a call is, as one line sees it: the one rule the history, the
template tags and the recorder's phone-book match share (the panel's ``otherParty`` in
``static/telephony/js/calls.js`` is its JavaScript twin).

Pure: strings in, a value out. Knows no ORM, no AMI and no socket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Party:
    """A number and the name shown for it (either may be empty)."""

    number: str
    name: str


def other_party(
    *,
    direction: str,
    line: str,
    caller_number: str | None,
    caller_name: str | None,
    callee_number: str | None,
    callee_name: str | None,
) -> Party:
    """The party the line talks to: the callee of an outgoing call or of an internal call
    the line placed, the caller otherwise (incoming, transferred, queue calls)."""
    line_placed_it = direction == "outgoing" or (
        direction == "internal" and (caller_number or "") == line
    )
    if line_placed_it:
        return Party(callee_number or "", callee_name or "")
    return Party(caller_number or "", caller_name or "")


class CallLike(Protocol):
    """What ``party_of`` reads: the ORM ``CallRecord`` and the call model's values have it."""

    @property
    def direction(self) -> str: ...
    @property
    def line(self) -> str: ...
    @property
    def caller_number(self) -> str | None: ...
    @property
    def caller_name(self) -> str | None: ...
    @property
    def callee_number(self) -> str | None: ...
    @property
    def callee_name(self) -> str | None: ...


def party_of(call: CallLike) -> Party:
    """``other_party`` of a call record (ORM row or call-model value)."""
    return other_party(
        direction=str(call.direction),
        line=call.line,
        caller_number=call.caller_number,
        caller_name=call.caller_name,
        callee_number=call.callee_number,
        callee_name=call.callee_name,
    )
