"""The classes of wrong histories that real traffic from other PBXs showed, one test each.

Abandoned ringing (whatever the hangup cause), ring and hunt groups dialled by an operator,
the 1.8/11 queue name, click-to-call to a colleague, and Asterisk 11 hold by music only.
"""

from __future__ import annotations

from telephony.callmodel import Disposition, HoldSide

from .ami import Run, channel, event
from .test_hard_cases import CUSTOMER, inbound_12


def test_caller_abandoning_a_ringing_phone_is_missed_even_with_cause_127() -> None:
    # PJSIP/chan_sip may report 127 (Interworking) for the CANCEL; DialEnd says CANCEL.
    run = Run()
    inbound_12(run)
    run.feed(
        event("DialEnd", Uniqueid="c1", DestUniqueid="o1", DialStatus="CANCEL"),
        event("Hangup", Uniqueid="o1", Channel="PJSIP/101-0002", Cause="127"),
        event("Hangup", Uniqueid="c1", Channel="PJSIP/pstn-0001", Cause="16"),
        at=1005.0,
    )
    assert run.of("101")[-1].disposition == Disposition.MISSED
    assert run.of("101")[-1].hangup_cause == 127


def test_asterisk_11_abandon_with_dial_end_cancel_is_missed() -> None:
    run = Run()
    run.feed(
        event("Newchannel", Channel="SIP/pstn-00000001", ChannelStateDesc="Ring",
              CallerIDNum=CUSTOMER, Uniqueid="a.1"),
        event("Newchannel", Channel="SIP/101-00000002", ChannelStateDesc="Down",
              CallerIDNum="101", Uniqueid="a.2"),
        event("Dial", SubEvent="Begin", Channel="SIP/pstn-00000001",
              Destination="SIP/101-00000002", UniqueID="a.1", DestUniqueID="a.2"),
        event("Newstate", Channel="SIP/101-00000002", ChannelStateDesc="Ringing",
              CallerIDNum="101", Uniqueid="a.2"),
        event("Dial", SubEvent="End", Channel="SIP/pstn-00000001", UniqueID="a.1",
              DialStatus="CANCEL"),
        event("Hangup", Channel="SIP/101-00000002", Uniqueid="a.2", Cause="127"),
        event("Hangup", Channel="SIP/pstn-00000001", Uniqueid="a.1", Cause="16"),
    )  # fmt: skip
    assert run.of("101")[-1].disposition == Disposition.MISSED


def test_operator_giving_up_is_cancelled_even_with_cause_127() -> None:
    run = Run()
    run.feed(
        event(
            "Newchannel",
            **channel("PJSIP/101-0001", "o1", "o1", "Ring", "101", exten="+15557770000"),
        ),
        event("Newchannel", **channel("PJSIP/pstn-0002", "x1", "o1", "Down", "+15557770000")),
        event("DialBegin", Uniqueid="o1", DestUniqueid="x1", DestChannel="PJSIP/pstn-0002"),
        event("DialEnd", Uniqueid="o1", DestUniqueid="x1", DialStatus="CANCEL"),
        event("Hangup", Uniqueid="x1", Channel="PJSIP/pstn-0002", Cause="127"),
        event("Hangup", Uniqueid="o1", Channel="PJSIP/101-0001", Cause="127"),
    )
    assert run.of("101")[-1].disposition == Disposition.CANCELLED


