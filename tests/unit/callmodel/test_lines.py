"""Device matching: which operator line a channel name or dial target belongs to."""

from __future__ import annotations

import pytest

from telephony.callmodel import LineMatcher, parse_channel, parse_dial_target
from telephony.callmodel.lines import dial_targets

CONFIGURED = LineMatcher(["101", "102"])


@pytest.mark.parametrize(
    ("channel", "line"),
    [
        ("PJSIP/101-0000002a", "101"),
        ("SIP/101-00000005", "101"),
        ("IAX2/101-1234", "101"),
        ("Local/101@from-internal-00000001;1", "101"),
        ("Local/101@from-queue-0000000a;1", "101"),
        ("PJSIP/pstn-00000024", None),
        ("PJSIP/103-00000001", None),
        ("SIP/pstn-00000011<ZOMBIE>", None),
        ("Transfered/SIP/101-00000011", "101"),
        ("garbage", None),
    ],
)
def test_channel_names_match_configured_lines(channel: str, line: str | None) -> None:
    assert CONFIGURED.line_of_channel(channel) == line


def test_local_channel_halves_share_a_device() -> None:
    one, two = parse_channel("Local/101@ctx-00000001;1"), parse_channel("Local/101@ctx-00000001;2")
    assert one is not None and two is not None
    assert (one.name, one.local_half, two.local_half) == ("Local/101@ctx", 1, 2)


def test_queue_member_interface_is_a_line() -> None:
    assert CONFIGURED.line_of(parse_dial_target("Local/101@from-queue/n")) == "101"


def test_dial_application_data_names_each_target() -> None:
    names = [
        device.name for device in dial_targets("PJSIP/101&SIP/pstn/+1555&PJSIP/+1555@pstn,15,tT")
    ]
    assert names == ["PJSIP/101", "SIP/pstn", "PJSIP/pstn"]


def test_without_configuration_short_numeric_devices_are_phones() -> None:
    guess = LineMatcher()
    assert guess.line_of_channel("PJSIP/2001-00000001") == "2001"
    assert guess.line_of_channel("PJSIP/pstn-00000001") is None
    assert guess.line_of_channel("PJSIP/15551230001-00000001") is None


def test_devices_can_be_mapped_to_lines_explicitly() -> None:
    matcher = LineMatcher(["101"], devices={"PJSIP/alice": "101"})
    assert matcher.line_of_channel("PJSIP/alice-00000001") == "101"
