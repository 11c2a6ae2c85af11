"""The Asterisk Manager Interface: bytes, packets, actions and the asyncio client.

Imports nothing from Django, Channels, Redis or the rest of ``telephony``.
"""

from .errors import (
    AmiActionFailed,
    AmiConnectionLost,
    AmiEncodeError,
    AmiError,
    AmiLoginFailed,
    AmiTimeout,
)
from .packets import Action, Event, Field, Greeting, MalformedPacket, Message, Packet, Response
from .protocol import AmiParser, encode_action, encode_message, make_action, new_action_id

__all__ = [
    "Action",
    "AmiActionFailed",
    "AmiConnectionLost",
    "AmiEncodeError",
    "AmiError",
    "AmiLoginFailed",
    "AmiParser",
    "AmiTimeout",
    "Event",
    "Field",
    "Greeting",
    "MalformedPacket",
    "Message",
    "Packet",
    "Response",
    "encode_action",
    "encode_message",
    "make_action",
    "new_action_id",
]
