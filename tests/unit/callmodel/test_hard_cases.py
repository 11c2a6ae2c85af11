"""The hard cases users complain about, built event by event where no capture shows them."""

from __future__ import annotations

from typing import Any

from telephony.callmodel import Disposition, HoldSide

from .ami import Run, channel, event

CUSTOMER = "+15551230001"


def inbound_12(
    run: Run, *, cust: str = "c1", op: str = "o1", line: str = "101", at: float = 0.0
) -> None:
    """Customer (trunk) dials ``line``; it rings."""
    run.feed(
        event(
            "Newchannel",
            **channel("PJSIP/pstn-0001", cust, cust, "Ring", CUSTOMER, cid_name="Customer"),
        ),
        event(
            "Newchannel",
            **channel(f"PJSIP/{line}-0002", op, cust, "Down", line, cid_name="Operator"),
        ),
        event(
            "DialBegin",
            **channel("PJSIP/pstn-0001", cust, cust, "Ring", CUSTOMER),
            DestChannel=f"PJSIP/{line}-0002",
            DestUniqueid=op,
            DialString=line,
        ),
        event(
            "Newstate",
            **channel(f"PJSIP/{line}-0002", op, cust, "Ringing", line, connected=CUSTOMER),
        ),
        at=1000.0 + at,
    )


def answer_12(
    run: Run, *, cust: str = "c1", op: str = "o1", line: str = "101", at: float = 4.0
) -> None:
    run.feed(
        event(
            "Newstate", **channel(f"PJSIP/{line}-0002", op, cust, "Up", line, connected=CUSTOMER)
        ),
        event("DialEnd", Uniqueid=cust, DestUniqueid=op, DialStatus="ANSWER"),
        event("BridgeEnter", BridgeUniqueid=f"b-{cust}", BridgeType="basic", Uniqueid=op),
        event("BridgeEnter", BridgeUniqueid=f"b-{cust}", BridgeType="basic", Uniqueid=cust),
        at=1000.0 + at,
    )


def test_creatio_legacy_example_gives_exactly_the_five_events() -> None:
    # Creatio's documented Asterisk table: Newchannel, Dial Begin, Bridge, Hold On/Off, Hangup.
    run = Run()
    run.feed(
        event(
            "Newchannel",
            Channel="SIP/pstn-00000001",
            ChannelStateDesc="Ring",
            CallerIDNum=CUSTOMER,
            Uniqueid="a.1",
            Exten="+15550000101",
        ),
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
            CallerIDNum=CUSTOMER,
            UniqueID="a.1",
            DestUniqueID="a.2",
            Dialstring="101",
        ),
        event(
            "Bridge",
            Bridgestate="Link",
            Bridgetype="core",
            Channel1="SIP/pstn-00000001",
            Channel2="SIP/101-00000002",
            Uniqueid1="a.1",
            Uniqueid2="a.2",
        ),
        event("Hold", Status="On", Channel="SIP/101-00000002", Uniqueid="a.2"),
        event(
            "Bridge",
            Bridgestate="Unlink",
            Channel1="SIP/pstn-00000001",
            Channel2="SIP/101-00000002",
            Uniqueid1="a.1",
            Uniqueid2="a.2",
        ),
        event(
            "Bridge",
            Bridgestate="Link",
            Channel1="SIP/pstn-00000001",
            Channel2="SIP/101-00000002",
            Uniqueid1="a.1",
            Uniqueid2="a.2",
        ),
        event("Hold", Status="Off", Channel="SIP/101-00000002", Uniqueid="a.2"),
        event(
            "Hangup",
            Channel="SIP/101-00000002",
            Uniqueid="a.2",
            Cause="16",
            Cause_txt="Normal Clearing",
        ),
        event("Hangup", Channel="SIP/pstn-00000001", Uniqueid="a.1", Cause="16"),
    )
    assert run.names("101") == [
        "RingStarted",
        "CommutationStarted",
        "PutHoldAction",
        "EndHoldAction",
        "RingFinished",
    ]
    assert run.of("101")[0].caller_number == CUSTOMER
    assert run.seqs("101") == [1, 2, 3, 4, 5]


