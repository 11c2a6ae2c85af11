"""The operator panel's WebSocket (``/ws/cti/``): authenticate, join the right groups, relay
call events and status, and carry browser commands to the worker and its answers back.

Owns the socket's life and the command round trip; the message grammar lives in
``protocol`` and every database read in ``queries``. Never talks to the PBX:
commands go to ``worker.<connector>`` as ``command.run`` and come back as ``command.result``.
The protocol is documented in docs/websocket-api.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .. import metrics
from ..commands import CommandRejected
from ..groups import worker_group
from . import admission, auth, dispatch, dnd, lastseq, limits, queries, revocation
from .protocol import BadMessage, PanelRequest, parse_message, parse_since

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
#: Results remembered after their request finished, for a worker's late second answer
#: (an Originate that failed after it was accepted).
_LATE_RESULTS = 64

_snapshot = database_sync_to_async(queries.snapshot)
_last_sequences = database_sync_to_async(queries.last_sequences)
_route = database_sync_to_async(dispatch.route)
_record_dnd = database_sync_to_async(dnd.record)


class CtiConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]  # channels is untyped
    """One operator's (or supervisor's) panel socket."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.audience: queries.Audience | None = None
        self.bucket = limits.command_bucket()
        # request_id -> (client id, future of the worker's command.result)
        self.pending: dict[str, tuple[str | int, asyncio.Future[dict[str, Any]]]] = {}
        #: request_id -> set when the worker acknowledged it (``command.accepted``)
        self.accepted: dict[str, asyncio.Event] = {}
        self.finished: OrderedDict[str, str | int] = OrderedDict()
        self.tasks: set[asyncio.Task[None]] = set()
        self.counted = False  # in cti_sockets_open (telephony/metrics.py)
        self.revoked = False

    # -- socket life -----------------------------------------------------------------------

    async def connect(self) -> None:
        # Accept before any database work: daphne drops a socket it has not accepted within
        # its handshake timeout, however long the queue of hellos in front of it.
        await self.accept()
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        supervise = query.get("supervise", [""])[-1].lower() in {"1", "true", "yes"}
        since = parse_since(query.get("since", [""])[-1])
        gate = admission.gate()
        try:
            async with gate.turn():
                await self._open(gate, supervise, since)
        except admission.Busy:
            await self.close(code=admission.CLOSE_TRY_LATER)

    async def _open(
        self, gate: admission.Gate, supervise: bool, since: dict[tuple[int, str], int]
    ) -> None:
        """Authenticate, join the groups, send the hello: two trips to the hello pool."""
        user, audience = await admission.off_loop(auth.open_audience, self.scope, supervise)
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if audience is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.audience = audience
        for oldest in gate.register(audience.user_id, self):
            await oldest.replaced()
        # Join before reading the snapshot: an event in between arrives after the hello,
        # and the client drops it by its sequence number, instead of it being lost.
        for group in audience.groups() + revocation.socket_groups(
            user.pk, self.scope.get("session")
        ):
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups.append(group)
        if not await revocation.still_logged_in(self.scope, user.pk):
            await self.close(code=CLOSE_UNAUTHENTICATED)  # logged out meanwhile
            return
        limit = int(limits.number("CTI_CATCH_UP_LIMIT", 500))
        await self.send_json(await admission.off_loop(queries.hello, audience, since, limit))
        self.counted = metrics.hello_sent()

    async def replaced(self) -> None:
        """The user opened one socket too many (a panel or a TMS connection); this was the
        oldest (``admission.Admitted``)."""
        await self.close(code=admission.CLOSE_REPLACED)

    async def session_revoked(self, message: dict[str, Any]) -> None:
        """Logout, password change, deactivation or a changed line (``revocation``): leave
        every group at once, so nothing published from now on is relayed, and close."""
        self.revoked = True
        self.audience = None
        for group in self.groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups.clear()
        await self.close(code=int(message["code"]))

    async def disconnect(self, code: int) -> None:
        metrics.socket_closed(code, counted=self.counted)
        if self.audience is not None:
            admission.gate().unregister(self.audience.user_id, self)
        for task in list(self.tasks):
            task.cancel()
        self.tasks.clear()
        self.pending.clear()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch without its per-message trip to the shared database thread
        (``aclose_old_connections``): every hello, command and fanned-out event would queue
        there behind the others. The ORM calls here close their own connections
        (``database_sync_to_async``, ``admission.off_loop``). A socket closed for a logout
        or a lost line (``session_revoked``) relays nothing more to the browser."""
        if self.revoked and not message["type"].startswith("websocket."):
            return
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # -- browser -> server -----------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            await self._receive(text_data)
        except Exception:  # a bug or a database error: answer it, never close with 1011
            logger.exception("cannot handle a browser message")
            await self._reply(None, ok=False, code="internal-error", message="the server failed")

    async def _receive(self, text_data: str | None) -> None:
        if self.audience is None:
            return
        max_bytes = int(limits.number("CTI_MAX_MESSAGE_BYTES", 4096))
        try:
            request = parse_message(text_data, max_bytes=max_bytes)
        except BadMessage as bad:
            if self.bucket.take(time.monotonic()):
                await self._reply(bad.client_id, ok=False, code=bad.code, message=bad.message)
            else:
                await self._rate_limited(bad.client_id)
            return
        if not self.bucket.take(time.monotonic()):
            await self._rate_limited(request.client_id)
            return
        if request.name == "QueryLastSeq":  # the audit: from a per-connector read
            last_seq = await lastseq.cache().for_audience(self.audience)
            await self._reply(request.client_id, ok=True, last_seq=last_seq)
            return
        if request.verb is None:  # QueryActiveCallSnapshot: answered here, from the database
            snapshot = await _snapshot(self.audience)
            last_seq = await _last_sequences(self.audience)
            await self._reply(request.client_id, ok=True, snapshot=snapshot, last_seq=last_seq)
            return
        if len(self.tasks) >= int(limits.number("CTI_MAX_PENDING_COMMANDS", 32)):
            await self._rate_limited(request.client_id)
            return
        task = asyncio.create_task(self._run(request))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, request: PanelRequest) -> None:
        """Route one command to its worker and wait for the answer (or the timeout)."""
        assert self.audience is not None  # noqa: S101 - set before any receive
        try:
            routed = await _route(self.audience, request)
        except CommandRejected as rejected:
            await self._reply(
                request.client_id, ok=False, code=rejected.code, message=str(rejected)
            )
            return
        except Exception:  # a bug or a database error: the browser still gets its answer
            logger.exception("cannot route command %s %r", request.name, request)
            await self._reply(
                request.client_id,
                ok=False,
                code="internal-error",
                message="the command failed on the server",
            )
            return
        request_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = (request.client_id, future)
        accepted = self.accepted[request_id] = asyncio.Event()
        message = {
            "type": "command.run",
            "request_id": request_id,
            "reply_to": self.channel_name,
            "user_id": self.audience.user_id,
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
                result = await future
        except TimeoutError:
            if errors and not accepted.is_set():  # the layer itself failed (Redis down)
                logger.error("cannot pass command %s to the worker: %s", request.name, errors[-1])
                result = {
                    "ok": False,
                    "code": "internal-error",
                    "message": "the command was not sent",
                }
            else:
                result = {
                    "ok": False,
                    "code": "timeout",
                    "message": "the PBX worker did not answer",
                }
        finally:
            self.pending.pop(request_id, None)
            self.accepted.pop(request_id, None)
            self.finished[request_id] = request.client_id
            while len(self.finished) > _LATE_RESULTS:
                self.finished.popitem(last=False)
        ok = bool(result.get("ok"))
        if ok and routed.command["verb"] == "set_dnd":
            # The PBX took it: DND is now the line's state on the server, for every tab.
            try:
                await _record_dnd(
                    routed.connector_id, routed.command["line"], bool(routed.command["enabled"])
                )
            except Exception:  # the PBX did it; the browser still gets its answer
                logger.exception("cannot record DND of line %s", routed.command["line"])
        await self._reply(
            request.client_id,
            ok=ok,
            code=None if ok else str(result.get("code") or "pbx-error"),
            message=result.get("message"),
        )

    async def _reply(self, client_id: str | int | None, *, ok: bool, **fields: Any) -> None:
        reply = {"type": "result", "id": client_id, "ok": ok}
        metrics.COMMANDS.labels("ok" if ok else str(fields.get("code") or "error")).inc()
        reply.update((key, value) for key, value in fields.items() if value is not None)
        await self.send_json(reply)

    async def _rate_limited(self, client_id: str | int | None) -> None:
        await self._reply(client_id, ok=False, code="rate-limited", message="too many commands")

    # -- channel layer -> browser ----------------------------------------------------------

    async def call_events(self, message: dict[str, Any]) -> None:
        """A worker batch (one per group and save): each event goes out on its own, in order."""
        for event in message["events"]:
            await self.send_json({"type": "call.event", "event": event})

    async def connector_status(self, message: dict[str, Any]) -> None:
        await self.send_json(
            {
                "type": "connector.status",
                "connector": message["connector"],
                "status": message["status"],
            }
        )

    async def queue_state(self, message: dict[str, Any]) -> None:
        """The worker's queue board (supervisors' group only): waiting callers, members."""
        await self.send_json({**message, "type": "queue.state"})

    async def command_accepted(self, message: dict[str, Any]) -> None:
        """The worker took the command: stop sending it (``_deliver``)."""
        accepted = self.accepted.get(str(message.get("request_id")))
        if accepted is not None:
            accepted.set()

    async def command_result(self, message: dict[str, Any]) -> None:
        request_id = str(message.get("request_id"))
        accepted = self.accepted.get(request_id)
        if accepted is not None:
            accepted.set()
        waiting = self.pending.get(request_id)
        if waiting is not None:
            if not waiting[1].done():
                waiting[1].set_result(message)
            return
        client_id = self.finished.get(request_id)
        if client_id is None:
            logger.debug("result for an unknown request %s", request_id)
            return
        ok = bool(message.get("ok"))
        code = None if ok else str(message.get("code") or "pbx-error")
        await self._reply(client_id, ok=ok, code=code, message=message.get("message"), final=True)
