"""The Asterisk Manager Interface: bytes, packets, actions and the asyncio client.

Imports nothing from Django, Channels, Redis or the rest of ``telephony``.
"""

from .client import AmiClient
from .config import AmiConfig
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
from .status import ConnectionStatus

__all__ = [
    "Action",
    "AmiActionFailed",
    "AmiClient",
    "AmiConfig",
    "AmiConnectionLost",
    "AmiEncodeError",
    "AmiError",
    "AmiLoginFailed",
    "AmiParser",
    "AmiTimeout",
    "ConnectionStatus",
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
