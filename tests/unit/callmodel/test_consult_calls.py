"""Consultation calls and attended transfers, in every shape Asterisk shows them.

Built event by event after the real Asterisk 22 Atxfer capture (g_attended_transfer) and the
documented AMI shapes of the others: the phone's own transfer (REFER with Replaces ->
``AttendedTransfer`` naming two transferer channels), ``Local`` with and without
optimisation, and the Asterisk 1.8/11 ``Masquerade`` into ``Transfered/...``.
"""

from __future__ import annotations

from typing import Any

from telephony.callmodel import Disposition, Feature

from .ami import Run, channel, event
from .test_hard_cases import CUSTOMER, answer_12, inbound_12

LOCAL_1 = "Local/102@from-internal-00000001;1"
LOCAL_2 = "Local/102@from-internal-00000001;2"


def calls_of(run: Run, line: str) -> dict[str, list[Any]]:
    """The line's events per call id, in order of first appearance."""
    calls: dict[str, list[Any]] = {}
    for item in run.of(line):
        calls.setdefault(item.call_id, []).append(item)
    return calls


def names(items: list[Any]) -> list[str]:
    return [item.name for item in items]


def atxfer_12(run: Run, *, at: float = 1010.0) -> None:
    """AMI Atxfer from 101 to 102 as Asterisk 22 does it: Local pair, 102 rings."""
    run.feed(
        event("Hold", **channel("PJSIP/101-0002", "o1", "c1", "Up", "101")),
        event("Newchannel", **channel(LOCAL_1, "l1", "c1", "Down", "<unknown>", exten="102")),
        event("Newchannel", **channel(LOCAL_2, "l2", "c1", "Ring", "<unknown>", exten="102")),
        event("LocalBridge", LocalOneUniqueid="l1", LocalTwoUniqueid="l2", LocalOptimization="No"),
        event("BridgeEnter", BridgeUniqueid="b2", BridgeType="basic", Uniqueid="l1"),
        event("BridgeLeave", BridgeUniqueid="b-c1", Uniqueid="o1"),
        event("BridgeEnter", BridgeUniqueid="b2", BridgeType="basic", Uniqueid="o1"),
        event("Newchannel", **channel("PJSIP/102-0005", "p2", "c1", "Down", "102", cid_name="Bob")),
        event("DialBegin", Uniqueid="l2", DestUniqueid="p2", DestChannel="PJSIP/102-0005"),
        event(
            "Newstate", **channel("PJSIP/102-0005", "p2", "c1", "Ringing", "102", connected="101")
        ),
        at=at,
    )


def colleague_answers_12(run: Run, *, at: float = 1013.0) -> None:
    run.feed(
        event("Newstate", **channel("PJSIP/102-0005", "p2", "c1", "Up", "102", connected="101")),
        event("DialEnd", Uniqueid="l2", DestUniqueid="p2", DialStatus="ANSWER"),
        event("Newstate", **channel(LOCAL_1, "l1", "c1", "Up", "102", exten="102")),
        event("BridgeEnter", BridgeUniqueid="b3", BridgeType="basic", Uniqueid="p2"),
        event("BridgeEnter", BridgeUniqueid="b3", BridgeType="basic", Uniqueid="l2"),
        at=at,
    )


def consulted(at: float = 1010.0) -> Run:
    run = Run()
    inbound_12(run)
    answer_12(run)
    atxfer_12(run, at=at)
    return run


def test_atxfer_consultation_is_a_call_of_its_own_on_the_operators_line() -> None:
    run = consulted()
    original, consult = calls_of(run, "101").values()
    assert names(original) == ["RingStarted", "CommutationStarted", "PutHoldAction"]
    assert names(consult) == ["RingStarted"]
    assert (consult[0].direction, consult[0].caller_number, consult[0].callee_number) == (
        "internal",
        "101",
        "102",
    )
    # While it rings the consultation can already be completed, not consulted again.
    assert consult[0].features & Feature.CAN_COMPLETE_TRANSFER
    state = run.tracker.line_state("101", 0)
    assert state.calls == 2
    assert state.features & Feature.CAN_COMPLETE_TRANSFER
    colleague_answers_12(run)
    consult = calls_of(run, "101")[consult[0].call_id]
    assert names(consult)[-1] == "CommutationStarted"
    assert not consult[-1].features & Feature.CAN_MAKE_CONSULT_CALL