def test_hold_by_either_side_is_counted_once_and_says_who_held() -> None:
    run = Run()
    inbound_12(run)
    answer_12(run)
    run.feed(event("Hold", Uniqueid="c1", Channel="PJSIP/pstn-0001"), at=1010.0)
    run.feed(event("Hold", Uniqueid="o1", Channel="PJSIP/101-0002"), at=1011.0)
    run.feed(event("Unhold", Uniqueid="c1", Channel="PJSIP/pstn-0001"), at=1012.0)
    run.feed(event("Unhold", Uniqueid="o1", Channel="PJSIP/101-0002"), at=1014.0)
    run.feed(event("Hangup", Uniqueid="o1", Channel="PJSIP/101-0002", Cause="16"), at=1020.0)
    holds = [item for item in run.of("101") if item.name.endswith("HoldAction")]
    assert [(item.name, item.held_by) for item in holds] == [
        ("PutHoldAction", HoldSide.REMOTE),
        ("EndHoldAction", HoldSide.LINE),
    ]
    (record,) = run.finish()
    assert record.hold_count == 1
    assert record.hold_seconds == 4.0


def test_stray_unhold_without_hold_emits_nothing() -> None:
    # Asterisk 22 sends Unhold for the transferer right before BlindTransfer (README, 9).
    run = Run()
    inbound_12(run)
    answer_12(run)
    assert run.feed(event("Unhold", Uniqueid="o1", Channel="PJSIP/101-0002")) == []


def test_local_channel_halves_are_one_leg() -> None:
    # Queue member Local/101@from-queue/n: customer -> Local;1, Local;2 -> PJSIP/101.
    run = Run()
    run.feed(
        event("Newchannel", **channel("PJSIP/pstn-0001", "c1", "c1", "Up", CUSTOMER)),
        event("QueueCallerJoin", Uniqueid="c1", Queue="support", Channel="PJSIP/pstn-0001"),
        event(
            "Newchannel", **channel("Local/101@from-queue-00000001;1", "l1", "c1", "Down", "101")
        ),
        event(
            "Newchannel", **channel("Local/101@from-queue-00000001;2", "l2", "c1", "Ring", "101")
        ),
        event(
            "AgentCalled",
            Uniqueid="c1",
            DestUniqueid="l1",
            Queue="support",
            DestChannel="Local/101@from-queue-00000001;1",
            Interface="Local/101@from-queue/n",
        ),
        event(
            "DialBegin",
            Uniqueid="c1",
            DestUniqueid="l1",
            DestChannel="Local/101@from-queue-00000001;1",
        ),
        event(
            "Newchannel",
            **channel("PJSIP/101-0003", "p1", "c1", "Down", "101", cid_name="Operator"),
        ),
        event("DialBegin", Uniqueid="l2", DestUniqueid="p1", DestChannel="PJSIP/101-0003"),
        event(
            "Newstate",
            **channel("PJSIP/101-0003", "p1", "c1", "Ringing", "101", connected=CUSTOMER),
        ),
        event(
            "Newstate", **channel("Local/101@from-queue-00000001;1", "l1", "c1", "Ringing", "101")
        ),
        event("Newstate", **channel("PJSIP/101-0003", "p1", "c1", "Up", "101", connected=CUSTOMER)),
        event("BridgeEnter", BridgeUniqueid="b2", BridgeType="basic", Uniqueid="l2"),
        event("BridgeEnter", BridgeUniqueid="b2", BridgeType="basic", Uniqueid="p1"),
        event("BridgeEnter", BridgeUniqueid="b1", BridgeType="basic", Uniqueid="c1"),
        event("BridgeEnter", BridgeUniqueid="b1", BridgeType="basic", Uniqueid="l1"),
        # Local optimisation: PJSIP/101 moves next to the customer, the Local pair goes away.
        event("LocalOptimizationBegin", LocalOneUniqueid="l1", LocalTwoUniqueid="l2"),
        event("BridgeLeave", BridgeUniqueid="b2", Uniqueid="p1"),
        event("BridgeEnter", BridgeUniqueid="b1", BridgeType="basic", Uniqueid="p1"),
        event("LocalOptimizationEnd", LocalOneUniqueid="l1", LocalTwoUniqueid="l2"),
        event("Hangup", Uniqueid="l1", Channel="Local/101@from-queue-00000001;1", Cause="16"),
        event("Hangup", Uniqueid="l2", Channel="Local/101@from-queue-00000001;2", Cause="16"),
    )
    assert run.names("101") == ["RingStarted", "CommutationStarted"]
    assert run.of("101")[0].queue == "support"
    run.feed(event("Hangup", Uniqueid="p1", Channel="PJSIP/101-0003", Cause="16"))
    assert run.names("101")[-1] == "RingFinished"
    assert run.tracker.live_calls == 1  # the customer is still there
    assert len(run.finish()) == 1


