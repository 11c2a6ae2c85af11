"""What the worker and the command builder know of a connector: a frozen copy of its row.

Pure data, so ``commands.py`` and the worker's loops never touch the ORM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .ami.config import AmiConfig

#: What operators may dial besides the connector's own extensions (those always pass, see
#: ``commands.check_number``), after spaces, dashes, dots and brackets are removed:
#: international numbers (``+`` or ``00``, 8-15 digits), national numbers with a trunk ``0``
#: and numbers of 7-15 digits. It refuses ``*``/``#`` feature codes (``*67#``), short service
#: numbers (``112``, ``900``) and the 900 / 0900 / 1900 / 09 premium-rate ranges. Narrower or
#: wider per connector in the admin (README, "Dial pattern").
DEFAULT_DIAL_PATTERN = (
    r"^(?:(?:\+|00)(?!1900)[1-9][0-9]{7,14}|(?!1?900)[1-9][0-9]{6,14}|0[1-8][0-9]{6,13})$"
)


@dataclass(frozen=True, slots=True)
class ConnectorConfig:
    """One PBX connector's settings, as the worker uses them."""

    id: int
    name: str
    ami: AmiConfig
    dialect: str = "auto"  # "auto", "12" or "11"
    originate_context: str = "from-internal"
    outbound_dial_pattern: str = DEFAULT_DIAL_PATTERN
    channel_template: str = "PJSIP/{ext}"
    hold_method: str = "park"  # "park", "phone-notify" or "none"
    answer_method: str = "none"  # "phone-notify" or "none"
    parking_lot: str = ""
    #: Extension number -> device (``PJSIP/101``): the lines this connector reports on.
    lines: dict[str, str] = field(default_factory=dict)

    @property
    def dial_pattern(self) -> re.Pattern[str]:
        return re.compile(self.outbound_dial_pattern)

    def device_for(self, line: str) -> str:
        """The device that rings for a line (``PJSIP/101``)."""
        return self.lines.get(line) or self.channel_template.replace("{ext}", line)

    @property
    def is_legacy(self) -> bool:
        """Asterisk 1.8/11: no BlindTransfer action, SIPnotify instead of PJSIPNotify."""
        return self.dialect == "11"

    @property
    def capabilities(self) -> dict[str, bool]:
        """What the panel may offer on this connector."""
        return capabilities(self.dialect, self.hold_method, self.answer_method)


def capabilities(dialect: str, hold_method: str, answer_method: str) -> dict[str, bool]:
    """What the panel may offer, from the three settings it depends on."""
    return {
        "dial": True,
        "hangup": True,
        "hold": hold_method != "none",
        "answer": answer_method != "none",
        "blind_transfer": True,
        "attended_transfer": True,  # Atxfer works on 11 too (k/f captures)
        "cancel_transfer": True,  # by hanging up the consulted party (commands.py)
        "dtmf": True,
        "dnd": True,
    }