def test_plain_call_can_start_a_consultation_but_not_complete_one() -> None:
    run = Run()
    inbound_12(run)
    answer_12(run)
    features = run.of("101")[-1].features
    assert features & Feature.CAN_MAKE_CONSULT_CALL
    assert not features & Feature.CAN_COMPLETE_TRANSFER


def test_operator_hanging_up_completes_the_transfer_without_attended_transfer_event() -> None:
    # What Asterisk 1.8/11 and 12+ do when the transferer hangs up; no AttendedTransfer here.
    run = consulted()
    colleague_answers_12(run)
    run.feed(event("Hangup", Uniqueid="o1", Channel="PJSIP/101-0002", Cause="16"), at=1020.0)
    original, consult = calls_of(run, "101").values()
    assert names(original)[-2:] == ["CallTransferred", "RingFinished"]
    assert original[-2].transferred_to == "102"
    assert original[-1].disposition == Disposition.TRANSFERRED
    assert {item.caller_number for item in original} == {CUSTOMER}
    assert (consult[-1].name, consult[-1].disposition) == ("RingFinished", "answered")
    # 102 now talks to the customer, even before any connected-line update says so.
    assert (run.of("102")[-1].name, run.of("102")[-1].caller_number) == (
        "CallInfoChanged",
        CUSTOMER,
    )
    records = {(r.call_id, r.line): r for r in run.finish() if r.line == "101"}
    assert records[("c1", "101")].transferred_to == "102"
    assert records[("c1", "101")].caller_number == CUSTOMER
    assert records[(consult[0].call_id, "101")].callee_number == "102"


def test_consultation_nobody_answers_puts_the_operator_back_on_the_call() -> None:
    run = consulted()
    run.feed(
        event("DialEnd", Uniqueid="l2", DestUniqueid="p2", DialStatus="NOANSWER"),
        event("Hangup", Uniqueid="p2", Channel="PJSIP/102-0005", Cause="19"),
        event("Hangup", Uniqueid="l2", Channel=LOCAL_2, Cause="16"),
        event("BridgeLeave", BridgeUniqueid="b2", Uniqueid="l1"),
        event("Hangup", Uniqueid="l1", Channel=LOCAL_1, Cause="16"),
        event("BridgeLeave", BridgeUniqueid="b2", Uniqueid="o1"),
        event("BridgeEnter", BridgeUniqueid="b-c1", BridgeType="basic", Uniqueid="o1"),
        at=1025.0,
    )
    original, consult = calls_of(run, "101").values()
    assert (names(consult), consult[-1].disposition) == (
        ["RingStarted", "RingFinished"],
        Disposition.MISSED,
    )
    assert names(original) == [
        "RingStarted",
        "CommutationStarted",
        "PutHoldAction",
        "EndHoldAction",
    ]
    assert original[-1].features & Feature.CAN_MAKE_CONSULT_CALL
    assert run.tracker.live_keys() == {("c1", "101")}
    run.feed(event("Hangup", Uniqueid="o1", Channel="PJSIP/101-0002", Cause="16"), at=1030.0)
    original = calls_of(run, "101")["c1"]
    assert (original[-1].name, original[-1].disposition) == ("RingFinished", "answered")
    assert original[-1].caller_number == CUSTOMER


def test_busy_colleague_is_a_busy_consultation() -> None:
    run = consulted()
    run.feed(
        event("DialEnd", Uniqueid="l2", DestUniqueid="p2", DialStatus="BUSY"),
        event("Hangup", Uniqueid="p2", Channel="PJSIP/102-0005", Cause="17"),
        event("Hangup", Uniqueid="l2", Channel=LOCAL_2, Cause="17"),
        event("Hangup", Uniqueid="l1", Channel=LOCAL_1, Cause="17"),
        at=1012.0,
    )
    consult = list(calls_of(run, "101").values())[1]
    assert names(consult) == ["RingStarted", "AbonentBusy", "RingFinished"]
    assert consult[-1].disposition == Disposition.BUSY
    assert run.tracker.live_keys() == {("c1", "101")}


