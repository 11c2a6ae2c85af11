"""A packet's repr never shows the AMI login secret: reprs reach logs and tracebacks."""

from __future__ import annotations

import pytest

from telephony.ami import Action, AmiParser, make_action

SECRET = "pa55-unique-Zq9"


@pytest.mark.parametrize("header", ["Secret", "Key", "secret", "KEY"])
def test_a_login_actions_repr_masks_its_secret_or_md5_key(header: str) -> None:
    action = make_action(
        "Login", [("Username", "cti"), (header, SECRET), ("AuthType", "MD5")], action_id="l1"
    )

    shown = repr(action)

    assert SECRET not in shown
    assert f"{header}: ***" in shown
    assert "Username: cti" in shown  # the rest stays readable
    assert action[header] == SECRET  # only the repr is masked, not the packet


def test_a_parsed_login_keeps_its_secret_out_of_the_repr() -> None:
    # The test peer parses the client's Login from the wire, CRLF and odd case included.
    data = f"Action: Login\r\nUsername: cti\r\nsecret:{SECRET}\r\nEvents: on\r\n\r\n".encode()
    [action] = AmiParser().feed(data)

    assert isinstance(action, Action)
    assert SECRET not in repr(action)
    assert "Events: on" in repr(action)


def test_a_header_that_only_starts_like_key_is_shown() -> None:
    action = make_action("Events", [("KeyPressed", "5"), ("EventMask", "call")])

    assert "KeyPressed: 5" in repr(action)