def test_abandoned_ring_group_and_queue_are_missed_on_every_phone() -> None:
    # One Dial to two phones (ring group or ring-all queue); the caller hangs up first.
    run = Run()
    run.feed(
        event("Newchannel", **channel("PJSIP/pstn-0001", "c1", "c1", "Up", CUSTOMER)),
        event("QueueCallerJoin", Uniqueid="c1", Queue="support", Channel="PJSIP/pstn-0001"),
    )
    for line, uid in (("101", "p1"), ("102", "p2")):
        run.feed(
            event("Newchannel", **channel(f"PJSIP/{line}-000{line}", uid, "c1", "Down", line)),
            event("DialBegin", Uniqueid="c1", DestUniqueid=uid, DestChannel=f"PJSIP/{line}"),
            event(
                "Newstate",
                **channel(f"PJSIP/{line}-000{line}", uid, "c1", "Ringing", line,
                          connected=CUSTOMER),
            ),
        )  # fmt: skip
    run.feed(
        event("QueueCallerAbandon", Uniqueid="c1", Queue="support"),
        event("DialEnd", Uniqueid="c1", DestUniqueid="p1", DialStatus="CANCEL"),
        event("DialEnd", Uniqueid="c1", DestUniqueid="p2", DialStatus="CANCEL"),
        event("Hangup", Uniqueid="p1", Channel="PJSIP/101-000101", Cause="127"),
        event("Hangup", Uniqueid="p2", Channel="PJSIP/102-000102", Cause="16"),
        event("Hangup", Uniqueid="c1", Channel="PJSIP/pstn-0001", Cause="16"),
    )
    assert [run.of(line)[-1].disposition for line in ("101", "102")] == [
        Disposition.MISSED,
        Disposition.MISSED,
    ]


def test_asterisk_11_queue_abandon_without_dial_events_is_missed() -> None:
    # 1.8/11 queues show no Dial: the caller's Hangup comes first, the members' with 127.
    run = Run()
    run.feed(
        event("Newchannel", Channel="SIP/pstn-00000001", ChannelStateDesc="Up",
              CallerIDNum=CUSTOMER, Uniqueid="a.1"),
        event("Join", Channel="SIP/pstn-00000001", Queue="support", Uniqueid="a.1"),
        event("Newchannel", Channel="SIP/101-00000002", ChannelStateDesc="Down",
              CallerIDNum="101", Uniqueid="a.2"),
        event("AgentCalled", Queue="support", AgentCalled="SIP/101", Uniqueid="a.1",
              DestinationChannel="SIP/101-00000002", ChannelCalling="SIP/pstn-00000001"),
        event("Newstate", Channel="SIP/101-00000002", ChannelStateDesc="Ringing",
              CallerIDNum="101", Uniqueid="a.2"),
        event("Leave", Channel="SIP/pstn-00000001", Queue="support", Uniqueid="a.1"),
        event("Hangup", Channel="SIP/pstn-00000001", Uniqueid="a.1", Cause="16"),
        event("Hangup", Channel="SIP/101-00000002", Uniqueid="a.2", Cause="127"),
    )  # fmt: skip
    assert (run.of("101")[-1].disposition, run.of("101")[-1].queue) == (
        Disposition.MISSED,
        "support",
    )


def ring_group_call(run: Run, *, hunt: bool) -> None:
    """Operator 103 dials group 600: one Dial to 101 and 102, or one after the other."""
    run.feed(
        event("Newchannel", **channel("PJSIP/103-0001", "g1", "g1", "Ring", "103", exten="600")),
        event("Newchannel", **channel("PJSIP/101-0002", "p1", "g1", "Down", "101")),
        event("DialBegin", Uniqueid="g1", DestUniqueid="p1", DestChannel="PJSIP/101-0002"),
        event("NewConnectedLine", **channel("PJSIP/103-0001", "g1", "g1", "Ring", "103",
                                            connected="101", exten="600")),
        event("Newstate", **channel("PJSIP/101-0002", "p1", "g1", "Ringing", "101",
                                    connected="103")),
    )  # fmt: skip
    if hunt:
        run.feed(
            event("DialEnd", Uniqueid="g1", DestUniqueid="p1", DialStatus="NOANSWER"),
            event("Hangup", Uniqueid="p1", Channel="PJSIP/101-0002", Cause="19"),
        )
    run.feed(
        event("Newchannel", **channel("PJSIP/102-0003", "p2", "g1", "Down", "102")),
        event("DialBegin", Uniqueid="g1", DestUniqueid="p2", DestChannel="PJSIP/102-0003"),
        event("NewConnectedLine", **channel("PJSIP/103-0001", "g1", "g1", "Ring", "103",
                                            connected="102", exten="600")),
        event("Newstate", **channel("PJSIP/102-0003", "p2", "g1", "Ringing", "102",
                                    connected="103")),
        event("DialEnd", Uniqueid="g1", DestUniqueid="p2", DialStatus="NOANSWER"),
        event("Hangup", Uniqueid="p2", Channel="PJSIP/102-0003", Cause="19"),
    )  # fmt: skip
    if not hunt:
        run.feed(event("Hangup", Uniqueid="p1", Channel="PJSIP/101-0002", Cause="19"))
    run.feed(event("Hangup", Uniqueid="g1", Channel="PJSIP/103-0001", Cause="16"))