def test_operator_cancelling_the_consultation_is_a_cancelled_call() -> None:
    run = consulted()
    run.feed(
        event("BridgeLeave", BridgeUniqueid="b2", Uniqueid="o1"),
        event("BridgeEnter", BridgeUniqueid="b-c1", BridgeType="basic", Uniqueid="o1"),
        event("Hangup", Uniqueid="l1", Channel=LOCAL_1, Cause="16"),
        event("DialEnd", Uniqueid="l2", DestUniqueid="p2", DialStatus="CANCEL"),
        event("Hangup", Uniqueid="p2", Channel="PJSIP/102-0005", Cause="16"),
        event("Hangup", Uniqueid="l2", Channel=LOCAL_2, Cause="16"),
        at=1012.0,
    )
    original, consult = calls_of(run, "101").values()
    assert consult[-1].disposition == Disposition.CANCELLED
    assert names(original)[-1] == "EndHoldAction"
    assert not [
        item for item in run.events if item.line == "101" and item.name == "CallTransferred"
    ]


def test_customer_hanging_up_during_the_consultation_ends_only_the_original_call() -> None:
    run = consulted()
    colleague_answers_12(run)
    run.feed(
        event("BridgeLeave", BridgeUniqueid="b-c1", Uniqueid="c1"),
        event("Hangup", Uniqueid="c1", Channel="PJSIP/pstn-0001", Cause="16"),
        at=1015.0,
    )
    original, consult = calls_of(run, "101").values()
    assert (original[-1].name, original[-1].disposition) == ("RingFinished", "answered")
    assert names(consult) == ["RingStarted", "CommutationStarted"]
    assert len(run.tracker.live_keys()) == 2  # the consultation on 101, and 102
    run.feed(event("Hangup", Uniqueid="o1", Channel="PJSIP/101-0002", Cause="16"), at=1020.0)
    consult = list(calls_of(run, "101").values())[1]
    assert (consult[-1].name, consult[-1].disposition) == ("RingFinished", "answered")
    assert not [item for item in run.events if item.name == "CallTransferred"]


def test_optimised_local_consultation_completes_to_the_colleague() -> None:
    run = consulted()
    colleague_answers_12(run)
    run.feed(
        # Local optimisation: PJSIP/102 takes Local;1's place next to the operator.
        event("LocalOptimizationBegin", LocalOneUniqueid="l1", LocalTwoUniqueid="l2"),
        event("BridgeLeave", BridgeUniqueid="b3", Uniqueid="p2"),
        event("BridgeLeave", BridgeUniqueid="b2", Uniqueid="l1"),
        event("BridgeEnter", BridgeUniqueid="b2", BridgeType="basic", Uniqueid="p2"),
        event("LocalOptimizationEnd", LocalOneUniqueid="l1", LocalTwoUniqueid="l2"),
        event("Hangup", Uniqueid="l1", Channel=LOCAL_1, Cause="16"),
        event("Hangup", Uniqueid="l2", Channel=LOCAL_2, Cause="16"),
        at=1014.0,
    )
    consult = list(calls_of(run, "101").values())[1]
    assert names(consult) == ["RingStarted", "CommutationStarted"]  # Local gone, call goes on
    run.feed(
        event("BridgeLeave", BridgeUniqueid="b2", Uniqueid="p2"),
        event("BridgeEnter", BridgeUniqueid="b-c1", BridgeType="basic", Uniqueid="p2"),
        event(
            "AttendedTransfer",
            Result="Success",
            OrigTransfererUniqueid="o1",
            SecondTransfererUniqueid="o1",
            TransfereeUniqueid="c1",
            TransferTargetUniqueid="p2",
            TransferTargetChannel="PJSIP/102-0005",
        ),
        event("Hangup", Uniqueid="o1", Channel="PJSIP/101-0002", Cause="16"),
        at=1020.0,
    )
    original, consult = calls_of(run, "101").values()
    assert original[-2].transferred_to == "102"
    assert (original[-1].disposition, consult[-1].disposition) == ("transferred", "answered")
    assert run.of("102")[-1].caller_number == CUSTOMER
    # 102 moving next to the customer is the transfer, never a consultation of 102's own.
    assert len(calls_of(run, "102")) == 1
    assert "PutHoldAction" not in run.names("102")