def test_optimised_away_local_channel_hands_the_leg_to_the_device_it_reached() -> None:
    # The line is known only as Local/101@...; the phone behind it is PJSIP/alice.
    run = Run(lines=["101"])
    run.feed(
        event("Newchannel", **channel("PJSIP/pstn-0001", "c1", "c1", "Ring", CUSTOMER)),
        event("Newchannel", **channel("Local/101@users-00000001;1", "l1", "c1", "Down", "101")),
        event("Newchannel", **channel("Local/101@users-00000001;2", "l2", "c1", "Ring", "101")),
        event(
            "DialBegin", Uniqueid="c1", DestUniqueid="l1", DestChannel="Local/101@users-00000001;1"
        ),
        event("Newchannel", **channel("PJSIP/alice-0003", "p1", "c1", "Down", "alice")),
        event("DialBegin", Uniqueid="l2", DestUniqueid="p1", DestChannel="PJSIP/alice-0003"),
        event("Newstate", **channel("PJSIP/alice-0003", "p1", "c1", "Up", "alice")),
        event("Newstate", **channel("Local/101@users-00000001;1", "l1", "c1", "Up", "101")),
        event("Hangup", Uniqueid="l1", Channel="Local/101@users-00000001;1", Cause="16"),
        event("Hangup", Uniqueid="l2", Channel="Local/101@users-00000001;2", Cause="16"),
    )
    assert run.names("101") == ["RingStarted", "CommutationStarted"]
    run.feed(event("Hangup", Uniqueid="p1", Channel="PJSIP/alice-0003", Cause="16"))
    assert run.names("101") == ["RingStarted", "CommutationStarted", "RingFinished"]


def test_click_to_call_through_a_local_channel_is_outgoing_to_the_customer() -> None:
    run = Run()
    run.feed(
        event(
            "Newchannel", **channel("Local/101@from-internal-00000001;1", "l1", "l1", "Down", "101")
        ),
        event(
            "Newchannel", **channel("Local/101@from-internal-00000001;2", "l2", "l1", "Ring", "101")
        ),
        event("DialBegin", DestUniqueid="l1", DestChannel="Local/101@from-internal-00000001;1"),
        event(
            "Newchannel",
            **channel("PJSIP/101-0002", "p1", "l1", "Down", "101", cid_name="Operator"),
        ),
        event("DialBegin", Uniqueid="l2", DestUniqueid="p1", DestChannel="PJSIP/101-0002"),
        event("Newstate", **channel("PJSIP/101-0002", "p1", "l1", "Ringing", "101")),
        event("Newstate", **channel("PJSIP/101-0002", "p1", "l1", "Up", "101")),
        event("BridgeEnter", BridgeUniqueid="b1", BridgeType="basic", Uniqueid="l2"),
        event("BridgeEnter", BridgeUniqueid="b1", BridgeType="basic", Uniqueid="p1"),
        event("Newstate", **channel("Local/101@from-internal-00000001;1", "l1", "l1", "Up", "101")),
        event("Newchannel", **channel("PJSIP/pstn-0003", "x1", "l1", "Down", "+15559870001")),
        event(
            "DialBegin",
            Uniqueid="l1",
            DestUniqueid="x1",
            DestChannel="PJSIP/pstn-0003",
            DialString="+15559870001@pstn",
        ),
    )
    # The callee becomes known when the Local ;1 half dials out, after 101 answered.
    assert run.names("101") == ["RingStarted", "CallInfoChanged"]
    assert run.of("101")[0].direction == "outgoing"
    assert run.of("101")[1].callee_number == "+15559870001"
    run.feed(
        event("Newstate", **channel("PJSIP/pstn-0003", "x1", "l1", "Up", "+15559870001")),
        event("BridgeEnter", BridgeUniqueid="b2", BridgeType="basic", Uniqueid="x1"),
        event("BridgeEnter", BridgeUniqueid="b2", BridgeType="basic", Uniqueid="l1"),
    )
    connected = run.of("101")[-1]
    assert connected.name == "CommutationStarted"
    assert (connected.direction, connected.callee_number) == ("outgoing", "+15559870001")
    assert connected.caller_number == "101"


