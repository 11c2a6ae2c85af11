"""A Creatio ``MsgServiceCtiProvider`` look-alike, written from the TMS protocol notes
(``../shared/tms-protocol.md``; what we implement is docs/tms-compatibility.md), for tests
against a real daphne.

It sends frames as the provider does: one compact ``JSON.stringify`` object per text frame,
the ``MsgCommandInfo`` keys in their order, ``commandExecutor`` and ``parameters`` omitted when
there are none, the call serialized by ``Call.serialize()`` (§5.2: twelve fields in order, the
empty ones left out) and so double-encoded. It reads frames strictly, as the provider does in
debug mode: an ``eventType`` that is not a number, a key outside ``MsgEventInfo`` or a call
key outside the 22 serialized ones is a protocol violation the test sees
(``violations``), and each event's ``content`` is decoded only where the provider decodes it.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

V2 = "Terrasoft.Messaging.Asterisk.V2.AsteriskConnector, Terrasoft.Messaging.Asterisk.V2"
V1 = "Terrasoft.Messaging.Asterisk.AsteriskManager, Terrasoft.Messaging.Asterisk"
CALL_TYPE = "Terrasoft.Messaging.Common.Call, Terrasoft.Messaging.Common"
IN = "1d96a65f-2131-4916-8825-2d142b1000b2"
OUT = "53f71b5f-7e17-4cf5-bf14-6a59212db422"
UNKNOWN = "c072be2c-3d82-4468-9d4a-6db47d1f4cca"
EVENT_KEYS = {"eventType", "content", "connectionUId", "commandUId", "contentType", "privateData"}
CALL_KEYS = set(
    [
        "id",
        "databaseUId",
        "userContactUId",
        "callFeaturesSet",
        "deviceId",
        "callerId",
        "calledId",
        "direction",
        "callContext",
        "callContextType",
        "startTime",
        "endTime",
        "state",
        "oldState",
        "currentHoldStartTime",
        "totalHoldDuration",
        "connectionStartTime",
        "currentTalkStartTime",
        "totalTalkDuration",
        "redirectingId",
        "redirectionId",
        "timeStamp",
    ]
)
SERIALIZED = [
    "id",
    "databaseUId",
    "userContactUId",
    "deviceId",
    "callerId",
    "calledId",
    "direction",
    "callContext",
    "callContextType",
    "state",
    "redirectingId",
    "redirectionId",
]
#: Event types whose content is a call (§4).
CALL_EVENTS = {5, 6, 7, 8, 9, 13, 15, 17}


def serialize_call(call: dict[str, Any]) -> str:
    """``Call.serialize()``: the §5.2 fields in order, only the non-empty ones."""
    kept = {key: call[key] for key in SERIALIZED if call.get(key) not in (None, "")}
    return json.dumps(kept, separators=(",", ":"))


@dataclass
class Event:
    """One server frame as the provider sees it: the type and the decoded ``content``."""

    type: int
    content: Any
    raw: dict[str, Any]


@dataclass
class TmsClient:
    """One provider socket. A reader task keeps every frame; ``calls`` mirrors CtiModel's
    ``activeCalls`` (added on the first event of an id, removed on RING_FINISHED, rebuilt by
    a snapshot)."""

    socket: ClientConnection
    events: list[Event] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    library_uid: str = ""
    connection_uid: str = ""
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    closed: bool = False
    reader: asyncio.Task[None] | None = None

    # -- sending, as P:213-236 ----------------------------------------------------------------

    async def command(
        self,
        name: str,
        parameters: dict[str, Any] | None = None,
        call: dict[str, Any] | None = None,
    ) -> None:
        frame: dict[str, Any] = {
            "commandUId": "",
            "command": name,
            "libraryInstanceUId": self.library_uid,
            "connectionUId": self.connection_uid,
            "commandExecutorId": call["id"] if call else "",
            "commandExecutorType": CALL_TYPE if call else "",
        }
        if call is not None:
            frame["commandExecutor"] = serialize_call(call)
        if parameters is not None:
            frame["parameters"] = parameters
        await self.socket.send(json.dumps(frame, separators=(",", ":")))

    async def handshake(
        self, extension: str, key: str | None, library: str = V2, *, wait: bool = True
    ) -> None:
        """LoadLibrary -> 1 -> OpenConnection -> 2 -> QueryActiveCallSnapshot (as CtiModel)."""
        start = len(self.events)
        await self.command("LoadLibrary", {"AssemblyName": library})
        first = await self.wait_event(lambda e: e.type in {1, 3}, after=start)
        if first.type != 1:
            return
        params: dict[str, Any] = {
            "debugMode": False,
            "disableCallCentre": False,
            "useBlindTransfer": False,
            "ExtensionName": extension,
        }
        if key is not None:
            params["tmsKey"] = key
        session = {"UserUId": "u-1", "UserContactUId": "c-1", "ServiceUrl": "http://creatio/0"}
        await self.command(
            "OpenConnection",
            {
                "connectionParams": json.dumps(params, separators=(",", ":")),
                "sessionServiceParams": json.dumps(session, separators=(",", ":")),
            },
        )
        opened = await self.wait_event(lambda e: e.type in {2, 3}, after=start)
        if opened.type == 2 and wait:
            await self.command("QueryActiveCallSnapshot")
            await self.wait_event(lambda e: e.type == 10, after=start)

    # -- receiving, as P:51-144 -----------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for raw in self.socket:
                self._receive(raw)
                async with self.changed:
                    self.changed.notify_all()
        finally:
            self.closed = True
            async with self.changed:
                self.changed.notify_all()

    def _receive(self, raw: str | bytes) -> None:
        if not isinstance(raw, str):
            self.violations.append("binary frame")
            return
        self.frames.append(raw)
        try:
            message = json.loads(raw)
        except ValueError:
            self.violations.append(f"not JSON: {raw[:80]}")
            return
        if not isinstance(message, dict):
            self.violations.append(f"not an object: {raw[:80]}")
            return
        unknown = set(message) - EVENT_KEYS
        if unknown:
            self.violations.append(f"unknown MsgEventInfo keys {sorted(unknown)}")
            return
        event_type = message.get("eventType")
        if isinstance(event_type, bool) or not isinstance(event_type, int):
            self.violations.append(f"eventType is not a number: {event_type!r}")
            return
        if event_type == 0:
            return
        content: Any = message.get("content")
        if event_type == 1:
            self.library_uid = str(content)  # raw, never decoded
        elif event_type == 2:
            self.connection_uid = message.get("connectionUId") or ""
        elif event_type != 4 and isinstance(content, str):
            try:
                content = json.loads(content)  # Terrasoft.decode
            except ValueError:
                self.violations.append(f"content of {event_type} is not JSON: {content!r}")
                return
        if event_type in CALL_EVENTS:
            self._check_call(content, event_type)
            self._apply(event_type, content)
        elif event_type == 10:
            if set(content) != {"ActiveCalls", "CurrentCall"}:
                self.violations.append(f"snapshot keys {sorted(content)}")
            self.calls = {}
            for call in content["ActiveCalls"]:
                self._check_call(call, 10)
                self.calls[call["id"]] = dict(call)
        elif event_type == 14:
            self.calls = {}
        self.events.append(Event(event_type, content, message))

    def _check_call(self, call: Any, event_type: int) -> None:
        if not isinstance(call, dict):
            self.violations.append(f"content of {event_type} is not a call")
            return
        unknown = set(call) - CALL_KEYS
        if unknown:
            self.violations.append(f"unknown call keys {sorted(unknown)} in {event_type}")
        if not isinstance(call.get("callFeaturesSet"), int):
            self.violations.append(f"no numeric callFeaturesSet in {event_type}")
        if call.get("direction") not in {IN, OUT, UNKNOWN}:
            self.violations.append(f"direction {call.get('direction')!r} in {event_type}")
        state = call.get("state")
        if isinstance(state, bool) or state not in range(7):
            self.violations.append(f"state {state!r} in {event_type}")

    def _apply(self, event_type: int, call: Any) -> None:
        if not isinstance(call, dict) or "id" not in call:
            return
        self.calls.setdefault(call["id"], {}).update(call)
        if event_type == 6:
            self.calls.pop(call["id"], None)

    # -- waiting --------------------------------------------------------------------------------

    async def wait_event(self, predicate: Any, *, after: int = 0, timeout: float = 10.0) -> Event:
        def found() -> Event | None:
            return next((e for e in self.events[after:] if predicate(e)), None)

        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(lambda: found() is not None or self.closed)
        event = found()
        if event is None:
            failure = self.reader.exception() if self.reader and self.reader.done() else None
            raise AssertionError(f"socket closed ({failure!r}); events {self.types()}")
        return event

    async def wait_for_count(self, predicate: Any, count: int, *, timeout: float = 10.0) -> None:
        """Until ``count`` events match (or the socket closed: AssertionError)."""

        def matched() -> int:
            return sum(1 for e in self.events if predicate(e))

        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(lambda: matched() >= count or self.closed)
        assert matched() >= count, f"{matched()} of {count}; socket closed"

    async def wait_closed(self, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(lambda: self.closed)

    def types(self) -> list[int]:
        return [event.type for event in self.events]


class Opened:
    """``async with Opened(url, origin) as client``: a connected client with its reader."""

    def __init__(self, url: str, origin: str | None) -> None:
        self.url = url
        self.origin = origin
        self._connect: Any = None

    async def __aenter__(self) -> TmsClient:
        options: dict[str, Any] = {"origin": self.origin} if self.origin else {}
        self._connect = connect(self.url, **options)
        socket = await self._connect.__aenter__()
        client = TmsClient(socket)
        client.reader = asyncio.create_task(client._read())
        self.client = client
        return client

    async def __aexit__(self, *exc: object) -> None:
        if self.client.reader is not None:
            self.client.reader.cancel()
        await self._connect.__aexit__(*exc)