def test_phones_own_attended_transfer_refer_with_replaces() -> None:
    # 101's phone holds the customer, calls 102 on a second channel, then REFERs with Replaces.
    run = Run()
    inbound_12(run)
    answer_12(run)
    run.feed(
        event("Hold", **channel("PJSIP/101-0002", "o1", "c1", "Up", "101")),
        event("Newchannel", **channel("PJSIP/101-0010", "o2", "o2", "Ring", "101", exten="102")),
        event("Newchannel", **channel("PJSIP/102-0011", "p2", "o2", "Down", "102")),
        event("DialBegin", Uniqueid="o2", DestUniqueid="p2", DestChannel="PJSIP/102-0011"),
        event(
            "Newstate", **channel("PJSIP/102-0011", "p2", "o2", "Ringing", "102", connected="101")
        ),
        event("Newstate", **channel("PJSIP/102-0011", "p2", "o2", "Up", "102", connected="101")),
        event("DialEnd", Uniqueid="o2", DestUniqueid="p2", DialStatus="ANSWER"),
        event("BridgeEnter", BridgeUniqueid="b4", BridgeType="basic", Uniqueid="p2"),
        event("BridgeEnter", BridgeUniqueid="b4", BridgeType="basic", Uniqueid="o2"),
        at=1010.0,
    )
    assert run.tracker.line_state("101", 0).features & Feature.CAN_COMPLETE_TRANSFER
    # The second call's RingStarted already knows it is the held call's consultation.
    ring = calls_of(run, "101")["o2"][0]
    assert ring.name == "RingStarted"
    assert ring.features & Feature.CAN_COMPLETE_TRANSFER
    assert not ring.features & Feature.CAN_MAKE_CONSULT_CALL
    run.feed(
        event(
            "AttendedTransfer",
            Result="Success",
            OrigTransfererUniqueid="o1",
            SecondTransfererUniqueid="o2",
            TransfereeUniqueid="c1",
            TransferTargetUniqueid="p2",
            TransferTargetChannel="PJSIP/102-0011",
        ),
        event("BridgeLeave", BridgeUniqueid="b4", Uniqueid="o2"),
        event("BridgeLeave", BridgeUniqueid="b-c1", Uniqueid="o1"),
        event("BridgeEnter", BridgeUniqueid="b4", BridgeType="basic", Uniqueid="c1"),
        event("Hangup", Uniqueid="o1", Channel="PJSIP/101-0002", Cause="16"),
        event("Hangup", Uniqueid="o2", Channel="PJSIP/101-0010", Cause="16"),
        at=1020.0,
    )
    calls = calls_of(run, "101")
    assert names(calls["c1"])[-2:] == ["CallTransferred", "RingFinished"]
    assert calls["c1"][-2].transferred_to == "102"
    assert (names(calls["o2"])[-1], calls["o2"][-1].disposition) == ("RingFinished", "answered")
    assert calls["o2"][0].callee_number == "102"
    assert run.of("102")[-1].caller_number == CUSTOMER
    run.feed(event("Hangup", Uniqueid="c1", Channel="PJSIP/pstn-0001", Cause="16"), at=1030.0)
    run.feed(event("Hangup", Uniqueid="p2", Channel="PJSIP/102-0011", Cause="16"), at=1030.0)
    (colleague,) = [r for r in run.finish() if r.line == "102"]
    assert (colleague.caller_number, colleague.disposition) == (CUSTOMER, "answered")


