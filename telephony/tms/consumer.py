"""Creatio's TMS socket: the handshake, then one line's commands and call events.

The wire is ``mapping``'s; who may open which line is ``access``'s. Commands take our own
panel's path: ``mapping.panel_request`` builds the panel's request, ``web.dispatch.route``
checks ownership and numbers, and the worker gets the same ``command.run``. Events are the
``call.events`` the worker publishes to the line's group, mapped one by one, in order.
Admission is our panel's (``web.admission``): the opened line counts against its operator's
socket cap, ``OpenConnection`` and snapshots read the database on the hello pool with load
shedding, and the send buffer is bounded (docs/tms-compatibility.md, "Limits").
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from ..commands import CommandRejected
from ..groups import line_group, status_group, worker_group
from ..models import ConnectorStatus
from ..web import admission, dispatch, limits
from . import access, mapping
from .mapping import ErrorType, EventType, TmsCommand, TmsError

logger = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403
_line_calls = database_sync_to_async(access.line_calls)
_still_allowed = database_sync_to_async(access.still_allowed)
_route = database_sync_to_async(dispatch.route)


class TmsConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]  # channels is untyped
    """One Creatio browser provider (``MsgServiceCtiProvider``) on one operator line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bucket = limits.command_bucket()
        self.library_uid: str | None = None
        self.connection_uid: str | None = None
        self.line: access.TmsLine | None = None
        self.admitted: int | None = None  # the operator whose socket cap this counts against
        self.seen_seq = 0  # events up to it are in the snapshot the client has
        # Read with OpenConnection, in its turn on the hello pool: CtiModel's first
        # QueryActiveCallSnapshot is answered from it unless a call event was relayed since.
        self.first_snapshot: list[dict[str, Any]] | None = None
        self.live: set[str] = set()  # call ids the client holds for the line
        self.redirected: dict[str, str] = {}  # call id -> where a transfer took it
        self.agent_state = "Active"
        self.dnd = False
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        #: request_id -> set when the worker acknowledged it (``command.accepted``)
        self.accepted: dict[str, asyncio.Event] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.next_id = 0

    # -- socket life -----------------------------------------------------------------------

    async def connect(self) -> None:
        # No credential can come before OpenConnection (the protocol has none in the
        # handshake); an unknown socket can only load the library until then.
        await self.accept()

    async def disconnect(self, code: int) -> None:
        self._unadmit()
        for task in list(self.tasks):
            task.cancel()
        self.tasks.clear()
        self.pending.clear()

    async def _send_event(
        self, event_type: EventType, content: Any, private_data: Any = None
    ) -> None:
        frame = mapping.event(event_type, content, self.connection_uid, private_data)
        await self.send(text_data=mapping.encode_event(frame))

    async def _send_error(self, error: CommandRejected, source: str) -> None:
        frame = mapping.error_event(error, source, self.connection_uid)
        await self.send(text_data=mapping.encode_event(frame))

    # -- provider -> server ----------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.bucket.take(time.monotonic()):
            error = TmsError(ErrorType.COMMAND, "rate-limited", "too many commands")
            await self._send_error(error, "")
            return
        try:
            command = mapping.parse_command(
                text_data, max_bytes=int(limits.number("CTI_MAX_MESSAGE_BYTES", 4096))
            )
            await self._handle(command)
        except admission.Busy:
            # Shed like our panel's 4503. CtiModel ignores close codes: the close alone
            # makes it come back, after its own growing delay (5 s, 15 s, 25 s...); the
            # ERROR (type 0: logged, no second reconnect timer) says why.
            busy = TmsError(ErrorType.GENERAL, "try-later", "the server is busy; retrying")
            await self._send_error(busy, _source(text_data))
            await self.close(code=admission.CLOSE_TRY_LATER)
        except TmsError as error:
            await self._send_error(error, _source(text_data))
            if error.error_type in {ErrorType.AUTHENTICATION, ErrorType.OPEN_CONNECTION}:
                # CtiModel opens a new socket for these (or on close): not two at once.
                await self.close(code=CLOSE_FORBIDDEN)
        except CommandRejected as rejected:
            await self._send_error(rejected, _source(text_data))
        except Exception:  # a bug or the database: the provider still gets its answer
            logger.exception("TMS frame failed: %.200r", text_data)
            failed = TmsError(ErrorType.GENERAL, "internal-error", "the server failed")
            await self._send_error(failed, _source(text_data))

    async def _handle(self, command: TmsCommand) -> None:
        name = command.name
        if name == "LoadLibrary":
            await self._load_library(command)
        elif self.library_uid is None:
            raise TmsError(ErrorType.LOAD_LIBRARY, "invalid-state", "LoadLibrary first")
        elif name == "OpenConnection":
            await self._open_connection(command)
        elif name in mapping.NOT_IMPLEMENTED:
            raise TmsError(ErrorType.COMMAND_NOT_IMPLEMENTED, "unsupported", f"{name} is not done")
        elif name not in mapping.SESSION_COMMANDS and name not in mapping.PANEL_COMMANDS:
            raise TmsError(ErrorType.COMMAND_NOT_IMPLEMENTED, "unknown-command", f"no {name}")
        elif self.line is None:
            raise TmsError(ErrorType.COMMAND, "invalid-state", "OpenConnection first")
        elif name == "QueryActiveCallSnapshot" and self.first_snapshot is not None:
            await self._snapshot()  # CtiModel's first, right after OpenConnection checked all
        elif not await _still_allowed(self.line):
            raise TmsError(ErrorType.AUTHENTICATION, "forbidden", "this line is no longer open")
        elif name == "CloseConnection":
            await self._close_connection()
        elif name == "QueryActiveCallSnapshot":
            await self._snapshot()
        elif name == "QueryLineState":
            wires, _ = await _line_calls(self.line)
            content = {"callFeaturesSet": mapping.line_features(wires)}
            await self._send_event(EventType.LINE_STATE_CHANGED, content)
        elif name == "QueryMsgUserState":
            await self._send_event(EventType.AGENT_STATE_CHANGED, self.agent_state)
        elif name in {"SetMsgUserState", "SetWrapUpUserState"}:
            wrap_up = name == "SetWrapUpUserState"
            paused, code = mapping.agent_pause(command.parameters, wrap_up=wrap_up)
            self._start(name, "queue_pause", enabled=paused, reason=code)
        elif name == "SetDnd":
            # The provider sends no value: a toggle of what this connection last set.
            self._start(name, "set_dnd", enabled=not self.dnd)
        else:
            request = mapping.panel_request(
                command,
                line=self.line.line,
                connector_id=self.line.connector_id,
                client_id=self._client_id(),
            )
            self._spawn(self._run(name, request=request))

    async def _load_library(self, command: TmsCommand) -> None:
        if command.parameters.get("AssemblyName") not in mapping.LIBRARIES:
            raise TmsError(ErrorType.LOAD_LIBRARY, "unknown-library", "not an Asterisk library")
        # A reconnecting provider sends its old ids: keep its library id, it is only a name.
        self.library_uid = _uuid_or_new(command.library_instance_uid)
        await self._send_event(EventType.LIBRARY_INITIALIZED, self.library_uid)

    async def _open_connection(self, command: TmsCommand) -> None:
        """Our panel's hello, for a line: one turn on the hello pool (``Busy`` sheds it)
        reads the line and its live calls; the line counts against its operator's cap."""
        params = mapping.parse_open(command.parameters)
        gate = admission.gate()
        async with gate.turn():
            line = await admission.off_loop(access.open_line, params, _origin(self.scope))
            if self.line is not None:
                await self._leave()
            self.line = line
            self.connection_uid = str(uuid.uuid4())
            self.redirected.clear()
            try:
                # Join before reading the calls, as the panel does: an event in between is
                # relayed after this (one message at a time), dropped by its seq if it is in.
                for group in (
                    line_group(line.connector_id, line.line),
                    status_group(line.connector_id),
                ):
                    await self.channel_layer.group_add(group, self.channel_name)
                    self.groups.append(group)
                wires, newest = await admission.off_loop(access.line_calls, line)
            except BaseException:
                await self._leave()
                self.line = self.connection_uid = None
                raise
        self.first_snapshot = wires
        self.seen_seq = newest
        self.live = {str(wire["call_id"]) for wire in wires}
        self.admitted = line.audience.user_id
        for oldest in gate.register(line.audience.user_id, self):
            await oldest.replaced()
        await self._send_event(EventType.CONNECTION_CREATED, "")

    async def replaced(self) -> None:
        """The operator opened one socket too many (``admission.Admitted``) and this was
        the oldest: DISCONNECTED without a reconnect, as after CloseConnection. The socket
        stays open, because CtiModel reconnects on any close, and coming back would replace
        the next oldest, and so on."""
        await self._leave()
        await self._send_event(EventType.DISCONNECTED, "Replaced", {"ignoreTryReconnection": True})
        self.line = None
        self.connection_uid = None

    async def _close_connection(self) -> None:
        await self._leave()
        await self._send_event(
            EventType.DISCONNECTED, "CloseConnection", {"ignoreTryReconnection": True}
        )
        self.line = None
        self.connection_uid = None

    async def _leave(self) -> None:
        """Leave the line's groups and its operator's socket count."""
        self._unadmit()
        self.first_snapshot = None
        groups = [str(group) for group in self.groups]
        self.groups.clear()
        for group in groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    def _unadmit(self) -> None:
        if self.admitted is not None:
            admission.gate().unregister(self.admitted, self)
            self.admitted = None

    async def _snapshot(self, *, shed: bool = True) -> list[dict[str, Any]]:
        """ACTIVE_CALL_SNAPSHOT of the line; returns its calls. Read on the hello pool in a
        turn (``shed``: a busy server answers ERROR ``try-later``), unless OpenConnection's
        read is still the truth."""
        line = self.line
        assert line is not None  # noqa: S101 - checked by the caller
        wires = self.first_snapshot
        self.first_snapshot = None
        if wires is None:
            wires, newest = await self._read_calls(line, shed=shed)
            self.seen_seq = max(self.seen_seq, newest)
        self.live = {str(wire["call_id"]) for wire in wires}
        content = mapping.snapshot_content(wires, line.line)
        await self._send_event(EventType.ACTIVE_CALL_SNAPSHOT, content)
        return wires

    async def _read_calls(
        self, line: access.TmsLine, *, shed: bool
    ) -> tuple[list[dict[str, Any]], int]:
        try:
            async with admission.gate().turn(shed=shed):
                return await admission.off_loop(access.line_calls, line)
        except admission.Busy:
            raise TmsError(ErrorType.COMMAND, "try-later", "the server is busy") from None

    # -- commands through our own path -----------------------------------------------------

    def _client_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def _start(self, name: str, verb: str, **fields: Any) -> None:
        self._spawn(self._run(name, verb=verb, fields=fields))

    def _spawn(self, coroutine: Any) -> None:
        if len(self.tasks) >= int(limits.number("CTI_MAX_PENDING_COMMANDS", 32)):
            coroutine.close()
            error = TmsError(ErrorType.COMMAND, "rate-limited", "too many commands waiting")
            task = asyncio.create_task(self._send_error(error, ""))
        else:
            task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(
        self,
        name: str,
        *,
        request: Any = None,
        verb: str | None = None,
        fields: dict[str, Any] | None = None,
    ) -> None:
        """Route one command as our panel's socket does, wait for the worker's answer, and
        answer a refusal with an ERROR event (success shows as the call events it causes)."""
        line = self.line
        assert line is not None  # noqa: S101 - checked before any command starts
        try:
            if request is None:
                routed = await database_sync_to_async(_route_line_command)(line, verb, fields)
            else:
                routed = await _route(line.audience, request)
            result = await self._round_trip(routed)
        except CommandRejected as rejected:
            result = {"ok": False, "code": rejected.code, "message": rejected.message}
        except Exception:
            logger.exception("TMS command %s failed", name)
            result = {"ok": False, "code": "internal-error", "message": "the command failed"}
        if result.get("ok"):
            if name == "SetDnd":
                self.dnd = not self.dnd
            return
        code = str(result.get("code") or "pbx-error")
        error = CommandRejected(code, str(result.get("message") or code))
        await self._send_error(error, name)

    async def _round_trip(self, routed: dispatch.Routed) -> dict[str, Any]:
        request_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        accepted = self.accepted[request_id] = asyncio.Event()
        message = {
            "type": "command.run",
            "request_id": request_id,
            "reply_to": self.channel_name,
            "user_id": self.line.audience.user_id if self.line else None,
            "lines": routed.lines,
            "command": routed.command,
        }
        errors: list[Exception] = []
        try:
            async with asyncio.timeout(limits.number("CTI_COMMAND_TIMEOUT", 10.0)):
                await dispatch.deliver(
                    self.channel_layer,
                    worker_group(routed.connector_id),
                    message,
                    accepted,
                    errors,
                    resend=limits.number("CTI_COMMAND_RESEND", 1.0),
                )
                return await future
        except TimeoutError:
            if errors and not accepted.is_set():  # the layer itself failed (Redis down)
                logger.error("cannot pass a TMS command to the worker: %s", errors[-1])
                return {
                    "ok": False,
                    "code": "internal-error",
                    "message": "the command was not sent",
                }
            return {"ok": False, "code": "timeout", "message": "the PBX worker did not answer"}
        finally:
            self.pending.pop(request_id, None)
            self.accepted.pop(request_id, None)

    # -- channel layer -> provider ---------------------------------------------------------

    async def command_accepted(self, message: dict[str, Any]) -> None:
        """The worker took the command: stop sending it (``dispatch.deliver``)."""
        accepted = self.accepted.get(str(message.get("request_id")))
        if accepted is not None:
            accepted.set()

    async def command_result(self, message: dict[str, Any]) -> None:
        accepted = self.accepted.get(str(message.get("request_id")))
        if accepted is not None:
            accepted.set()
        future = self.pending.get(str(message.get("request_id")))
        if future is not None and not future.done():
            future.set_result(message)
        elif message.get("final") and not message.get("ok"):  # an Originate failed later
            error = CommandRejected(str(message.get("code") or "pbx-error"), "call not placed")
            await self._send_error(error, "MakeCall")

    async def call_events(self, message: dict[str, Any]) -> None:
        """The worker's batch for the line, in order; what the snapshot had is skipped."""
        line = self.line
        if line is None:
            return
        for wire in message["events"]:
            if str(wire.get("line")) != line.line:
                continue
            if wire.get("call_id"):  # stored events count; a line state repeats the last seq
                if int(wire.get("seq") or 0) <= self.seen_seq:
                    continue
                self.seen_seq = int(wire.get("seq") or 0)
                self.first_snapshot = None  # the client now knows more than that read
            call_id = wire.get("call_id")
            if call_id and wire.get("event") != "RingFinished":
                self.live.add(str(call_id))
            sent = self._redirection(wire)
            for event_type, content, private in mapping.frames_for(sent, line.line, len(self.live)):
                await self._send_event(event_type, content, private)
                if event_type is EventType.AGENT_STATE_CHANGED:
                    self.agent_state = str(content)
            if wire.get("event") == "RingFinished":
                self.live.discard(str(call_id))

    def _redirection(self, wire: dict[str, Any]) -> dict[str, Any]:
        """``CallTransferred`` has no TMS event: where it took the call goes out as the
        ``redirectionId`` of the call's RING_FINISHED that follows."""
        call_id = str(wire.get("call_id") or "")
        if wire.get("event") == "CallTransferred" and wire.get("transferred_to"):
            self.redirected[call_id] = str(wire["transferred_to"])
        elif wire.get("event") == "RingFinished" and call_id in self.redirected:
            return {**wire, "transferred_to": self.redirected.pop(call_id)}
        return wire

    async def connector_status(self, message: dict[str, Any]) -> None:
        """PBX lost: no button works (line features 0). Back: the truth again, as a snapshot."""
        if self.line is None:
            return
        if message.get("status", {}).get("connected"):
            # Every TMS socket of the connector asks at once: they queue for the hello
            # pool's turns rather than being shed (the server, not the client, asked).
            wires = await self._snapshot(shed=False)
            content = {"callFeaturesSet": mapping.line_features(wires)}
        else:
            content = {"callFeaturesSet": 0}
        await self._send_event(EventType.LINE_STATE_CHANGED, content)


