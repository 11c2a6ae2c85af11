"""A supervisor listens, whispers or barges: an Originate that rings the supervisor's own
phone and runs ChanSpy on the operator's channel, with the options Asterisk 11 and 12+
both read. Pure: config and call view in, actions out.
"""

from __future__ import annotations

import pytest

from telephony.ami import encode_action
from telephony.commands import CallView, Command, CommandRejected, build_actions
from tests.factories import make_connector_config

MODERN = make_connector_config(lines={"101": "PJSIP/101", "102": "PJSIP/102"})
LEGACY = make_connector_config(
    dialect="11", channel_template="SIP/{ext}", lines={"101": "SIP/101", "102": "SIP/102"}
)
CALL = CallView(
    call_id="1772443800.41",
    line="101",
    state="connected",
    channel="PJSIP/101-00000029",
    peer_channel="PJSIP/pstn-0000002a",
)


@pytest.mark.parametrize(
    ("verb", "options"), [("listen", "bqE"), ("whisper", "bqwE"), ("barge", "bqBE")]
)
def test_spying_rings_the_supervisors_phone_into_chanspy(verb: str, options: str) -> None:
    command = Command(verb=verb, line="101", call_id=CALL.call_id, target="102")
    [action] = build_actions(MODERN, command, CALL)
    fields = dict(action.fields)
    assert action.name == "Originate"
    assert fields["Channel"] == "PJSIP/102"
    assert fields["Application"] == "ChanSpy"
    assert fields["Data"] == f"PJSIP/101-00000029,{options}"
    assert fields["Async"] == "true"
    encode_action(action)  # a valid AMI action, no CR/LF anywhere


def test_asterisk_11_rings_the_supervisors_sip_device() -> None:
    legacy_call = CallView("c", "101", "connected", "SIP/101-00000003", "SIP/pstn-00000004")
    command = Command(verb="barge", line="101", call_id="c", target="102")
    [action] = build_actions(LEGACY, command, legacy_call)
    assert dict(action.fields)["Channel"] == "SIP/102"
    assert dict(action.fields)["Data"] == "SIP/101-00000003,bqBE"


@pytest.mark.parametrize("target", [None, "+15551230002", "101", "102\r\nAction: Command"])
def test_spying_needs_another_line_of_this_pbx_as_the_phone(target: str | None) -> None:
    command = Command(verb="listen", line="101", call_id=CALL.call_id, target=target)
    with pytest.raises(CommandRejected) as refused:
        build_actions(MODERN, command, CALL)
    assert refused.value.code == "invalid-input"


def test_spying_on_a_call_that_is_gone_is_refused() -> None:
    command = Command(verb="whisper", line="101", call_id="gone", target="102")
    with pytest.raises(CommandRejected) as refused:
        build_actions(MODERN, command, None)
    assert refused.value.code == "no-such-call"
