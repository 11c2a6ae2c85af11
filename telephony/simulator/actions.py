"""The simulator's answers to AMI actions after login, and what each one makes happen.

Messages copy Asterisk's (``Originate successfully queued``, ``Transfer succeeded``,
``Invalid/unknown command: X. ...``). Call-changing actions replace the call's running
script, so the call goes on from wherever it stood. Knows no sockets beyond ``Session``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telephony.ami import Action, Event, Message

from .channels import Call, Channel, OriginateRequest, State
from .pbx import Pbx
from .scenarios import QUEUE, Scenarios
from .server import Session, reply
from .shapes import caller_id, event

logger = logging.getLogger(__name__)

#: Starts ``script`` as ``call``'s script, cancelling the one it replaces.
RunScript = Callable[[Call, Coroutine[Any, Any, None]], None]
#: Starts an originated call (the simulator's ``start_call`` path).
StartOriginate = Callable[[str, OriginateRequest], Call]


def unknown(action: Action) -> Message:
    return reply(
        action,
        "Error",
        (
            "Message",
            f"Invalid/unknown command: {action.name}. "
            "Use Action: ListCommands to show available commands.",
        ),
    )


class ActionDesk:
    """Answers the actions of logged-in sessions."""

    def __init__(
        self,
        pbx: Pbx,
        scenarios: Scenarios,
        run_script: RunScript,
        start_originate: StartOriginate,
        rng: random.Random,
    ) -> None:
        self.pbx = pbx
        self.scenarios = scenarios
        self.run_script = run_script
        self.start_originate = start_originate
        self.rng = rng
        legacy = pbx.shapes.dialect == "11"
        self._handlers: dict[str, Callable[[Session, Action], None]] = {
            "ping": self.ping,
            "events": self.events,
            "coreshowchannels": self.core_show_channels,
            "status": self.status,
            "originate": self.originate,
            "hangup": self.hangup,
            "redirect": self.redirect,
            "atxfer": self.atxfer,
            "park": self.park,
            "queuepause": self.queue_pause,
            "queuestatus": self.queue_status,
            "playdtmf": self.play_dtmf,
            "dbput": self.db_put,
            "dbdel": self.db_del,
            "dbget": self.db_get,
            ("sipnotify" if legacy else "pjsipnotify"): self.notify,
        }
        if not legacy:
            # Asterisk 11 has no BlindTransfer action (its capture uses Redirect).
            self._handlers["blindtransfer"] = self.blind_transfer

    async def __call__(self, session: Session, action: Action) -> None:
        handler = self._handlers.get(action.name.lower())
        if handler is None:
            session.send([unknown(action)])
            return
        handler(session, action)

    # -- helpers ---------------------------------------------------------------------------

    def _channel(self, session: Session, action: Action) -> tuple[Call, Channel] | None:
        name = action.get("Channel") or ""
        found = self.pbx.find_channel(name)
        if found is None:
            session.send([reply(action, "Error", ("Message", "No such channel"))])
        return found

    def _bridged(
        self, session: Session, action: Action, failure: str
    ) -> tuple[Call, Channel] | None:
        """The action's channel if it is in a bridge; else answers Error with ``failure``."""
        found = self._channel(session, action)
        if found is not None and found[1].bridge is None:
            session.send([reply(action, "Error", ("Message", failure))])
            return None
        return found

    @staticmethod
    def _destination(action: Action) -> tuple[str, str]:
        """``(Exten, Context)`` of a transfer or redirect; the context defaults as ours."""
        return action.get("Exten") or "", action.get("Context") or "from-internal"

    def _operator(self, line: str) -> tuple[Call, Channel] | None:
        for call in self.pbx.calls.values():
            channel = call.operator_channel(line)
            if channel is not None:
                return call, channel
        return None

    # -- session ---------------------------------------------------------------------------

    def ping(self, session: Session, action: Action) -> None:
        pong = (("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}"))
        session.send([reply(action, "Success", *pong)])

    def events(self, session: Session, action: Action) -> None:
        mask = (action.get("EventMask") or "on").lower()
        session.wants_events = mask not in {"off", "0", "no", "false"}
        session.send(
            [reply(action, "Success", ("Events", "On" if session.wants_events else "Off"))]
        )

    # -- lists -----------------------------------------------------------------------------

    def core_show_channels(self, session: Session, action: Action) -> None:
        shapes, action_id = self.pbx.shapes, action.action_id
        channels = self.pbx.live_channels()
        start = reply(
            action, "Success", ("EventList", "start"), ("Message", "Channels will follow")
        )
        items = [shapes.listed_channel(channel, action_id) for channel in channels]
        session.send([start, *items, shapes.channels_listed(len(items), action_id)])

    def status(self, session: Session, action: Action) -> None:
        shapes, action_id = self.pbx.shapes, action.action_id
        channels = self.pbx.live_channels()
        wanted = action.get("Channel")
        if wanted:
            channels = [channel for channel in channels if channel.name == wanted]
            if not channels:
                session.send([reply(action, "Error", ("Message", "No such channel"))])
                return
        start = reply(
            action, "Success", ("EventList", "start"), ("Message", "Channel status will follow")
        )
        items = [shapes.status_item(channel, action_id) for channel in channels]
        session.send([start, *items, shapes.status_complete(len(items), action_id)])

    # -- calls -----------------------------------------------------------------------------

    def originate(self, session: Session, action: Action) -> None:
        device = action.get("Channel") or ""
        if not device:
            session.send([reply(action, "Error", ("Message", "Channel not specified"))])
            return
        request = OriginateRequest(
            action_id=action.action_id,
            device=device,
            context=action.get("Context") or "from-internal",
            exten=action.get("Exten") or "s",
            shown_as=caller_id(action.get("CallerID") or ""),
            account=action.get("Account") or "",
        )
        session.send([reply(action, "Success", ("Message", "Originate successfully queued"))])
        line = self.pbx.line_of_device(device.partition("@")[0])
        if line is None:
            # j2 (22) / k2 (11): an unreachable device fails with Reason 0, no channel events.
            self.pbx.send([self.pbx.shapes.originate_response(request, None, 0)])
            return
        self.start_originate(line, request)

    def hangup(self, session: Session, action: Action) -> None:
        found = self._channel(session, action)
        if found is None:
            return
        call, channel = found
        session.send([reply(action, "Success", ("Message", "Channel Hungup"))])
        others_ring = any(d.is_ringing and d.dest is not channel for d in call.dials)
        if call.consult is None and not (call.queue and channel.line is not None and others_ring):
            # The script's next steps no longer apply; a queue rings its other members on,
            # and a consultation's script follows its completion or failure.
            self._stop_script(call)
        self.pbx.hang_up(call, channel, by_ami=True)

    def _stop_script(self, call: Call) -> None:
        task = call.task
        if task is not None and not task.done():
            task.cancel()
        call.task = None

    def blind_transfer(self, session: Session, action: Action) -> None:
        found = self._bridged(session, action, "Transfer failed")
        if found is None:
            return
        call, channel = found
        exten, context = self._destination(action)
        session.send([reply(action, "Success", ("Message", "Transfer succeeded"))])
        plan = self.scenarios.plan(self.rng)
        script = self.scenarios.transfer(call, channel, exten, context, plan, blind=True)
        self.run_script(call, script)

    def redirect(self, session: Session, action: Action) -> None:
        found = self.pbx.find_channel(action.get("Channel") or "")
        if found is None:
            message = f"Channel does not exist: {action.get('Channel') or ''}"
            session.send([reply(action, "Error", ("Message", message))])
            return
        call, channel = found
        exten, context = self._destination(action)
        peer = self.pbx.shapes.peer_of(channel)
        if peer is None:
            session.send([reply(action, "Error", ("Message", "Redirect failed, channel not up."))])
            return
        session.send([reply(action, "Success", ("Message", "Redirect successful"))])
        if peer.line is not None and peer.line == exten and peer.on_hold:
            # Back from the (simulated) parking lot to the operator who parked it.
            self.pbx.hold(peer, False)
            return
        # f_blind_transfer_redirect (11): the redirected party's peer leaves, it dials anew.
        plan = self.scenarios.plan(self.rng)
        script = self.scenarios.transfer(call, peer, exten, context, plan, blind=False)
        self.run_script(call, script)

    def atxfer(self, session: Session, action: Action) -> None:
        found = self._bridged(session, action, "Atxfer failed")
        if found is None:
            return
        call, channel = found
        exten, context = self._destination(action)
        if call.consult is not None or self.pbx.shapes.peer_of(channel) is None:
            session.send([reply(action, "Error", ("Message", "Atxfer failed"))])
            return
        session.send([reply(action, "Success", ("Message", "Atxfer successfully queued"))])
        consult = self.pbx.start_consult(call, channel, exten, context)
        if consult is not None:
            plan = self.scenarios.plan(self.rng)
            self.run_script(call, self.scenarios.consult(call, consult, plan))

    def park(self, session: Session, action: Action) -> None:
        found = self._channel(session, action)
        if found is None:
            return
        _call, parkee = found
        parker_name = action.get("TimeoutChannel") or action.get("Channel2") or ""
        parker = self.pbx.find_channel(parker_name)
        operator = parker[1] if parker is not None else self.pbx.shapes.peer_of(parkee)
        if operator is None or parkee.state is not State.UP:
            session.send([reply(action, "Error", ("Message", "Park failed"))])
            return
        session.send([reply(action, "Success", ("Message", "Park successful"))])
        # Simplified: parking shows as the operator holding (Hold + music for the parkee).
        self.pbx.hold(operator, True)

    def notify(self, session: Session, action: Action) -> None:
        target = action.get("Endpoint") or action.get("Channel") or ""
        line = self.pbx.line_of_device(target) or (target if target in self.pbx.lines else None)
        if line is None:
            session.send(
                [reply(action, "Error", ("Message", f"Unable to retrieve endpoint {target}"))]
            )
            return
        legacy = self.pbx.shapes.dialect == "11"
        session.send(
            [reply(action, "Success", ("Message", "Notify Sent" if legacy else "NOTIFY sent"))]
        )
        what = action.variables("Variable").get("Event", "").lower()
        found = self._operator(line)
        if found is None:
            return
        call, channel = found
        if what == "hold":
            self.pbx.hold(channel, True)
        elif what == "talk":
            ringing = [d for d in call.dials if d.dest is channel and d.is_ringing]
            if ringing:
                self.pbx.answer(call, ringing[0])
            else:
                self.pbx.hold(channel, False)

    # -- members and the database -----------------------------------------------------------

    def queue_pause(self, session: Session, action: Action) -> None:
        interface = action.get("Interface") or ""
        line = self.pbx.line_of_device(interface)
        if line is None:
            session.send([reply(action, "Error", ("Message", "Interface not found"))])
            return
        paused = (action.get("Paused") or "").lower() in {"true", "yes", "1", "on"}
        if paused:
            self.pbx.paused[line] = action.get("Reason") or ""
        else:
            self.pbx.paused.pop(line, None)
        word = "paused" if paused else "unpaused"
        session.send([reply(action, "Success", ("Message", f"Interface {word} successfully"))])
        self.pbx.send([self._pause_event(interface, line, paused, action.get("Reason") or "")])

    def _pause_event(self, interface: str, line: str, paused: bool, reason: str) -> Event:
        name = self.pbx.operator_name(line)
        flag = "1" if paused else "0"
        if self.pbx.shapes.dialect == "11":
            return event(
                "QueueMemberPaused",
                ("Privilege", "agent,all"),
                ("Queue", QUEUE),
                ("Location", interface),
                ("MemberName", name),
                ("Paused", flag),
                ("Reason", reason),
            )
        return event(
            "QueueMemberPause",
            ("Privilege", "agent,all"),
            ("Queue", QUEUE),
            ("MemberName", name),
            ("Interface", interface),
            ("StateInterface", interface),
            ("Membership", "static"),
            ("Penalty", "0"),
            ("Paused", flag),
            ("PausedReason", reason),
        )

    def play_dtmf(self, session: Session, action: Action) -> None:
        if self._channel(session, action) is not None:
            session.send([reply(action, "Success", ("Message", "DTMF successfully queued"))])

    def db_put(self, session: Session, action: Action) -> None:
        key = (action.get("Family") or "", action.get("Key") or "")
        self.pbx.astdb[key] = action.get("Val") or ""
        session.send([reply(action, "Success", ("Message", "Updated database successfully"))])

    def db_del(self, session: Session, action: Action) -> None:
        key = (action.get("Family") or "", action.get("Key") or "")
        if self.pbx.astdb.pop(key, None) is None:
            session.send([reply(action, "Error", ("Message", "Database entry not found"))])
            return
        session.send([reply(action, "Success", ("Message", "Key deleted successfully"))])

    def db_get(self, session: Session, action: Action) -> None:
        family, key = action.get("Family") or "", action.get("Key") or ""
        value = self.pbx.astdb.get((family, key))
        if value is None:
            session.send([reply(action, "Error", ("Message", "Database entry not found"))])
            return
        tag = self.pbx.shapes.tagged(action.action_id)
        found = event("DBGetResponse", ("Family", family), ("Key", key), ("Val", value), *tag)
        if self.pbx.shapes.dialect == "11":
            # 11 answers with the event alone: no event list, no DBGetComplete.
            session.send([reply(action, "Success", ("Message", "Result will follow")), found])
            return
        session.send(
            [
                reply(action, "Success", ("EventList", "start"), ("Message", "Result will follow")),
                found,
                event("DBGetComplete", *tag, ("EventList", "Complete"), ("ListItems", "1")),
            ]
        )

    def queue_status(self, session: Session, action: Action) -> None:
        """The one queue as ``QueueStatus`` lists it (j2 on 22, k2 on 11): its parameters,
        a ``QueueMember`` per line, a ``QueueEntry`` per waiting caller."""
        pbx, legacy = self.pbx, self.pbx.shapes.dialect == "11"
        tag = pbx.shapes.tagged(action.action_id)
        waiting = [
            channel
            for call in pbx.calls.values()
            if call.queue and call.answered_at is None
            for channel in call.live_channels
            if channel.line is None and channel.application == "Queue"
        ]
        busy = {channel.line for channel in pbx.live_channels() if channel.line}
        items = [
            event(
                "QueueParams", ("Queue", QUEUE), ("Max", "0"), ("Strategy", "ringall"),
                ("Calls", str(len(waiting))), ("Holdtime", "0"), ("TalkTime", "0"),
                ("Completed", "0"), ("Abandoned", "0"), ("ServiceLevel", "0"),
                ("ServicelevelPerf", "0.0"), ("Weight", "0"), *tag,
            )
        ]  # fmt: skip
        for line in pbx.lines:
            device = f"{pbx.tech}/{line}"
            paused = line in pbx.paused
            items.append(
                event(
                    "QueueMember", ("Queue", QUEUE), ("Name", pbx.operator_name(line)),
                    ("Location", device), ("StateInterface", device), ("Membership", "static"),
                    ("Penalty", "0"), ("CallsTaken", "0"), ("LastCall", "0"),
                    ("IsInCall" if legacy else "InCall", "1" if line in busy else "0"),
                    ("Status", "2" if line in busy else "1"), ("Paused", "1" if paused else "0"),
                    *(() if legacy else (("PausedReason", pbx.paused.get(line, "")),)), *tag,
                )
            )  # fmt: skip
        now = time.monotonic()
        for position, channel in enumerate(waiting, 1):
            items.append(
                event(
                    "QueueEntry", ("Queue", QUEUE), ("Position", str(position)),
                    ("Channel", channel.name), ("Uniqueid", channel.unique_id),
                    ("CallerIDNum", channel.caller.number or "unknown"),
                    ("CallerIDName", channel.caller.name or "unknown"),
                    ("ConnectedLineNum", "unknown"), ("ConnectedLineName", "unknown"),
                    ("Wait", str(round(now - channel.created))), *tag,
                )
            )  # fmt: skip
        listing = () if legacy else (("EventList", "start"),)
        start = reply(action, "Success", *listing, ("Message", "Queue status will follow"))
        end = () if legacy else (("EventList", "Complete"), ("ListItems", str(len(items))))
        session.send([start, *items, event("QueueStatusComplete", *tag, *end)])