def test_offline_phone_is_recorded_as_a_failed_call_on_its_line() -> None:
    # Asterisk 12+: no channel, no DialBegin; only DIALSTATUS=CHANUNAVAIL (README, 7).
    run = Run()
    run.feed(
        event(
            "Newchannel",
            **channel("PJSIP/pstn-0001", "c1", "c1", "Ring", CUSTOMER, cid_name="Customer"),
        ),
        event("Newexten", Uniqueid="c1", Application="Dial", AppData="PJSIP/103,15,tT"),
        event("VarSet", Uniqueid="c1", Variable="DIALSTATUS", Value=""),
        event("VarSet", Uniqueid="c1", Variable="DIALSTATUS", Value="CHANUNAVAIL"),
        event("Hangup", Uniqueid="c1", Channel="PJSIP/pstn-0001", Cause="3"),
    )
    assert run.names("103") == ["RingStarted", "RingFinished"]
    started, finished = run.of("103")
    assert started.caller_number == CUSTOMER
    assert finished.disposition == Disposition.FAILED
    (record,) = run.finish()
    assert (record.line, record.answered, record.caller_number) == ("103", False, CUSTOMER)


def test_offline_phone_on_asterisk_11_is_a_failed_call_too() -> None:
    # Asterisk 11: Dial End CHANUNAVAIL with no Begin (README of 11, fact 3).
    run = Run()
    run.feed(
        event(
            "Newchannel",
            Channel="SIP/pstn-00000001",
            ChannelStateDesc="Down",
            CallerIDNum=CUSTOMER,
            Uniqueid="a.1",
            Exten="+15550000103",
        ),
        event(
            "Newstate",
            Channel="SIP/pstn-00000001",
            ChannelStateDesc="Ring",
            CallerIDNum=CUSTOMER,
            Uniqueid="a.1",
        ),
        event(
            "Newexten",
            Channel="SIP/pstn-00000001",
            Uniqueid="a.1",
            Application="Dial",
            AppData="SIP/103,15,tT",
        ),
        event(
            "Dial",
            SubEvent="End",
            Channel="SIP/pstn-00000001",
            UniqueID="a.1",
            DialStatus="CHANUNAVAIL",
        ),
        event("Hangup", Channel="SIP/pstn-00000001", Uniqueid="a.1", Cause="20"),
    )
    assert [(item.name, getattr(item, "disposition", None)) for item in run.of("103")] == [
        ("RingStarted", None),
        ("RingFinished", Disposition.FAILED),
    ]


def test_call_waiting_keeps_two_calls_apart_on_one_line() -> None:
    run = Run()
    inbound_12(run, cust="c1", op="o1")
    answer_12(run, cust="c1", op="o1")
    run.feed(
        event("Newchannel", **channel("PJSIP/pstn-0011", "c2", "c2", "Ring", "+15550002222")),
        event("Newchannel", **channel("PJSIP/101-0012", "o2", "c2", "Down", "101")),
        event("DialBegin", Uniqueid="c2", DestUniqueid="o2", DestChannel="PJSIP/101-0012"),
        event("Hold", Uniqueid="o1", Channel="PJSIP/101-0002"),
        event("Newstate", **channel("PJSIP/101-0012", "o2", "c2", "Up", "101")),
        event("BridgeEnter", BridgeUniqueid="b2", BridgeType="basic", Uniqueid="o2"),
        event("BridgeEnter", BridgeUniqueid="b2", BridgeType="basic", Uniqueid="c2"),
        event("Hangup", Uniqueid="o2", Channel="PJSIP/101-0012", Cause="16"),
        event("Unhold", Uniqueid="o1", Channel="PJSIP/101-0002"),
        event("Hangup", Uniqueid="o1", Channel="PJSIP/101-0002", Cause="16"),
        at=1010.0,
    )
    first = [item.name for item in run.of("101") if item.call_id == "c1"]
    second = [item.name for item in run.of("101") if item.call_id == "c2"]
    assert first == [
        "RingStarted",
        "CommutationStarted",
        "PutHoldAction",
        "EndHoldAction",
        "RingFinished",
    ]
    assert second == ["RingStarted", "CommutationStarted", "RingFinished"]
    assert run.seqs("101") == list(range(1, 9))


