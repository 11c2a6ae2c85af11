"""Times of what a resync list reveals (issue #10): a listed channel starts at the middle of
its ``Duration``'s second; what happened in the gap is dated at the list's arrival and marked
estimated, on a stream that runs on our clock (no ``Timestamp``)."""

from __future__ import annotations

from telephony.ami import Event
from telephony.callmodel import CallModel
from telephony.callmodel.events import CommutationStarted, RingFinished, RingStarted
from tests.unit.callmodel.ami import channel, event
from tests.unit.callmodel.test_hard_cases import CUSTOMER

LIST = "resync-1"


def _listed(name: str, uid: str, state: str, num: str, duration: str) -> Event:
    headers = channel(name, uid, "c9", state, num, connected=CUSTOMER)
    return event("CoreShowChannel", ActionID=LIST, Duration=duration, **headers)


def _complete(items: int) -> Event:
    return event(
        "CoreShowChannelsComplete", ActionID=LIST, EventList="Complete", ListItems=str(items)
    )


def test_a_call_answered_in_a_gap_starts_from_its_duration_and_answers_at_the_list() -> None:
    model = CallModel(["101"])
    model.feed(event("FullyBooted", Status="Fully Booted"), 1000.0)
    model.expect_listing(LIST)
    out = model.feed(_listed("PJSIP/101-0009", "o9", "Up", "101", "00:00:07"), 1050.0)
    model.feed(_complete(1), 1050.1)

    started = next(e for e in out.events if isinstance(e, RingStarted))
    answered = next(e for e in out.events if isinstance(e, CommutationStarted))
    assert started.time == 1050.0 - 7.5  # Asterisk truncates: the age is in [7, 8)
    assert id(started) not in out.estimated
    assert (answered.time, id(answered) in out.estimated) == (1050.0, True)


def test_a_call_that_ended_in_a_gap_ends_at_the_lists_arrival() -> None:
    model = CallModel(["101"])
    ring = channel("PJSIP/101-0002", "o1", "c1", "Ringing", "101", connected=CUSTOMER)
    model.feed(event("Newchannel", **channel("PJSIP/101-0002", "o1", "c1", "Down", "101")), 990.0)
    model.feed(event("Newstate", **ring), 1000.0)  # the last event before the cut
    model.expect_listing(LIST)

    out = model.feed(_complete(0), 1030.0)

    (finished,) = [e for e in out.events if isinstance(e, RingFinished)]
    assert (finished.time, id(finished) in out.estimated) == (1030.0, True)
    (record,) = out.records
    assert record.ended_at == 1030.0
    assert out.live == set()
