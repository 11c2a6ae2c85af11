"""One exception tree for everything raised by ``telephony.ami``.

Transient errors (a dropped connection) are retried by the client; permanent ones (a
refused login) stop it. The reconnect loop branches on ``permanent``, never on text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .packets import Action, Response


class AmiError(Exception):
    """Base of every AMI error."""

    permanent = False


class AmiEncodeError(AmiError, ValueError):
    """An action field would break the wire format (CR/LF injection, empty key)."""

    permanent = True

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"AMI field {field!r}: {problem}")
        self.field = field
        self.problem = problem


class AmiConnectionLost(AmiError):
    """The TCP connection dropped, timed out or never opened; reconnecting may help."""


class AmiLoginFailed(AmiError):
    """Asterisk refused the credentials; retrying with the same ones will not help."""

    permanent = True


class AmiTimeout(AmiError):
    """An action got no response in time."""


class AmiActionFailed(AmiError):
    """Asterisk answered an action with ``Response: Error``."""

    def __init__(self, action: Action, response: Response) -> None:
        super().__init__(f"{action.name} failed: {response.message or response.status}")
        self.action = action
        self.response = response
