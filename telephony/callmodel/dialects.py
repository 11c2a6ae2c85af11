"""Asterisk 12+ and 1.8/11 events -> typed facts; the only module that spells AMI headers.

Detects the dialect from the greeting or the first call events, unless pinned. Knows
nothing of calls or lines: it only renames, parses and normalises placeholders.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from telephony.ami.packets import Event, Greeting, Packet

from .facts import (
    NOBODY,
    AnyFact,
    BridgeEntered,
    BridgeLeft,
    ChannelCreated,
    ChannelHungUp,
    ChannelListCompleted,
    ChannelListed,
    ChannelState,
    ChannelStateChanged,
    DialBegan,
    DialEnded,
    DialUnreachable,
    HoldChanged,
    LocalPaired,
    Masqueraded,
    MemberPaused,
    MusicChanged,
    Originated,
    Parked,
    Party,
    PartyChanged,
    QueueJoined,
    QueueLeft,
    QueueMemberCalled,
    Renamed,
    TransferDone,
    Unparked,
)
from .lines import dial_targets, parse_channel


class Dialect(enum.StrEnum):
    AUTO = "auto"
    MODERN = "12"  # Asterisk 12, 13, 16, 18, 20, 22
    LEGACY = "11"  # Asterisk 1.8 and 11


#: Asterisk writes these where a value is missing: ``<unknown>`` (caller ID), ``unknown``
#: (11 queue events), ``<null>`` (11 failed Originate), or an empty string.
_PLACEHOLDERS = frozenset({"", "<unknown>", "unknown", "<null>", "<none>"})
_STATES = {
    "down": ChannelState.DOWN,
    "rsrvd": ChannelState.DOWN,
    "ring": ChannelState.RING,
    "ringing": ChannelState.RINGING,
    "up": ChannelState.UP,
    "busy": ChannelState.BUSY,
}
_UNREACHABLE = frozenset({"CHANUNAVAIL", "CONGESTION"})
#: Dial plans kept for CHANUNAVAIL detection; bounded in case Hangups are lost.
_MAX_DIAL_PLANS = 20_000


def _value(event: Event, key: str) -> str | None:
    value = event.get(key)
    if value is None or value.strip() in _PLACEHOLDERS:
        return None
    return value


def _party(event: Event, prefix: str = "") -> Party:
    number = _value(event, f"{prefix}CallerIDNum")
    name = _value(event, f"{prefix}CallerIDName")
    return Party(number, name) if number or name else NOBODY


def _connected(event: Event, prefix: str = "") -> Party:
    number = _value(event, f"{prefix}ConnectedLineNum")
    name = _value(event, f"{prefix}ConnectedLineName")
    return Party(number, name) if number or name else NOBODY


def _state(event: Event) -> ChannelState:
    desc = (event.get("ChannelStateDesc") or "").lower()
    return _STATES.get(desc, ChannelState.OTHER)


def _started(event: Event, time: float | None) -> float | None:
    """A listed channel's creation time: ``time`` less its age as the PBX states it.

    ``CoreShowChannel`` says ``Duration: HH:MM:SS`` (11 and 12+); Asterisk 11's ``Status``
    says ``Seconds: N``. Both are whole seconds, truncated (``ast_tvdiff_ms() / 1000``): the
    real age lies in ``[N, N + 1)``, so the start is dated at the middle of that second,
    within half a second of the truth rather than up to a whole one.
    """
    if time is None:
        return None
    seconds = _int(event.get("Seconds"))
    duration = event.get("Duration") or ""
    parts = duration.strip().split(":")
    if seconds is None and len(parts) == 3 and all(part.isdigit() for part in parts):
        hours, minutes, secs = (int(part) for part in parts)
        seconds = hours * 3600 + minutes * 60 + secs
    return None if seconds is None else time - seconds - 0.5


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


@dataclass(slots=True)
class _DialPlan:
    """What a channel's ``Dial()`` asked for, and which targets got a channel."""

    targets: tuple[str, ...]
    reached: set[str] = field(default_factory=set)


