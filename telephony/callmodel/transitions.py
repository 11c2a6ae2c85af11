"""The AMI-to-call-event mapping as data (h11's EVENT_TRIGGERED_TRANSITIONS idea).

``docs/call-events.md`` shows this table (``test_wire_schema.py`` keeps the two equal). It
documents the tracker; it does not drive it: the per-topic handlers (``dialing.py``,
``bridging.py``, ``holding.py``, ``transfers.py``, ``queues.py``, ``hangups.py``) with the
lifecycle (``lifecycle.py``) and the consultations (``consults.py``) implement these rows by
hand, dispatched by fact type in ``tracker.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .events import (
    AbonentBusy,
    CallInfoChanged,
    CallTransferred,
    CommutationStarted,
    EndHoldAction,
    LineEvent,
    LineStateChanged,
    PutHoldAction,
    RingFinished,
    RingStarted,
)


@dataclass(frozen=True, slots=True)
class Transition:
    """One row: a call event, when it is sent, and the AMI events that cause it."""

    event: type[LineEvent]
    when: str
    modern: tuple[str, ...]  # Asterisk 12+ (13/16/18/20/22)
    legacy: tuple[str, ...]  # Asterisk 1.8/11


TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        RingStarted,
        "a line starts ringing or dialling (once per call and line), or starts a consultation",
        (
            "DialBegin",
            "AgentCalled",
            "Newchannel Ring",
            "Newstate Ringing",
            "VarSet DIALSTATUS",
            "BridgeEnter of the operator away from its party",
        ),
        (
            "Dial SubEvent: Begin",
            "AgentCalled",
            "Newstate Ring",
            "Newstate Ringing",
            "Dial SubEvent: End CHANUNAVAIL",
            "Bridge Link of the operator with a Local channel",
        ),
    ),
    Transition(
        CommutationStarted,
        "the line is connected to the other party (once)",
        ("Newstate Up", "DialEnd ANSWER", "BridgeEnter"),
        ("Newstate Up", "Bridge Bridgestate: Link"),
    ),
    Transition(
        PutHoldAction,
        "the operator's phone or the other party holds (counted once), or the call is parked",
        ("Hold", "ParkedCall"),
        ("Hold Status: On", "ParkedCall"),
    ),
    Transition(
        EndHoldAction,
        "the last hold ends, or the parked call is taken back by the same line",
        ("Unhold", "UnParkedCall"),
        ("Hold Status: Off", "UnParkedCall"),
    ),
    Transition(
        AbonentBusy,
        "the party the line dialled is busy",
        ("DialEnd BUSY",),
        ("Dial SubEvent: End BUSY",),
    ),
    Transition(
        CallTransferred,
        "the line hands the call on (then RingFinished transferred)",
        (
            "BlindTransfer",
            "AttendedTransfer",
            "UnParkedCall by another line",
            "BridgeEnter joining the held party and the consulted side",
            "Hangup of the consulting operator",
        ),
        (
            "Transfer",
            "UnParkedCall by another line",
            "Masquerade + Bridge Link of the held party and the consulted side",
            "Hangup of the consulting operator",
        ),
    ),
    Transition(
        CallInfoChanged,
        "the shown caller/callee or the direction changes",
        ("NewCallerid", "NewConnectedLine", "Newstate", "DialBegin", "OriginateResponse"),
        ("NewCallerid", "Newstate", "Dial SubEvent: Begin", "OriginateResponse"),
    ),
    Transition(
        RingFinished,
        "the call ends for that line (exactly once; nothing follows it)",
        (
            "Hangup",
            "BlindTransfer",
            "AttendedTransfer",
            "another line answered",
            "CoreShowChannelsComplete without the channel",
            "VarSet DIALSTATUS CHANUNAVAIL",
        ),
        (
            "Hangup",
            "Transfer",
            "another line answered",
            "CoreShowChannelsComplete without the channel",
            "Dial SubEvent: End CHANUNAVAIL",
        ),
    ),
    Transition(
        LineStateChanged,
        "after each batch of transitions on a line (its CallFeaturesSet), and when its "
        "queue membership is paused or unpaused",
        ("QueueMemberPause",),
        ("QueueMemberPaused",),
    ),
)


def markdown_table() -> str:
    """The table as Markdown, for docs/call-events.md."""
    rows = [
        "| call event | code | when | Asterisk 12+ | Asterisk 1.8/11 |",
        "|---|---|---|---|---|",
    ]
    for row in TRANSITIONS:
        code = "" if row.event.code is None else str(row.event.code)
        rows.append(
            f"| `{row.event.__name__}` | {code} | {row.when} | "
            f"{', '.join(f'`{name}`' for name in row.modern)} | "
            f"{', '.join(f'`{name}`' for name in row.legacy)} |"
        )
    return "\n".join(rows)