def test_operator_dialling_a_ring_group_is_recorded_with_the_group_number() -> None:
    for hunt in (False, True):
        run = Run()
        ring_group_call(run, hunt=hunt)
        (record,) = [r for r in run.finish() if r.line == "103"]
        assert (record.direction, record.callee_number) == ("internal", "600"), hunt
        assert {item.callee_number for item in run.of("103")} == {"600"}, hunt
        assert record.disposition == Disposition.MISSED


def test_asterisk_11_queue_name_comes_from_agent_connect() -> None:
    # The member rang before anything said it was the queue's (no AgentCalled seen).
    run = Run()
    run.feed(
        event("Newchannel", Channel="SIP/pstn-00000001", ChannelStateDesc="Up",
              CallerIDNum=CUSTOMER, Uniqueid="a.1"),
        event("Join", Channel="SIP/pstn-00000001", Queue="support", Uniqueid="a.1"),
        event("Newchannel", Channel="SIP/102-00000003", ChannelStateDesc="Down",
              CallerIDNum="102", Uniqueid="a.3"),
        event("Newstate", Channel="SIP/102-00000003", ChannelStateDesc="Ringing",
              CallerIDNum="102", Uniqueid="a.3"),
        event("Newstate", Channel="SIP/102-00000003", ChannelStateDesc="Up",
              CallerIDNum="102", Uniqueid="a.3"),
        event("Leave", Channel="SIP/pstn-00000001", Queue="support", Uniqueid="a.1"),
        event("AgentConnect", Queue="support", Uniqueid="a.1", Channel="SIP/102-00000003",
              Member="SIP/102", MemberName="Operator Bob", BridgedChannel="a.3"),
        event("Bridge", Bridgestate="Link", Channel1="SIP/pstn-00000001",
              Channel2="SIP/102-00000003", Uniqueid1="a.1", Uniqueid2="a.3"),
        event("Hangup", Channel="SIP/pstn-00000001", Uniqueid="a.1", Cause="16"),
        event("Hangup", Channel="SIP/102-00000003", Uniqueid="a.3", Cause="16"),
    )  # fmt: skip
    (record,) = run.finish()
    assert (record.queue, record.direction, record.caller_number) == (
        "support",
        "incoming",
        CUSTOMER,
    )
    assert record.disposition == Disposition.ANSWERED