class DialectReader:
    """Reads AMI packets and returns facts. Stateful only for detection and Dial plans."""

    def __init__(self, dialect: Dialect | str = Dialect.AUTO) -> None:
        pinned = Dialect(dialect)
        self.pinned = pinned
        self.detected: Dialect | None = None if pinned is Dialect.AUTO else pinned
        self._plans: dict[str, _DialPlan] = {}
        self._handlers: dict[str, Callable[[Event, float | None], list[AnyFact]]] = {
            "newchannel": self._newchannel,
            "newstate": self._newstate,
            "newcallerid": self._newcallerid,
            "newconnectedline": self._newconnectedline,
            "hangup": self._hangup,
            "dialbegin": self._dialbegin,
            "dialend": self._dialend,
            "dial": self._dial_legacy,
            "newexten": self._newexten,
            "varset": self._varset,
            "bridgeenter": self._bridgeenter,
            "bridgeleave": self._bridgeleave,
            "bridge": self._bridge_legacy,
            "hold": self._hold,
            "unhold": self._unhold,
            "blindtransfer": self._blindtransfer,
            "attendedtransfer": self._attendedtransfer,
            "transfer": self._transfer_legacy,
            "queuecallerjoin": self._queue_join,
            "join": self._queue_join,
            "queuecallerleave": self._queue_leave,
            "leave": self._queue_leave,
            "agentcalled": self._agentcalled,
            "agentconnect": self._agentconnect,
            "musiconhold": self._music,
            "musiconholdstart": self._music,
            "musiconholdstop": self._music,
            "localbridge": self._localbridge,
            "masquerade": self._masquerade,
            "rename": self._rename,
            "parkedcall": self._parkedcall,
            "unparkedcall": self._unparkedcall,
            "originateresponse": self._originateresponse,
            "coreshowchannel": self._listed,
            "status": self._listed,
            "coreshowchannelscomplete": self._list_complete,
            "statuscomplete": self._list_complete,
            "queuememberpause": self._paused,
            "queuememberpaused": self._paused,
        }

    @property
    def is_legacy(self) -> bool:
        return self.detected is Dialect.LEGACY

    def read(self, packet: Packet, received_at: float | None = None) -> list[AnyFact]:
        """Facts in one packet; responses, malformed packets and unknown events give none."""
        if isinstance(packet, Event):
            handler = self._handlers.get(packet.name.lower())
            if handler is None:
                return []
            stamp = packet.timestamp
            time = received_at
            if stamp is not None:
                # manager.conf timestampevents=yes: the PBX's own clock, best of all.
                with contextlib.suppress(ValueError):
                    time = float(stamp)
            return handler(packet, time)
        if isinstance(packet, Greeting) and self.detected is None:
            # "Asterisk Call Manager/1.3" is Asterisk 11; 12 says 2.x, 22 says 11.0.0.
            major = _int(packet.version.split(".", 1)[0])
            if major is not None:
                self.detected = Dialect.LEGACY if major < 2 else Dialect.MODERN
        return []

    def _detect(self, dialect: Dialect) -> None:
        if self.detected is None:
            self.detected = dialect

    # -- channels ------------------------------------------------------------------------

    def _newchannel(self, event: Event, time: float | None) -> list[AnyFact]:
        linked_id = _value(event, "Linkedid")
        # Asterisk 11 has no Linkedid header at all (README of the captures, fact 1).
        self._detect(Dialect.MODERN if linked_id else Dialect.LEGACY)
        return [
            ChannelCreated(
                time=time,
                unique_id=event.get("Uniqueid") or "",
                channel=event.get("Channel") or "",
                linked_id=None if self.is_legacy else linked_id,
                state=_state(event),
                caller=_party(event),
                connected=_connected(event),
                exten=_value(event, "Exten"),
            )
        ]

    def _newstate(self, event: Event, time: float | None) -> list[AnyFact]:
        return [
            ChannelStateChanged(
                time=time,
                unique_id=event.get("Uniqueid") or "",
                channel=event.get("Channel") or "",
                state=_state(event),
                caller=_party(event),
                connected=_connected(event),
            )
        ]

    def _newcallerid(self, event: Event, time: float | None) -> list[AnyFact]:
        uid = event.get("Uniqueid") or ""
        return [PartyChanged(time=time, unique_id=uid, caller=_party(event), connected=None)]

    def _newconnectedline(self, event: Event, time: float | None) -> list[AnyFact]:
        uid = event.get("Uniqueid") or ""
        return [PartyChanged(time=time, unique_id=uid, caller=None, connected=_connected(event))]

    def _hangup(self, event: Event, time: float | None) -> list[AnyFact]:
        uid = event.get("Uniqueid") or ""
        self._plans.pop(uid, None)
        return [
            ChannelHungUp(
                time=time,
                unique_id=uid,
                channel=event.get("Channel") or "",
                cause=_int(event.get("Cause")),
                cause_text=_value(event, "Cause-txt"),
            )
        ]

    def _rename(self, event: Event, time: float | None) -> list[AnyFact]:
        new = event.get("Newname")
        uid = event.get("Uniqueid")
        if not new or not uid:
            return []
        return [Renamed(time=time, unique_id=uid, new_channel=new)]

    def _masquerade(self, event: Event, time: float | None) -> list[AnyFact]:
        clone, original = event.get("Clone"), event.get("Original")
        if not clone or not original:
            return []
        return [Masqueraded(time=time, clone_channel=clone, original_channel=original)]

    def _localbridge(self, event: Event, time: float | None) -> list[AnyFact]:
        # 12+: LocalOneUniqueid/LocalTwoUniqueid; 11: Uniqueid1/Uniqueid2.
        one = event.get("LocalOneUniqueid") or event.get("Uniqueid1")
        two = event.get("LocalTwoUniqueid") or event.get("Uniqueid2")
        if not one or not two:
            return []
        return [LocalPaired(time=time, one_id=one, two_id=two)]

    # -- dialling ------------------------------------------------------------------------

    def _dialbegin(self, event: Event, time: float | None) -> list[AnyFact]:
        self._detect(Dialect.MODERN)
        # An Originate's first leg has no calling channel: no Channel/Uniqueid headers.
        caller = _value(event, "Uniqueid")
        dest_channel = event.get("DestChannel") or ""
        self._reached(caller, dest_channel)
        return [
            DialBegan(
                time=time,
                caller_id=caller,
                dest_id=event.get("DestUniqueid") or "",
                dest_channel=dest_channel,
                dial_string=_value(event, "DialString"),
            )
        ]

    def _dialend(self, event: Event, time: float | None) -> list[AnyFact]:
        return [
            DialEnded(
                time=time,
                caller_id=_value(event, "Uniqueid"),
                dest_id=_value(event, "DestUniqueid"),
                status=(event.get("DialStatus") or "").upper(),
            )
        ]

    def _dial_legacy(self, event: Event, time: float | None) -> list[AnyFact]:
        self._detect(Dialect.LEGACY)
        # Asterisk 1.8/11 spell it UniqueID/DestUniqueID here, Uniqueid elsewhere.
        caller = event.get("UniqueID")
        sub = (event.get("SubEvent") or "Begin").lower()
        if sub == "begin":
            dest_channel = event.get("Destination") or ""
            self._reached(caller, dest_channel)
            return [
                DialBegan(
                    time=time,
                    caller_id=caller,
                    dest_id=event.get("DestUniqueID") or "",
                    dest_channel=dest_channel,
                    dial_string=_value(event, "Dialstring"),
                )
            ]
        status = (event.get("DialStatus") or "").upper()
        facts: list[AnyFact] = [DialEnded(time=time, caller_id=caller, dest_id=None, status=status)]
        facts.extend(self._unreached(caller, status, time))
        return facts

    def _newexten(self, event: Event, time: float | None) -> list[AnyFact]:
        if (event.get("Application") or "").lower() == "dial":
            uid = event.get("Uniqueid")
            targets = dial_targets(event.get("AppData") or "")
            if uid and targets:
                if len(self._plans) >= _MAX_DIAL_PLANS:
                    self._plans.pop(next(iter(self._plans)))
                self._plans[uid] = _DialPlan(tuple(device.name for device in targets))
        return []

    def _varset(self, event: Event, time: float | None) -> list[AnyFact]:
        # Asterisk 12+ reports a Dial to an unregistered phone only as DIALSTATUS=CHANUNAVAIL:
        # no DialBegin, no DialEnd, no channel (captures README, fact 7).
        if event.get("Variable") != "DIALSTATUS" or self.is_legacy:
            return []
        return self._unreached(event.get("Uniqueid"), (event.get("Value") or "").upper(), time)

    def _reached(self, caller: str | None, dest_channel: str) -> None:
        plan = self._plans.get(caller) if caller else None
        device = parse_channel(dest_channel)
        if plan is not None and device is not None:
            plan.reached.add(device.name)

    def _unreached(self, caller: str | None, status: str, time: float | None) -> list[AnyFact]:
        if caller is None or not status:
            return []
        plan = self._plans.pop(caller, None)
        if plan is None or status not in _UNREACHABLE:
            return []
        missing = tuple(target for target in plan.targets if target not in plan.reached)
        if not missing:
            return []
        return [DialUnreachable(time=time, caller_id=caller, targets=missing, status=status)]

    def _originateresponse(self, event: Event, time: float | None) -> list[AnyFact]:
        return [
            Originated(
                time=time,
                unique_id=_value(event, "Uniqueid"),
                channel=event.get("Channel") or "",
                success=(event.get("Response") or "").lower() == "success",
            )
        ]

    # -- bridges and hold ----------------------------------------------------------------

    def _bridgeenter(self, event: Event, time: float | None) -> list[AnyFact]:
        kind = (event.get("BridgeType") or "").lower()
        return [
            BridgeEntered(
                time=time,
                unique_id=event.get("Uniqueid") or "",
                bridge_id=event.get("BridgeUniqueid") or "",
                is_holding=kind in {"holding", "parking"},
            )
        ]

    def _bridgeleave(self, event: Event, time: float | None) -> list[AnyFact]:
        uid = event.get("Uniqueid") or ""
        return [BridgeLeft(time=time, unique_id=uid, bridge_id=event.get("BridgeUniqueid") or "")]

    def _bridge_legacy(self, event: Event, time: float | None) -> list[AnyFact]:
        self._detect(Dialect.LEGACY)
        one, two = event.get("Uniqueid1"), event.get("Uniqueid2")
        if not one or not two:
            return []
        if (event.get("Bridgestate") or "").lower() != "link":
            # Asterisk 11 sends Unlink+Link on every hold and DTMF transfer while the call
            # is still up (captures README, fact 4): only Hangup ends a leg.
            return []
        bridge = f"legacy:{min(one, two)}|{max(one, two)}"
        return [
            BridgeEntered(time=time, unique_id=one, bridge_id=bridge),
            BridgeEntered(time=time, unique_id=two, bridge_id=bridge),
        ]

    def _hold(self, event: Event, time: float | None) -> list[AnyFact]:
        # Asterisk 11 sends Hold with Status: On/Off; 12+ sends Hold and Unhold.
        status = (event.get("Status") or "on").lower()
        uid = event.get("Uniqueid") or ""
        return [HoldChanged(time=time, unique_id=uid, on_hold=status != "off")]

    def _unhold(self, event: Event, time: float | None) -> list[AnyFact]:
        return [HoldChanged(time=time, unique_id=event.get("Uniqueid") or "", on_hold=False)]

    # -- transfers, queues, parking --------------------------------------------------------

    def _blindtransfer(self, event: Event, time: float | None) -> list[AnyFact]:
        transferer = event.get("TransfererUniqueid")
        if not transferer or (event.get("Result") or "Success").lower() != "success":
            return []
        return [
            TransferDone(
                time=time,
                transferer_id=transferer,
                other_transferer_id=None,
                target=_value(event, "Extension"),
                target_id=None,
                attended=False,
            )
        ]

    def _attendedtransfer(self, event: Event, time: float | None) -> list[AnyFact]:
        transferer = event.get("OrigTransfererUniqueid")
        if not transferer or (event.get("Result") or "").lower() != "success":
            return []
        target_channel = event.get("TransferTargetChannel") or ""
        device = parse_channel(target_channel)
        if device is not None and device.is_local:
            target: str | None = device.resource
        else:
            target = _value(event, "TransferTargetCallerIDNum") or _value(
                event, "SecondTransfererConnectedLineNum"
            )
        return [
            TransferDone(
                time=time,
                transferer_id=transferer,
                other_transferer_id=_value(event, "SecondTransfererUniqueid"),
                target=target,
                target_id=_value(event, "TransferTargetUniqueid"),
                attended=True,
            )
        ]

    def _transfer_legacy(self, event: Event, time: float | None) -> list[AnyFact]:
        # Asterisk 11 SIP REFER: Uniqueid is the transferer, TargetUniqueid the transferee.
        transferer = event.get("Uniqueid")
        if not transferer:
            return []
        return [
            TransferDone(
                time=time,
                transferer_id=transferer,
                other_transferer_id=None,
                target=_value(event, "TransferExten"),
                target_id=None,
                attended=(event.get("TransferType") or "").lower() == "attended",
            )
        ]

    def _queue_join(self, event: Event, time: float | None) -> list[AnyFact]:
        uid, queue = event.get("Uniqueid"), event.get("Queue")
        return [QueueJoined(time=time, unique_id=uid, queue=queue)] if uid and queue else []

    def _queue_leave(self, event: Event, time: float | None) -> list[AnyFact]:
        uid, queue = event.get("Uniqueid"), event.get("Queue")
        return [QueueLeft(time=time, unique_id=uid, queue=queue)] if uid and queue else []

    def _agentcalled(self, event: Event, time: float | None) -> list[AnyFact]:
        caller, queue = event.get("Uniqueid"), event.get("Queue")
        if not caller or not queue:
            return []
        return [
            QueueMemberCalled(
                time=time,
                caller_id=caller,
                dest_id=_value(event, "DestUniqueid"),
                # 12+: DestChannel; 11: DestinationChannel.
                dest_channel=_value(event, "DestChannel") or _value(event, "DestinationChannel"),
                queue=queue,
            )
        ]

    def _agentconnect(self, event: Event, time: float | None) -> list[AnyFact]:
        """The member who answered: the queue name reaches its leg even without AgentCalled
        (1.8/11 with ``eventwhencalled`` off for ringing, or events missed)."""
        caller, queue = event.get("Uniqueid"), event.get("Queue")
        if not caller or not queue:
            return []
        if event.get("DestUniqueid"):  # 12+: the member is Dest*
            dest_id, dest_channel = event.get("DestUniqueid"), _value(event, "DestChannel")
        else:  # 1.8/11: Channel is the member, BridgedChannel its Uniqueid
            dest_id, dest_channel = _value(event, "BridgedChannel"), _value(event, "Channel")
        return [
            QueueMemberCalled(
                time=time, caller_id=caller, dest_id=dest_id, dest_channel=dest_channel,
                queue=queue,
            )
        ]  # fmt: skip

    def _music(self, event: Event, time: float | None) -> list[AnyFact]:
        # 1.8/11: MusicOnHold with State: Start/Stop and UniqueID; 12+: two event names.
        uid = event.get("Uniqueid") or event.get("UniqueID")
        if not uid:
            return []
        name = event.name.lower()
        playing = name.endswith("start") or (
            name == "musiconhold" and (event.get("State") or "").lower() == "start"
        )
        return [MusicChanged(time=time, unique_id=uid, playing=playing)]

    def _parkedcall(self, event: Event, time: float | None) -> list[AnyFact]:
        # 12+: ParkeeUniqueid, ParkerDialString (PJSIP/101); 11: Uniqueid, From (channel).
        parkee = event.get("ParkeeUniqueid") or event.get("Uniqueid")
        if not parkee:
            return []
        parker = _value(event, "ParkerDialString") or _value(event, "From")
        space = _value(event, "ParkingSpace") or _value(event, "Exten")
        return [Parked(time=time, parkee_id=parkee, parker_channel=parker, space=space)]

    def _unparkedcall(self, event: Event, time: float | None) -> list[AnyFact]:
        parkee = event.get("ParkeeUniqueid") or event.get("Uniqueid")
        if not parkee:
            return []
        return [
            Unparked(
                time=time,
                parkee_id=parkee,
                retriever_id=_value(event, "RetrieverUniqueid"),
                retriever_channel=_value(event, "RetrieverChannel") or _value(event, "From"),
            )
        ]

    def _paused(self, event: Event, time: float | None) -> list[AnyFact]:
        # 12+: Interface + PausedReason; 11: Location + Reason (when given).
        interface = event.get("Interface") or event.get("Location")
        if not interface:
            return []
        return [
            MemberPaused(
                time=time,
                interface=interface,
                paused=(event.get("Paused") or "0").strip() == "1",
                reason=_value(event, "PausedReason") or _value(event, "Reason"),
                queue=_value(event, "Queue"),
            )
        ]

    # -- lists (resync after reconnect) -----------------------------------------------------

    def _listed(self, event: Event, time: float | None) -> list[AnyFact]:
        uid = _value(event, "Uniqueid")
        channel = event.get("Channel")
        if not uid or not channel:
            return []
        return [
            ChannelListed(
                time=time,
                unique_id=uid,
                channel=channel,
                linked_id=None if self.is_legacy else _value(event, "Linkedid"),
                state=_state(event),
                caller=_party(event),
                connected=_connected(event),
                # 12+: BridgeId; 11: BridgedUniqueID (the peer, no bridge object).
                bridge_id=_value(event, "BridgeId"),
                bridged_id=_value(event, "BridgedUniqueID"),
                started_at=_started(event, time),
            )
        ]

    def _list_complete(self, event: Event, time: float | None) -> list[AnyFact]:
        return [ChannelListCompleted(time=time)]