def test_asterisk_11_atxfer_completes_by_masquerade() -> None:
    # 1.8/11: the operator is bridged with Local;1 once 102 answers; on completion the
    # customer's channel is masqueraded into Transfered/... and bridged with the Local.
    run = Run()
    legacy = {"Channel": "SIP/pstn-00000001", "Uniqueid": "a.1"}
    run.feed(
        event("Newchannel", ChannelStateDesc="Ring", CallerIDNum=CUSTOMER, Exten="101", **legacy),
        event(
            "Newchannel",
            Channel="SIP/101-00000002",
            ChannelStateDesc="Down",
            CallerIDNum="101",
            Uniqueid="a.2",
        ),
        event(
            "Dial",
            SubEvent="Begin",
            Channel="SIP/pstn-00000001",
            Destination="SIP/101-00000002",
            UniqueID="a.1",
            DestUniqueID="a.2",
        ),
        event(
            "Newstate",
            Channel="SIP/101-00000002",
            ChannelStateDesc="Ringing",
            CallerIDNum="101",
            ConnectedLineNum=CUSTOMER,
            Uniqueid="a.2",
        ),
        event(
            "Newstate",
            Channel="SIP/101-00000002",
            ChannelStateDesc="Up",
            CallerIDNum="101",
            ConnectedLineNum=CUSTOMER,
            Uniqueid="a.2",
        ),
        event(
            "Dial", SubEvent="End", Channel="SIP/pstn-00000001", UniqueID="a.1", DialStatus="ANSWER"
        ),
        event(
            "Bridge",
            Bridgestate="Link",
            Channel1="SIP/pstn-00000001",
            Channel2="SIP/101-00000002",
            Uniqueid1="a.1",
            Uniqueid2="a.2",
        ),
        at=1000.0,
    )
    run.feed(
        event("MusicOnHold", State="Start", Channel="SIP/pstn-00000001", Uniqueid="a.1"),
        event(
            "Newchannel",
            Channel="Local/102@from-internal-00000001;1",
            ChannelStateDesc="Down",
            CallerIDNum="101",
            Exten="102",
            Uniqueid="a.3",
        ),
        event(
            "Newchannel",
            Channel="Local/102@from-internal-00000001;2",
            ChannelStateDesc="Ring",
            CallerIDNum="101",
            Exten="102",
            Uniqueid="a.4",
        ),
        event(
            "Newchannel",
            Channel="SIP/102-00000005",
            ChannelStateDesc="Down",
            CallerIDNum="102",
            Uniqueid="a.5",
        ),
        event(
            "Dial",
            SubEvent="Begin",
            Channel="Local/102@from-internal-00000001;2",
            Destination="SIP/102-00000005",
            UniqueID="a.4",
            DestUniqueID="a.5",
        ),
        event(
            "Newstate",
            Channel="SIP/102-00000005",
            ChannelStateDesc="Ringing",
            CallerIDNum="102",
            ConnectedLineNum="101",
            Uniqueid="a.5",
        ),
        at=1010.0,
    )
    run.feed(
        event(
            "Newstate",
            Channel="SIP/102-00000005",
            ChannelStateDesc="Up",
            CallerIDNum="102",
            ConnectedLineNum="101",
            Uniqueid="a.5",
        ),
        event(
            "Dial",
            SubEvent="End",
            Channel="Local/102@from-internal-00000001;2",
            UniqueID="a.4",
            DialStatus="ANSWER",
        ),
        event(
            "Bridge",
            Bridgestate="Link",
            Channel1="Local/102@from-internal-00000001;2",
            Channel2="SIP/102-00000005",
            Uniqueid1="a.4",
            Uniqueid2="a.5",
        ),
        event(
            "Bridge",
            Bridgestate="Link",
            Channel1="SIP/101-00000002",
            Channel2="Local/102@from-internal-00000001;1",
            Uniqueid1="a.2",
            Uniqueid2="a.3",
        ),
        at=1013.0,
    )
    original, consult = calls_of(run, "101").values()
    assert names(consult) == ["RingStarted", "CommutationStarted"]
    assert (consult[0].direction, consult[0].callee_number) == ("internal", "102")
    # 102 was called by 101 (the Local channel's caller), not by the customer nor an Originate.
    assert (run.of("102")[0].direction, run.of("102")[0].caller_number) == ("internal", "101")
    run.feed(
        event(
            "Newchannel",
            Channel="Transfered/SIP/pstn-00000001",
            ChannelStateDesc="Up",
            CallerIDNum=CUSTOMER,
            Uniqueid="a.6",
        ),
        event(
            "Masquerade",
            Clone="SIP/pstn-00000001",
            CloneState="Up",
            Original="Transfered/SIP/pstn-00000001",
            OriginalState="Up",
        ),
        event(
            "Rename", Channel="SIP/pstn-00000001", Newname="SIP/pstn-00000001<MASQ>", Uniqueid="a.1"
        ),
        event(
            "Rename",
            Channel="Transfered/SIP/pstn-00000001",
            Newname="SIP/pstn-00000001",
            Uniqueid="a.6",
        ),
        event("Hangup", Channel="SIP/pstn-00000001<ZOMBIE>", Uniqueid="a.1", Cause="0"),
        event(
            "Bridge",
            Bridgestate="Link",
            Channel1="SIP/pstn-00000001",
            Channel2="Local/102@from-internal-00000001;1",
            Uniqueid1="a.6",
            Uniqueid2="a.3",
        ),
        event("Hangup", Channel="SIP/101-00000002", Uniqueid="a.2", Cause="16"),
        at=1020.0,
    )
    original, consult = calls_of(run, "101").values()
    assert names(original)[-2:] == ["CallTransferred", "RingFinished"]
    assert original[-2].transferred_to == "102"
    assert {item.caller_number for item in original} == {CUSTOMER}
    assert (consult[-1].name, consult[-1].disposition) == ("RingFinished", "answered")
    assert run.of("102")[-1].caller_number == CUSTOMER  # no NewConnectedLine in 11
    run.feed(
        event("Hangup", Channel="SIP/pstn-00000001", Uniqueid="a.6", Cause="16"),
        event("Hangup", Channel="Local/102@from-internal-00000001;1", Uniqueid="a.3", Cause="16"),
        event("Hangup", Channel="Local/102@from-internal-00000001;2", Uniqueid="a.4", Cause="16"),
        event("Hangup", Channel="SIP/102-00000005", Uniqueid="a.5", Cause="16"),
        at=1030.0,
    )
    records = run.finish()
    assert len(records) == 3
    assert run.tracker.live_calls == 0