def test_hold_by_parking_is_a_hold_of_the_same_call_on_the_same_line() -> None:
    run = Run()
    inbound_12(run)
    answer_12(run)
    run.feed(
        event("BridgeLeave", BridgeUniqueid="b-c1", Uniqueid="c1"),
        event("BridgeEnter", BridgeUniqueid="park", BridgeType="parking", Uniqueid="c1"),
        event(
            "ParkedCall",
            ParkeeUniqueid="c1",
            ParkeeChannel="PJSIP/pstn-0001",
            ParkerDialString="PJSIP/101",
            ParkingSpace="701",
            Parkinglot="default",
        ),
        event("BridgeLeave", BridgeUniqueid="b-c1", Uniqueid="o1"),
        event("Hangup", Uniqueid="o1", Channel="PJSIP/101-0002", Cause="16"),
        at=1010.0,
    )
    assert run.names("101")[-1] == "PutHoldAction"
    # The Originate that takes it back: a new channel of 101 in a new call.
    run.feed(
        event("Newchannel", **channel("PJSIP/101-0009", "o9", "o9", "Down", "101")),
        event("DialBegin", DestUniqueid="o9", DestChannel="PJSIP/101-0009"),
        event("Newstate", **channel("PJSIP/101-0009", "o9", "o9", "Ringing", "101")),
        event("Newstate", **channel("PJSIP/101-0009", "o9", "o9", "Up", "101")),
        event(
            "UnParkedCall",
            ParkeeUniqueid="c1",
            RetrieverUniqueid="o9",
            RetrieverChannel="PJSIP/101-0009",
            ParkingSpace="701",
        ),
        event("BridgeEnter", BridgeUniqueid="b9", BridgeType="basic", Uniqueid="o9"),
        event("BridgeEnter", BridgeUniqueid="b9", BridgeType="basic", Uniqueid="c1"),
        at=1016.0,
    )
    run.feed(event("Hangup", Uniqueid="c1", Channel="PJSIP/pstn-0001", Cause="16"), at=1020.0)
    run.feed(event("Hangup", Uniqueid="o9", Channel="PJSIP/101-0009", Cause="16"), at=1020.0)
    assert run.names("101") == [
        "RingStarted",
        "CommutationStarted",
        "PutHoldAction",
        "EndHoldAction",
        "RingFinished",
    ]
    assert {item.call_id for item in run.of("101")} == {"c1"}
    (record,) = run.finish()
    assert (record.hold_count, record.hold_seconds, record.disposition) == (1, 6.0, "answered")


