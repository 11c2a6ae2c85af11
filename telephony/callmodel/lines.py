"""Device matching: which operator line, if any, a channel or dial target belongs to.

Knows channel-name grammar (``PJSIP/101-0000002a``, ``Local/101@ctx-00000001;2``) and
nothing of events or calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: The unique suffix Asterisk appends to a device to name a channel: ``-0000002a`` for
#: SIP/PJSIP/IAX2, ``-00000001;1`` for Local (12+); Asterisk 1.8/11 Local names look the same.
_SUFFIX = re.compile(r"-[0-9a-fA-F]{4,}(;[12])?$")
#: Masquerade/zombie decorations Asterisk 11 adds to names (``SIP/pstn-0011<MASQ>``).
_DECORATION = re.compile(r"<[A-Z]+>$")
#: Without configured lines, a device whose resource is a short number is taken for a phone.
_PHONE_RESOURCE = re.compile(r"^[0-9]{2,6}$")
_TECHS_WITH_AT_ENDPOINT = frozenset({"PJSIP", "SIP", "IAX2"})


@dataclass(frozen=True, slots=True)
class Device:
    """The device part of a channel name: ``PJSIP/101``, ``Local/101@from-queue``."""

    tech: str
    resource: str
    context: str | None = None
    local_half: int | None = None

    @property
    def is_local(self) -> bool:
        return self.tech.lower() == "local"

    @property
    def name(self) -> str:
        at = f"@{self.context}" if self.context else ""
        return f"{self.tech}/{self.resource}{at}"


def parse_channel(channel: str) -> Device | None:
    """``PJSIP/101-0000002a`` -> Device(PJSIP, 101); None for names without a technology."""
    name = _DECORATION.sub("", channel.strip())
    if name.startswith("Transfered/"):
        # Asterisk 11 masquerade placeholder: the channel it stands in for follows.
        name = name[len("Transfered/") :]
    tech, slash, rest = name.partition("/")
    if not slash or not tech or not rest:
        return None
    half: int | None = None
    match = _SUFFIX.search(rest)
    if match is not None:
        if match.group(1):
            half = int(match.group(1)[1])
        rest = rest[: match.start()]
    elif rest.endswith((";1", ";2")):
        half = int(rest[-1])
        rest = rest[:-2]
    return _device(tech, rest, half)


def parse_dial_target(target: str) -> Device | None:
    """A Dial() or queue-member target: ``PJSIP/103``, ``SIP/pstn/+1555``, ``Local/101@q/n``."""
    tech, slash, rest = target.strip().partition("/")
    if not slash or not tech or not rest:
        return None
    if tech.lower() == "local":
        # Local/101@from-queue/n: the options after the second slash are not the device.
        rest = rest.split("/", 1)[0]
        return _device(tech, rest, None)
    if tech.upper() in _TECHS_WITH_AT_ENDPOINT and "@" in rest:
        # PJSIP/+15559870001@pstn dials number +1555... through endpoint pstn.
        return Device(tech, rest.split("@", 1)[1].split("/", 1)[0])
    return Device(tech, rest.split("/", 1)[0])


def dial_targets(app_data: str) -> tuple[Device, ...]:
    """Devices named by ``Dial()`` application data: ``PJSIP/101&SIP/102,15,tT``."""
    first = app_data.split(",", 1)[0]
    devices = (parse_dial_target(part) for part in first.split("&") if part.strip())
    return tuple(device for device in devices if device is not None)


def _device(tech: str, rest: str, half: int | None) -> Device:
    if tech.lower() == "local":
        exten, _, context = rest.partition("@")
        return Device(tech, exten, context or None, half)
    return Device(tech, rest, None, half)


class LineMatcher:
    """Answers "which line is this device?" from the configured extensions.

    With ``lines`` given, a device matches when its resource (``101`` of ``PJSIP/101`` or of
    ``Local/101@from-queue``) is one of them, or when ``devices`` maps its name to a line
    (``{"PJSIP/alice": "101"}``). Without configuration every short numeric resource counts.
    """

    def __init__(
        self,
        lines: Iterable[str] | None = None,
        devices: Mapping[str, str] | None = None,
    ) -> None:
        self._lines = frozenset(lines) if lines is not None else None
        self._devices = {name.lower(): line for name, line in (devices or {}).items()}

    @property
    def is_configured(self) -> bool:
        return self._lines is not None

    def is_line_number(self, number: str | None) -> bool:
        """True when a caller-ID number is itself one of the lines (an internal party)."""
        if not number:
            return False
        if self._lines is not None:
            return number in self._lines or number in self._devices.values()
        return _PHONE_RESOURCE.match(number) is not None

    def line_of(self, device: Device | None) -> str | None:
        """The line a device belongs to, or None for trunks and unknown devices."""
        if device is None:
            return None
        mapped = self._devices.get(device.name.lower())
        if mapped is None and device.is_local:
            mapped = self._devices.get(f"local/{device.resource}".lower())
        if mapped is not None:
            return mapped
        if self._lines is not None:
            return device.resource if device.resource in self._lines else None
        return device.resource if _PHONE_RESOURCE.match(device.resource) else None

    def line_of_channel(self, channel: str) -> str | None:
        return self.line_of(parse_channel(channel))