def test_click_to_call_to_a_colleague_is_internal_on_both_lines_until_hang_up() -> None:
    # Originate Channel=PJSIP/101 Exten=102: 101 answers, then its channel dials 102.
    run = Run()
    run.feed(
        event("Newchannel", **channel("PJSIP/101-0001", "o1", "o1", "Down", "101")),
        event("Newstate", **channel("PJSIP/101-0001", "o1", "o1", "Ringing", "101")),
        event("Newstate", **channel("PJSIP/101-0001", "o1", "o1", "Up", "101")),
        event("OriginateResponse", Response="Success", Channel="PJSIP/101-0001", Uniqueid="o1"),
        event("Newchannel", **channel("PJSIP/102-0002", "p2", "o1", "Down", "102")),
        event("DialBegin", Uniqueid="o1", DestUniqueid="p2", DestChannel="PJSIP/102-0002"),
        event(
            "Newstate", **channel("PJSIP/102-0002", "p2", "o1", "Ringing", "102", connected="101")
        ),
        event("Newstate", **channel("PJSIP/102-0002", "p2", "o1", "Up", "102", connected="101")),
        event("DialEnd", Uniqueid="o1", DestUniqueid="p2", DialStatus="ANSWER"),
        event("BridgeEnter", BridgeUniqueid="b1", BridgeType="basic", Uniqueid="p2"),
        event("BridgeEnter", BridgeUniqueid="b1", BridgeType="basic", Uniqueid="o1"),
        at=1000.0,
    )
    assert "RingFinished" not in run.names("101") + run.names("102")
    assert run.tracker.live_keys() == {("o1", "101"), ("o1", "102")}
    run.feed(
        event("Hangup", Uniqueid="p2", Channel="PJSIP/102-0002", Cause="16"),
        event("Hangup", Uniqueid="o1", Channel="PJSIP/101-0001", Cause="16"),
        at=1010.0,
    )
    records = {record.line: record for record in run.finish()}
    assert {line: r.direction for line, r in records.items()} == {
        "101": "internal",
        "102": "internal",
    }
    assert {line: r.disposition for line, r in records.items()} == {
        "101": Disposition.ANSWERED,
        "102": Disposition.ANSWERED,
    }
    assert run.of("101")[-1].direction == "internal"


def test_click_to_call_to_a_colleague_names_the_two_phones_not_the_originate_caller_id() -> None:
    # As a_click_to_call shows Asterisk 22 doing it: the Originate's CallerID ("102" <102>, what
    # the panel sends) becomes 101's caller and connected line (NewCallerid, NewConnectedLine);
    # the dialplan's Dial(PJSIP/102) gives 102's channel 101's connected line as its caller
    # and 101's caller as its connected line. Neither phone's card names "102 calling 102".
    def c2c(name: str, uid: str, state: str, num: str, **extra: str) -> dict[str, str]:
        return channel(name, uid, "o1", state, num, **extra)

    run = Run()
    run.feed(
        event("Newchannel", **c2c("PJSIP/101-0001", "o1", "Down", "101", cid_name="Alice")),
        event("NewCallerid", **c2c("PJSIP/101-0001", "o1", "Down", "102", cid_name="102")),
        event("NewConnectedLine", **c2c("PJSIP/101-0001", "o1", "Down", "102", connected="102")),
        event("DialBegin", DestUniqueid="o1", DestChannel="PJSIP/101-0001", DialString="101"),
        event("Newstate", **c2c("PJSIP/101-0001", "o1", "Ringing", "102", connected="102")),
        event("Newstate", **c2c("PJSIP/101-0001", "o1", "Up", "102", connected="102")),
        event("DialEnd", DestUniqueid="o1", DestChannel="PJSIP/101-0001", DialStatus="ANSWER"),
        event("OriginateResponse", Response="Success", Channel="PJSIP/101-0001", Uniqueid="o1"),
        event("Newchannel", **c2c("PJSIP/102-0002", "p2", "Down", "<unknown>")),
        event("NewCallerid", **c2c("PJSIP/102-0002", "p2", "Down", "102", connected="102")),
        event("DialBegin", Uniqueid="o1", DestUniqueid="p2", DestChannel="PJSIP/102-0002"),
        event("Newstate", **c2c("PJSIP/102-0002", "p2", "Ringing", "102", connected="102")),
        at=1000.0,
    )
    (ringing,) = [e for e in run.of("102") if e.name == "RingStarted"]
    assert (ringing.direction, ringing.caller_number, ringing.caller_name) == (
        "internal",
        "101",
        "Alice",
    )
    run.feed(
        event("Newstate", **c2c("PJSIP/102-0002", "p2", "Up", "102", connected="102")),
        event("DialEnd", Uniqueid="o1", DestUniqueid="p2", DialStatus="ANSWER"),
        event("BridgeEnter", BridgeUniqueid="b1", BridgeType="basic", Uniqueid="p2"),
        event("BridgeEnter", BridgeUniqueid="b1", BridgeType="basic", Uniqueid="o1"),
        event("Hangup", Uniqueid="p2", Channel="PJSIP/102-0002", Cause="16"),
        event("Hangup", Uniqueid="o1", Channel="PJSIP/101-0001", Cause="16"),
        at=1010.0,
    )
    records = {record.line: record for record in run.finish()}
    assert {line: (r.direction, r.disposition) for line, r in records.items()} == {
        "101": ("internal", Disposition.ANSWERED),
        "102": ("internal", Disposition.ANSWERED),
    }
    assert (records["101"].caller_number, records["101"].callee_number) == ("101", "102")
    assert (records["102"].caller_number, records["102"].caller_name) == ("101", "Alice")
    assert records["102"].callee_number == "102"