def _route_line_command(
    line: access.TmsLine, verb: str | None, fields: dict[str, Any] | None
) -> dispatch.Routed:
    """A line command our panel has no message for (queue pause): the same checks as
    ``dispatch.route`` (the audience re-read, the line still the operator's, PBX up)."""
    audience = dispatch.current_audience(line.audience)
    if not audience.owns(line.connector_id, line.line):
        raise CommandRejected("not-your-call", "that line is no longer yours")
    status = ConnectorStatus.objects.filter(connector_id=line.connector_id).first()
    if status is not None and not status.connected:
        raise CommandRejected("pbx-unreachable", status.last_error or "the PBX is not connected")
    command = {
        "verb": verb,
        "line": line.line,
        "call_id": None,
        "target": None,
        "digits": None,
        "enabled": None,
        "queue": None,
        "reason": None,
        **(fields or {}),
    }
    lines = [own.number for own in audience.lines if own.connector_id == line.connector_id]
    return dispatch.Routed(line.connector_id, command, lines)


def _origin(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"origin":
            return str(value.decode("latin-1"))
    return None


def _uuid_or_new(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return str(uuid.uuid4())


def _source(text: str | None) -> str:
    """The command's name for an ERROR's ``source``, when the frame had a readable one."""
    try:
        name = json.loads(text or "").get("command")
    except (ValueError, AttributeError):
        return ""
    return name if isinstance(name, str) and name.isidentifier() and len(name) <= 60 else ""