def test_attended_transfer_moves_the_call_to_the_new_line() -> None:
    run = Run()
    inbound_12(run)
    answer_12(run)
    run.feed(
        event("Hold", Uniqueid="o1", Channel="PJSIP/101-0002"),  # Atxfer: no Unhold follows
        event(
            "Newchannel", **channel("Local/102@from-internal-00000001;1", "l1", "c1", "Down", "101")
        ),
        event(
            "Newchannel", **channel("Local/102@from-internal-00000001;2", "l2", "c1", "Ring", "101")
        ),
        event("LocalBridge", LocalOneUniqueid="l1", LocalTwoUniqueid="l2", LocalOptimization="No"),
        event("Newchannel", **channel("PJSIP/102-0005", "p2", "c1", "Down", "102", cid_name="Bob")),
        event("DialBegin", Uniqueid="l2", DestUniqueid="p2", DestChannel="PJSIP/102-0005"),
        event(
            "Newstate", **channel("PJSIP/102-0005", "p2", "c1", "Ringing", "102", connected="101")
        ),
        event("Newstate", **channel("PJSIP/102-0005", "p2", "c1", "Up", "102", connected="101")),
        event("BridgeEnter", BridgeUniqueid="b2", BridgeType="basic", Uniqueid="l2"),
        event("BridgeEnter", BridgeUniqueid="b2", BridgeType="basic", Uniqueid="p2"),
        event("BridgeLeave", BridgeUniqueid="b-c1", Uniqueid="o1"),
        event("BridgeEnter", BridgeUniqueid="b3", BridgeType="basic", Uniqueid="o1"),
        event("BridgeEnter", BridgeUniqueid="b3", BridgeType="basic", Uniqueid="l1"),
        at=1010.0,
    )
    assert [item.direction for item in run.of("102")][:1] == ["internal"]
    run.feed(
        event(
            "AttendedTransfer",
            Result="Success",
            OrigTransfererUniqueid="o1",
            SecondTransfererUniqueid="o1",
            TransfereeUniqueid="c1",
            TransferTargetUniqueid="l1",
            TransferTargetChannel="Local/102@from-internal-00000001;1",
        ),
        event("Hangup", Uniqueid="o1", Channel="PJSIP/101-0002", Cause="16"),
        event("BridgeEnter", BridgeUniqueid="b-c1", BridgeType="basic", Uniqueid="l1"),
        event(
            "NewConnectedLine",
            **channel("PJSIP/102-0005", "p2", "c1", "Up", "102", connected=CUSTOMER),
        ),
        at=1020.0,
    )
    original = [item for item in run.of("101") if item.call_id == "c1"]
    assert [item.name for item in original] == [
        "RingStarted",
        "CommutationStarted",
        "PutHoldAction",
        "CallTransferred",
        "RingFinished",
    ]
    assert original[3].transferred_to == "102"
    assert original[-1].disposition == Disposition.TRANSFERRED
    assert {item.caller_number for item in original} == {CUSTOMER}
    # The consultation was a call of its own on 101, naming 102.
    consult = [item for item in run.of("101") if item.call_id != "c1"]
    assert [item.name for item in consult] == ["RingStarted", "CommutationStarted", "RingFinished"]
    assert {(item.direction, item.callee_number) for item in consult} == {("internal", "102")}
    assert run.of("102")[-1].name == "CallInfoChanged"
    assert run.of("102")[-1].caller_number == CUSTOMER


def test_busy_party_gives_abonent_busy_then_a_busy_ring_finished() -> None:
    run = Run()
    run.feed(
        event(
            "Newchannel",
            **channel("PJSIP/101-0001", "o1", "o1", "Ring", "101", exten="+15557770000"),
        ),
        event("Newchannel", **channel("PJSIP/pstn-0002", "x1", "o1", "Down", "+15557770000")),
        event("DialBegin", Uniqueid="o1", DestUniqueid="x1", DestChannel="PJSIP/pstn-0002"),
        event("DialEnd", Uniqueid="o1", DestUniqueid="x1", DialStatus="BUSY"),
        event("Hangup", Uniqueid="x1", Channel="PJSIP/pstn-0002", Cause="17"),
        event("Hangup", Uniqueid="o1", Channel="PJSIP/101-0001", Cause="17"),
    )
    assert run.names("101") == ["RingStarted", "AbonentBusy", "RingFinished"]
    assert run.of("101")[0].direction == "outgoing"
    assert run.of("101")[0].callee_number == "+15557770000"
    assert run.of("101")[-1].disposition == Disposition.BUSY


def test_channels_of_unknown_devices_are_followed_but_emit_nothing() -> None:
    run = Run(lines=["555"])
    inbound_12(run)
    answer_12(run)
    assert run.events == []
    assert run.tracker.live_channels == 2


def test_stale_channels_are_swept_with_a_failed_ring_finished() -> None:
    run = Run(stale_after=60.0)
    inbound_12(run)
    events: list[Any] = run.tracker.sweep(now=1000.0 + 61)
    assert [(item.name, item.disposition) for item in events] == [("RingFinished", "failed")]
    assert run.tracker.live_channels == 0
    assert run.feed(event("Hangup", Uniqueid="o1", Channel="PJSIP/101-0002", Cause="16")) == []


def test_rebuild_from_core_show_channels_finishes_vanished_calls_and_adopts_new_ones() -> None:
    run = Run()
    inbound_12(run)
    answer_12(run)
    listed: list[Any] = run.feed(
        event(
            "CoreShowChannel",
            Channel="PJSIP/102-0009",
            Uniqueid="o9",
            Linkedid="c9",
            ChannelStateDesc="Up",
            CallerIDNum="102",
            ConnectedLineNum=CUSTOMER,
            BridgeId="b9",
        ),
        event(
            "CoreShowChannel",
            Channel="PJSIP/pstn-0008",
            Uniqueid="c9",
            Linkedid="c9",
            ChannelStateDesc="Up",
            CallerIDNum=CUSTOMER,
            ConnectedLineNum="102",
            BridgeId="b9",
        ),
        event("CoreShowChannelsComplete", EventList="Complete", ListItems="2"),
        at=1100.0,
    )
    assert [(item.line, item.name) for item in listed] == [
        ("102", "RingStarted"),
        ("102", "CommutationStarted"),
        ("101", "RingFinished"),
    ]
    assert listed[0].caller_number == CUSTOMER
    assert run.tracker.live_channels == 2


