"""The queues as a supervisor sees them: who waits (and since when), which members are paused.

Pure, like the rest of the call model: AMI events in, a changed flag out; no clock of its
own (the caller passes the receive time), no I/O. It is the one place besides
``dialects.py`` that spells AMI header names, for the queue events only (the call model's
facts do not carry a member's pause or a caller's position):

- a caller waits: ``QueueCallerJoin`` (12+), ``Join`` (11); stops waiting:
  ``QueueCallerLeave``/``Leave`` (answered or gone) and ``QueueCallerAbandon``;
- a member's pause: ``QueueMemberPause`` with ``Interface`` and ``PausedReason`` (12+),
  ``QueueMemberPaused`` with ``Location`` and ``Reason`` (11); its device state:
  ``QueueMemberStatus``, ``QueueMemberAdded``, ``QueueMemberRemoved`` (``Interface`` on
  12+, ``Location`` on 11);
- the list after login (``QueueStatus``, both): ``QueueParams``, ``QueueMember``
  (``Location``), ``QueueEntry`` (``Wait`` seconds so far), ``QueueStatusComplete``.

A ``QueueStatus`` list replaces the whole board at its ``QueueStatusComplete`` (the worker
asks for one after every login), so what happened while no worker listened is not kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..ami.packets import Event

#: The events this board reads (lower case); everything else is ignored cheaply.
QUEUE_EVENTS = frozenset(
    {
        "queuecallerjoin",
        "join",
        "queuecallerleave",
        "leave",
        "queuecallerabandon",
        "queuememberpause",
        "queuememberpaused",
        "queuememberstatus",
        "queuememberadded",
        "queuememberremoved",
        "queueparams",
        "queuemember",
        "queueentry",
        "queuestatuscomplete",
    }
)


@dataclass(slots=True)
class Caller:
    """One caller waiting in a queue."""

    unique_id: str
    number: str | None
    name: str | None
    position: int
    #: When the caller started waiting (the PBX's time when it says, else the receive time).
    joined_at: float


@dataclass(slots=True)
class Member:
    """One member (an interface such as ``PJSIP/101``) of a queue."""

    interface: str
    name: str
    paused: bool = False
    reason: str = ""
    #: Asterisk's device state number (1 not in use, 2 in use, 6 ringing, 5 unavailable...).
    status: int = 0
    in_call: bool = False


@dataclass(slots=True)
class Queue:
    name: str
    callers: dict[str, Caller] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)


def _party(value: str | None) -> str | None:
    """``<unknown>`` (12+) and ``unknown`` (11) are Asterisk's way of saying nothing."""
    if value is None or value.strip() in {"", "<unknown>", "unknown"}:
        return None
    return value.strip()


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        return default


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "yes", "true"}


def _time(event: Event, now: float) -> float:
    stamp = event.timestamp
    if stamp:
        try:
            return float(stamp)
        except ValueError:
            pass
    return now


class QueueBoard:
    """The queues of one connector, kept from their AMI events."""

    def __init__(self) -> None:
        self.queues: dict[str, Queue] = {}
        self._listing: dict[str, Queue] | None = None
        self._listing_id: str | None = None

    def expect_listing(self, action_id: str) -> None:
        """A ``QueueStatus`` with this ActionID was sent: its items rebuild the board."""
        self._listing_id = action_id
        self._listing = {}

    def apply(self, event: Event, now: float) -> bool:
        """Apply one event; whether the board changed (a listing changes it at its end)."""
        kind = event.name.lower()
        if kind not in QUEUE_EVENTS:
            return False
        if kind in {"queueparams", "queuemember", "queueentry", "queuestatuscomplete"}:
            return self._listed(kind, event, now)
        name = event.get("Queue")
        if not name:
            return False
        queue = self.queues.setdefault(name, Queue(name))
        if kind in {"queuecallerjoin", "join"}:
            return self._joined(queue, event, _time(event, now))
        if kind in {"queuecallerleave", "leave", "queuecallerabandon"}:
            return queue.callers.pop(event.get("Uniqueid") or "", None) is not None
        if kind == "queuememberremoved":
            return queue.members.pop(_interface(event), None) is not None
        return _member_changed(queue, event, kind)

    def _joined(self, queue: Queue, event: Event, at: float) -> bool:
        unique_id = event.get("Uniqueid")
        if not unique_id:
            return False
        queue.callers[unique_id] = Caller(
            unique_id=unique_id,
            number=_party(event.get("CallerIDNum")),
            name=_party(event.get("CallerIDName")),
            position=_int(event.get("Position"), len(queue.callers) + 1),
            joined_at=at,
        )
        return True

    def _listed(self, kind: str, event: Event, now: float) -> bool:
        if self._listing is None or event.action_id != self._listing_id:
            return False  # another tool's QueueStatus: its items restate nothing new to us
        if kind == "queuestatuscomplete":
            self.queues, self._listing, self._listing_id = self._listing, None, None
            return True
        name = event.get("Queue")
        if not name:
            return False
        queue = self._listing.setdefault(name, Queue(name))
        if kind == "queuemember":
            _member_changed(queue, event, kind)
        elif kind == "queueentry":
            self._joined(queue, event, now - _int(event.get("Wait")))
        return False

    def wire(self) -> list[dict[str, Any]]:
        """The board as the supervisor page gets it (``docs/websocket-api.md``)."""
        return [
            {
                "queue": queue.name,
                "callers": [
                    {
                        "unique_id": caller.unique_id,
                        "number": caller.number,
                        "name": caller.name,
                        "position": caller.position,
                        "joined_at": caller.joined_at,
                    }
                    for caller in sorted(queue.callers.values(), key=lambda c: c.joined_at)
                ],
                "members": [
                    {
                        "interface": member.interface,
                        "name": member.name,
                        "paused": member.paused,
                        "reason": member.reason,
                        "status": member.status,
                        "in_call": member.in_call,
                    }
                    for member in sorted(queue.members.values(), key=lambda m: m.interface)
                ],
            }
            for queue in sorted(self.queues.values(), key=lambda q: q.name)
        ]


def _interface(event: Event) -> str:
    # 12+: Interface; 11 and every QueueMember list item: Location.
    return event.get("Interface") or event.get("Location") or ""


def _member_changed(queue: Queue, event: Event, kind: str) -> bool:
    interface = _interface(event)
    if not interface:
        return False
    member = queue.members.get(interface)
    if member is None:
        member = queue.members[interface] = Member(interface, interface)
    before = (member.name, member.paused, member.reason, member.status, member.in_call)
    member.name = event.get("MemberName") or event.get("Name") or member.name
    if "Paused" in event:
        member.paused = _flag(event.get("Paused"))
        reason = event.get("PausedReason")
        if reason is None:
            reason = event.get("Reason")
        if reason is not None or not member.paused:
            member.reason = (reason or "").strip() if member.paused else ""
    if "Status" in event:
        member.status = _int(event.get("Status"))
    in_call = event.get("InCall") or event.get("IsInCall")
    if in_call is not None:
        member.in_call = _flag(in_call)
    return kind == "queuememberadded" or before != (
        member.name,
        member.paused,
        member.reason,
        member.status,
        member.in_call,
    )