def test_asterisk_11_music_on_hold_without_hold_event_is_the_operators_hold() -> None:
    run = Run()
    run.feed(
        event("Newchannel", Channel="SIP/pstn-00000001", ChannelStateDesc="Ring",
              CallerIDNum=CUSTOMER, Uniqueid="a.1"),
        event("Newchannel", Channel="SIP/101-00000002", ChannelStateDesc="Down",
              CallerIDNum="101", Uniqueid="a.2"),
        event("Dial", SubEvent="Begin", Channel="SIP/pstn-00000001",
              Destination="SIP/101-00000002", UniqueID="a.1", DestUniqueID="a.2"),
        event("Newstate", Channel="SIP/101-00000002", ChannelStateDesc="Up",
              CallerIDNum="101", Uniqueid="a.2"),
        event("Bridge", Bridgestate="Link", Channel1="SIP/pstn-00000001",
              Channel2="SIP/101-00000002", Uniqueid1="a.1", Uniqueid2="a.2"),
        at=1000.0,
    )  # fmt: skip
    run.feed(
        event("MusicOnHold", State="Start", Channel="SIP/pstn-00000001", UniqueID="a.1"),
        at=1005.0,
    )
    run.feed(
        event("MusicOnHold", State="Stop", Channel="SIP/pstn-00000001", UniqueID="a.1"),
        at=1008.0,
    )
    holds = [(e.name, e.held_by) for e in run.of("101") if e.name.endswith("HoldAction")]
    assert holds == [("PutHoldAction", HoldSide.LINE), ("EndHoldAction", HoldSide.LINE)]
    run.feed(event("Hangup", Channel="SIP/101-00000002", Uniqueid="a.2", Cause="16"), at=1010.0)
    (record,) = run.finish()
    assert (record.hold_count, record.hold_seconds) == (1, 3.0)


def test_queue_music_is_never_a_hold() -> None:
    run = Run()
    run.feed(
        event("Newchannel", Channel="SIP/pstn-00000001", ChannelStateDesc="Up",
              CallerIDNum=CUSTOMER, Uniqueid="a.1"),
        event("Join", Channel="SIP/pstn-00000001", Queue="support", Uniqueid="a.1"),
        event("MusicOnHold", State="Start", Channel="SIP/pstn-00000001", UniqueID="a.1"),
        event("Newchannel", Channel="SIP/101-00000002", ChannelStateDesc="Down",
              CallerIDNum="101", Uniqueid="a.2"),
        event("AgentCalled", Queue="support", Uniqueid="a.1",
              DestinationChannel="SIP/101-00000002"),
        event("Newstate", Channel="SIP/101-00000002", ChannelStateDesc="Ringing",
              CallerIDNum="101", Uniqueid="a.2"),
        event("Newstate", Channel="SIP/101-00000002", ChannelStateDesc="Up",
              CallerIDNum="101", Uniqueid="a.2"),
        event("MusicOnHold", State="Stop", Channel="SIP/pstn-00000001", UniqueID="a.1"),
        event("Leave", Channel="SIP/pstn-00000001", Queue="support", Uniqueid="a.1"),
        event("Bridge", Bridgestate="Link", Channel1="SIP/pstn-00000001",
              Channel2="SIP/101-00000002", Uniqueid1="a.1", Uniqueid2="a.2"),
    )  # fmt: skip
    assert run.names("101") == ["RingStarted", "CommutationStarted"]
