"""The queue board from real Asterisk 22 and 11 captures (e_queue_ringall, the QueueStatus of
j2/k2) and from the documented shapes of the events those captures lack."""

from __future__ import annotations

import pytest

from telephony.ami import AmiParser, Event
from telephony.callmodel.queueboard import QueueBoard
from tests.support.replay import load_capture


def events(name: str) -> list[Event]:
    packets = AmiParser().feed(load_capture(name)) + AmiParser().feed(b"")
    return [packet for packet in packets if isinstance(packet, Event)]


def waiting(board: QueueBoard) -> list[str]:
    return [c["number"] for q in board.wire() for c in q["callers"]]


@pytest.mark.parametrize("dialect", ["22", "11"])
def test_a_ringall_caller_waits_from_join_to_leave(dialect: str) -> None:
    board = QueueBoard()
    seen = [
        waiting(board)
        for event in events(f"asterisk-{dialect}/e_queue_ringall")
        if board.apply(event, 100.0)
    ]
    assert ["+15551230001"] in seen  # while the members rang
    assert waiting(board) == []  # answered by Bob: no longer waiting
    [support] = board.wire()
    assert support["queue"] == "support"
    members = {m["interface"]: m for m in support["members"]}
    tech = "SIP" if dialect == "11" else "PJSIP"
    assert members[f"{tech}/101"]["name"] == "Operator Alice"
    assert not members[f"{tech}/101"]["paused"]


@pytest.mark.parametrize(
    ("capture", "action_id", "tech"),
    [
        ("asterisk-22/j_ami_behaviours/j2_actions", "cti-8", "PJSIP"),
        ("asterisk-11/k_ami_behaviours/k2_actions", "cti-9", "SIP"),
    ],
)
def test_the_login_listing_replaces_the_board(capture: str, action_id: str, tech: str) -> None:
    board = QueueBoard()
    stale = Event.from_fields([("Event", "QueueCallerJoin"), ("Queue", "old"), ("Uniqueid", "1")])
    board.apply(stale, 1.0)
    board.expect_listing(action_id)
    changed = [board.apply(event, 50.0) for event in events(capture)]
    assert changed.count(True) == 1  # only at QueueStatusComplete
    [support] = board.wire()
    assert support["queue"] == "support"
    assert [m["interface"] for m in support["members"]] == [f"{tech}/101", f"{tech}/102"]
    assert [m["name"] for m in support["members"]] == ["Operator Alice", "Operator Bob"]
    assert support["callers"] == []


def _event(*fields: tuple[str, str]) -> Event:
    return Event.from_fields(list(fields))


def test_a_listed_entry_dates_its_wait_back_from_now() -> None:
    board = QueueBoard()
    board.expect_listing("q1")
    board.apply(
        _event(
            ("Event", "QueueEntry"),
            ("Queue", "sales"),
            ("Position", "1"),
            ("Channel", "PJSIP/pstn-1"),
            ("Uniqueid", "u1"),
            ("CallerIDNum", "+15550001"),
            ("CallerIDName", "<unknown>"),
            ("Wait", "42"),
            ("ActionID", "q1"),
        ),
        1000.0,
    )
    assert board.apply(_event(("Event", "QueueStatusComplete"), ("ActionID", "q1")), 1000.0)
    [caller] = board.wire()[0]["callers"]
    assert caller == {
        "unique_id": "u1", "number": "+15550001", "name": None, "position": 1, "joined_at": 958.0
    }  # fmt: skip


@pytest.mark.parametrize(
    "pause",
    [
        # 12+ (QueueMemberPause, Interface + PausedReason)
        [("Event", "QueueMemberPause"), ("Queue", "support"), ("MemberName", "Alice"),
         ("Interface", "PJSIP/101"), ("Paused", "1"), ("PausedReason", "lunch")],
        # 11 (QueueMemberPaused, Location + Reason)
        [("Event", "QueueMemberPaused"), ("Queue", "support"), ("MemberName", "Alice"),
         ("Location", "SIP/101"), ("Paused", "1"), ("Reason", "lunch")],
    ],
)  # fmt: skip
def test_a_pause_and_its_reason_then_the_unpause(pause: list[tuple[str, str]]) -> None:
    board = QueueBoard()
    assert board.apply(_event(*pause), 1.0)
    [member] = board.wire()[0]["members"]
    assert (member["paused"], member["reason"], member["name"]) == (True, "lunch", "Alice")
    unpause = [(k, "0" if k == "Paused" else v) for k, v in pause if "Reason" not in k]
    assert board.apply(_event(*unpause), 2.0)
    [member] = board.wire()[0]["members"]
    assert (member["paused"], member["reason"]) == (False, "")
    assert not board.apply(_event(*unpause), 3.0)  # nothing new


def test_an_abandoned_caller_stops_waiting_and_other_events_change_nothing() -> None:
    board = QueueBoard()
    join = _event(("Event", "Join"), ("Queue", "support"), ("Uniqueid", "u9"), ("Position", "1"))
    assert board.apply(join, 5.0)
    assert waiting(board) == [None]
    assert not board.apply(_event(("Event", "Newchannel"), ("Uniqueid", "u9")), 6.0)
    abandon = _event(("Event", "QueueCallerAbandon"), ("Queue", "support"), ("Uniqueid", "u9"))
    assert board.apply(abandon, 7.0)
    assert waiting(board) == []
