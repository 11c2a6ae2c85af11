"""Operators' commands arriving on ``worker.<connector>``: check, act on the PBX, answer.

The worker is the last word on ownership: the call must be live on one of the lines the
consumer says the user owns. Results go back to the consumer's channel as
``command.result``; an Originate's final outcome follows when its ``OriginateResponse`` comes.

Each command is first acknowledged (``command.accepted``): a publish that reached no worker
(its subscription not yet back after a Redis restart) is lost, so the consumer sends the
command again until it is acknowledged, and a ``request_id`` seen before is only
acknowledged again, never carried out twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from channels.layers import BaseChannelLayer

from ..ami import Action, AmiError, AmiTimeout, Event, Response
from ..commands import CALL_VERBS, CONSULT_VERBS, CallView, Command, CommandRejected, build_actions
from ..config import ConnectorConfig
from ..groups import worker_group

logger = logging.getLogger(__name__)

_COMMAND_FIELDS = frozenset(Command.__dataclass_fields__)
#: Seconds before listening again after the channel layer failed.
RETRY = 1.0
#: Request ids remembered, so a command the consumer sent again is not carried out twice.
SEEN = 1024


class PbxLink(Protocol):
    """What commands need of the AMI client: is it logged in, and send an action."""

    @property
    def is_connected(self) -> bool: ...

    async def send_action(self, action: Action, *, check: bool) -> Response: ...


class LiveLeg(Protocol):
    """A live leg's place on the PBX, as the call model reports it."""

    @property
    def call_id(self) -> str: ...
    @property
    def line(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def peer_channel(self) -> str | None: ...


class LiveCalls(Protocol):
    """What commands need of the call model: the calls live on the PBX now."""

    def leg_channels(self, call_id: str, line: str) -> LiveLeg | None: ...
    def lines_of_call(self, call_id: str) -> set[str]: ...
    def live_keys(self) -> set[tuple[str, str]]: ...


class CommandRunner:
    """Receives command messages for one connector and carries them out.

    Its collaborators are passed in, not the runner: the connector's config, the channel
    layer, the AMI client, the model's live calls (looked up per command, since the runner
    may replace its model) and a counter of commands handled.
    """

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        layer: BaseChannelLayer,
        client: PbxLink,
        calls: Callable[[], LiveCalls],
        on_command: Callable[[], None] = lambda: None,
        on_dnd: Callable[[str, bool], None] = lambda line, enabled: None,
    ) -> None:
        self.config = config
        self.layer = layer
        self.client = client
        self._calls = calls
        self._on_command = on_command
        #: A SetDnd the PBX accepted: the line's DND is stored and announced (``PbxState``).
        self._on_dnd = on_dnd
        self._originates: dict[str, tuple[str, str]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        #: Set while subscribed to the worker group: commands sent before are lost.
        self.ready = asyncio.Event()
        self._channel: str | None = None
        self._closing = False
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def close(self) -> None:
        """Stop listening by a message to ourselves.

        Cancelling a pending ``receive()`` of channels-redis's pub/sub layer can hang in its
        unsubscribe; a message lets the receive return normally.
        """
        self._closing = True
        if self._channel is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await self.layer.send(self._channel, {"type": "worker.stop"})

    async def serve(self) -> None:
        """Listen on the worker group until closed; a layer failure is retried."""
        while not self._closing:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception:
                # Redis down or restarting: commands time out meanwhile, nothing else breaks.
                self.ready.clear()
                logger.exception("%s: command channel failed; retrying", self.config.name)
                await asyncio.sleep(RETRY)

    async def _listen(self) -> None:
        layer = self.layer
        channel = await layer.new_channel()
        group = worker_group(self.config.id)
        await layer.group_add(group, channel)
        self._channel = channel
        self.ready.set()
        try:
            while True:
                message = await layer.receive(channel)
                if message.get("type") == "worker.stop":
                    return
                if message.get("type") == "command.run":
                    task = asyncio.create_task(self.handle(message))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
        finally:
            # channels-redis's pub/sub layer can hang here after a cancelled receive(): its
            # subscription is gone with the connection anyway, so bound the courtesy.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await layer.group_discard(group, channel)

    async def handle(self, message: dict[str, Any]) -> None:
        """Carry out one ``command.run`` and reply to its sender."""
        reply_to = str(message.get("reply_to") or "")
        request_id = str(message.get("request_id") or "")
        repeated = bool(request_id) and request_id in self._seen
        if request_id:
            self._seen[request_id] = None
            self._seen.move_to_end(request_id)
            while len(self._seen) > SEEN:
                self._seen.popitem(last=False)
        if reply_to:
            await self._send(reply_to, {"type": "command.accepted", "request_id": request_id})
        if repeated:
            return  # sent again before our acknowledgement reached the consumer
        self._on_command()
        try:
            result = await self._execute(message, request_id, reply_to)
        except CommandRejected as rejected:
            result = {"ok": False, "code": rejected.code, "message": rejected.message}
        except AmiTimeout as error:
            result = {"ok": False, "code": "timeout", "message": str(error)}
        except AmiError as error:
            result = {"ok": False, "code": "pbx-unreachable", "message": str(error)}
        except Exception:
            logger.exception("command failed: %r", message)
            result = {"ok": False, "code": "internal-error", "message": "the worker failed"}
        if reply_to:
            await self._reply(reply_to, request_id, result)

    async def _execute(
        self, message: dict[str, Any], request_id: str, reply_to: str
    ) -> dict[str, Any]:
        raw = message.get("command")
        if not isinstance(raw, dict) or not set(raw) <= _COMMAND_FIELDS or "verb" not in raw:
            raise CommandRejected("invalid-input", "malformed command")
        command = Command(**raw)
        allowed = {str(line) for line in message.get("lines") or ()}
        if command.line not in allowed:
            raise CommandRejected("not-your-call", "that line is not yours")
        view = None
        if command.verb in CALL_VERBS:
            view = self._view(command.call_id or "", command.line)
            if view is None:
                others = self._calls().lines_of_call(command.call_id or "")
                if others and not others & allowed:
                    raise CommandRejected("not-your-call", "that call is on another line")
            elif command.verb in CONSULT_VERBS:
                view = self._consultation(view)
        actions = build_actions(self.config, command, view)
        client = self.client
        if not client.is_connected:
            raise CommandRejected("pbx-unreachable", "the PBX is not connected")
        for action in actions:
            if action.name == "Originate" and action.action_id:
                self._originates[action.action_id] = (reply_to, request_id)
            response = await client.send_action(action, check=False)
            if not response.is_success:
                self._originates.pop(action.action_id or "", None)
                raise CommandRejected("pbx-error", response.message or response.status)
        if command.verb == "set_dnd" and command.enabled is not None:
            self._on_dnd(command.line, command.enabled)  # stored, announced
        return {"ok": True, "code": None, "message": None}

    def _view(self, call_id: str, line: str) -> CallView | None:
        leg = self._calls().leg_channels(call_id, line)
        if leg is None:
            return None
        return CallView(leg.call_id, leg.line, leg.state, leg.channel, leg.peer_channel)

    def _consultation(self, view: CallView) -> CallView:
        """The consultation a complete or cancel acts on: the line must have a second live
        call; asked on the held (waiting) call, the line's call that is not held."""
        others = [
            call_id
            for call_id, line in self._calls().live_keys()
            if line == view.line and call_id != view.call_id
        ]
        if not others:
            raise CommandRejected("invalid-state", "there is no consultation on this line")
        if view.state != "held":
            return view
        for call_id in sorted(others):
            other = self._view(call_id, view.line)
            if other is not None and other.state != "held":
                return other
        return view

    def originate_finished(self, event: Event) -> None:
        """An async Originate's outcome: tell the requester when it failed."""
        waiting = self._originates.pop(event.action_id or "", None)
        if waiting is None:
            return
        if (event.get("Response") or "").lower() == "success":
            return
        reply_to, request_id = waiting
        reason = event.get("Reason") or "?"
        result = {
            "ok": False,
            "code": "pbx-error",
            "message": f"the call could not be placed (Originate reason {reason})",
            "final": True,
        }
        task = asyncio.create_task(self._reply(reply_to, request_id, result))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reply(self, reply_to: str, request_id: str, result: dict[str, Any]) -> None:
        await self._send(reply_to, {"type": "command.result", "request_id": request_id, **result})

    async def _send(self, reply_to: str, message: dict[str, Any]) -> None:
        try:
            await self.layer.send(reply_to, message)
        except Exception:
            logger.exception("cannot answer command %s", message.get("request_id"))