def test_operator_to_operator_transfer_leaves_the_two_ends_naming_each_other() -> None:
    # 101 calls 102; 102 consults 103 (Atxfer) and transfers: 101 and 103 talk.
    run = Run()
    run.feed(
        event("Newchannel", **channel("PJSIP/101-0001", "a1", "a1", "Ring", "101", exten="102")),
        event("Newchannel", **channel("PJSIP/102-0002", "b1", "a1", "Down", "102")),
        event("DialBegin", Uniqueid="a1", DestUniqueid="b1", DestChannel="PJSIP/102-0002"),
        event(
            "Newstate", **channel("PJSIP/102-0002", "b1", "a1", "Ringing", "102", connected="101")
        ),
        event("Newstate", **channel("PJSIP/102-0002", "b1", "a1", "Up", "102", connected="101")),
        event("DialEnd", Uniqueid="a1", DestUniqueid="b1", DialStatus="ANSWER"),
        event("BridgeEnter", BridgeUniqueid="bx", BridgeType="basic", Uniqueid="b1"),
        event("BridgeEnter", BridgeUniqueid="bx", BridgeType="basic", Uniqueid="a1"),
        at=1000.0,
    )
    local_1, local_2 = "Local/103@from-internal-00000002;1", "Local/103@from-internal-00000002;2"
    run.feed(
        event("Hold", **channel("PJSIP/102-0002", "b1", "a1", "Up", "102")),
        event("Newchannel", **channel(local_1, "l1", "a1", "Down", "<unknown>", exten="103")),
        event("Newchannel", **channel(local_2, "l2", "a1", "Ring", "<unknown>", exten="103")),
        event("LocalBridge", LocalOneUniqueid="l1", LocalTwoUniqueid="l2"),
        event("BridgeEnter", BridgeUniqueid="b2", BridgeType="basic", Uniqueid="l1"),
        event("BridgeLeave", BridgeUniqueid="bx", Uniqueid="b1"),
        event("BridgeEnter", BridgeUniqueid="b2", BridgeType="basic", Uniqueid="b1"),
        event("Newchannel", **channel("PJSIP/103-0003", "c1", "a1", "Down", "103")),
        event("DialBegin", Uniqueid="l2", DestUniqueid="c1", DestChannel="PJSIP/103-0003"),
        event(
            "Newstate", **channel("PJSIP/103-0003", "c1", "a1", "Ringing", "103", connected="102")
        ),
        event("Newstate", **channel("PJSIP/103-0003", "c1", "a1", "Up", "103", connected="102")),
        event("DialEnd", Uniqueid="l2", DestUniqueid="c1", DialStatus="ANSWER"),
        event("BridgeEnter", BridgeUniqueid="b3", BridgeType="basic", Uniqueid="c1"),
        event("BridgeEnter", BridgeUniqueid="b3", BridgeType="basic", Uniqueid="l2"),
        at=1005.0,
    )
    run.feed(
        event("BridgeLeave", BridgeUniqueid="b2", Uniqueid="l1"),
        event("BridgeEnter", BridgeUniqueid="bx", BridgeType="basic", Uniqueid="l1"),
        event("Hangup", Uniqueid="b1", Channel="PJSIP/102-0002", Cause="16"),
        at=1010.0,
    )
    assert calls_of(run, "102")["a1"][-2].transferred_to == "103"
    run.feed(
        event("Hangup", Uniqueid="a1", Channel="PJSIP/101-0001", Cause="16"),
        event("Hangup", Uniqueid="l1", Channel=local_1, Cause="16"),
        event("Hangup", Uniqueid="l2", Channel=local_2, Cause="16"),
        event("Hangup", Uniqueid="c1", Channel="PJSIP/103-0003", Cause="16"),
        at=1020.0,
    )
    records = {record.line: record for record in run.finish() if record.call_id == "a1"}
    assert (records["101"].caller_number, records["101"].callee_number) == ("101", "103")
    assert (records["103"].caller_number, records["103"].callee_number) == ("101", "103")
    assert records["102"].disposition == Disposition.TRANSFERRED
    assert records["102"].caller_number == "101"