def test_snapshot_shows_every_live_call() -> None:
    run = Run()
    inbound_12(run)
    answer_12(run)
    inbound_12(run, cust="c2", op="o2", line="102")
    snapshot: list[Any] = run.tracker.snapshot()
    assert sorted((item.line, item.state, item.answered) for item in snapshot) == [
        ("101", "connected", True),
        ("102", "ringing", False),
    ]
    assert all(item.code == 10 for item in snapshot)


def test_queue_pause_is_a_line_state_change() -> None:
    run = Run()
    changed: Any
    (changed,) = run.feed(
        event(
            "QueueMemberPause",
            Queue="support",
            Interface="PJSIP/101",
            Paused="1",
            PausedReason="lunch",
        ),
    )
    assert (changed.name, changed.code, changed.line, changed.paused) == (
        "LineStateChanged",
        11,
        "101",
        True,
    )


def test_masquerade_keeps_the_live_customer_leg_in_its_call() -> None:
    # Asterisk 11 attended transfer: the customer's channel changes Uniqueid (README of 11, 6).
    run = Run()
    run.feed(
        event(
            "Newchannel",
            Channel="SIP/pstn-00000011",
            ChannelStateDesc="Ring",
            CallerIDNum=CUSTOMER,
            Uniqueid="a.17",
        ),
        event(
            "Newchannel",
            Channel="SIP/102-00000012",
            ChannelStateDesc="Down",
            CallerIDNum="102",
            Uniqueid="a.18",
        ),
        event(
            "Dial",
            SubEvent="Begin",
            Channel="SIP/pstn-00000011",
            Destination="SIP/102-00000012",
            UniqueID="a.17",
            DestUniqueID="a.18",
        ),
        event(
            "Newstate",
            Channel="SIP/102-00000012",
            ChannelStateDesc="Up",
            CallerIDNum="102",
            ConnectedLineNum=CUSTOMER,
            Uniqueid="a.18",
        ),
        event(
            "Newchannel",
            Channel="Transfered/SIP/pstn-00000011",
            ChannelStateDesc="Down",
            Uniqueid="a.22",
        ),
        event("Masquerade", Clone="SIP/pstn-00000011", Original="Transfered/SIP/pstn-00000011"),
        event(
            "Rename",
            Channel="SIP/pstn-00000011",
            Newname="SIP/pstn-00000011<MASQ>",
            Uniqueid="a.17",
        ),
        event(
            "Rename",
            Channel="Transfered/SIP/pstn-00000011",
            Newname="SIP/pstn-00000011",
            Uniqueid="a.22",
        ),
        event("Hangup", Channel="SIP/pstn-00000011<ZOMBIE>", Uniqueid="a.17", Cause="0"),
    )
    assert run.names("102") == ["RingStarted", "CommutationStarted"]
    run.feed(event("Hangup", Channel="SIP/102-00000012", Uniqueid="a.18", Cause="16"))
    assert run.names("102")[-1] == "RingFinished"
    run.feed(event("Hangup", Channel="SIP/pstn-00000011", Uniqueid="a.22", Cause="0"))
    assert run.tracker.live_calls == 0


def test_live_keys_name_the_calls_still_going_per_line() -> None:
    run = Run()
    inbound_12(run)
    answer_12(run)
    inbound_12(run, cust="c2", op="o2", line="102")
    assert run.tracker.live_keys() == {("c1", "101"), ("c2", "102")}
    run.feed(event("Hangup", Uniqueid="o1", Channel="PJSIP/101-0002", Cause="16"))
    assert run.tracker.live_keys() == {("c2", "102")}


def test_every_fact_type_has_a_handler() -> None:
    # Dispatch is by type: a new fact without a handler would be a KeyError on real traffic.
    from typing import get_args

    from telephony.callmodel.facts import AnyFact

    assert set(get_args(AnyFact)) == set(Run().tracker._handlers)