def test_second_call_ended_without_transfer_leaves_the_first_one_as_it_was() -> None:
    # The phone holds the customer, calls 102, hangs that call up and resumes.
    run = Run()
    inbound_12(run)
    answer_12(run)
    run.feed(
        event("Hold", **channel("PJSIP/101-0002", "o1", "c1", "Up", "101")),
        event("Newchannel", **channel("PJSIP/101-0010", "o2", "o2", "Ring", "101", exten="102")),
        event("Newchannel", **channel("PJSIP/102-0011", "p2", "o2", "Down", "102")),
        event("DialBegin", Uniqueid="o2", DestUniqueid="p2", DestChannel="PJSIP/102-0011"),
        event(
            "Newstate", **channel("PJSIP/102-0011", "p2", "o2", "Ringing", "102", connected="101")
        ),
        event("DialEnd", Uniqueid="o2", DestUniqueid="p2", DialStatus="CANCEL"),
        event("Hangup", Uniqueid="p2", Channel="PJSIP/102-0011", Cause="127"),
        event("Hangup", Uniqueid="o2", Channel="PJSIP/101-0010", Cause="16"),
        event("Unhold", **channel("PJSIP/101-0002", "o1", "c1", "Up", "101")),
        at=1010.0,
    )
    calls = calls_of(run, "101")
    assert (names(calls["o2"])[-1], calls["o2"][-1].disposition) == ("RingFinished", "cancelled")
    assert run.of("102")[-1].disposition == Disposition.MISSED
    assert names(calls["c1"])[-1] == "EndHoldAction"
    assert calls["c1"][-1].features & Feature.CAN_MAKE_CONSULT_CALL
    assert not calls["c1"][-1].features & Feature.CAN_COMPLETE_TRANSFER
    assert run.tracker.live_keys() == {("c1", "101")}
