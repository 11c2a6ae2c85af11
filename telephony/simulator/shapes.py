"""What the simulated PBX says when something happens, as one interface per dialect.

Each method is one moment of a call (a dial begins, a callee answers, a call is hung up)
and returns the events Asterisk sends for it, in its order, updating the channels' state
as it goes. ``modern.py`` speaks Asterisk 12-22, ``legacy.py`` Asterisk 1.8/11; the
shapes follow the byte-exact captures in ``tests/fixtures/ami``. Knows no sockets.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Sequence

from telephony.ami import Event, Field

from .channels import Bridge, Call, Channel, Consult, Dial, OriginateRequest, Party

#: The ``Privilege`` of call and queue events (both dialects).
CALL = ("Privilege", "call,all")
AGENT = ("Privilege", "agent,all")

#: The lab's ``features.conf`` ``atxfer`` code, which AMI ``Atxfer`` queues as DTMF on the
#: transferer (README fact 11 for 22, fact 7 for 11).
FEATURE_ATXFER = "*2"
#: ``Cause-txt`` of the hangup causes the simulator uses (Q.850).
CAUSES = {
    0: "Unknown",
    16: "Normal Clearing",
    17: "User busy",
    19: "No user responding",
    26: "Answered elsewhere",
}


def event(name: str, *fields: Field) -> Event:
    return Event.from_fields((("Event", name), *fields))


def cause_fields(cause: int) -> tuple[Field, Field]:
    """``Cause`` and its ``Cause-txt``, as ``Hangup`` ends in both dialects."""
    return ("Cause", str(cause)), ("Cause-txt", CAUSES.get(cause, "Unknown"))


def seconds_since(moment: float | None) -> str:
    """Whole seconds from a ``time.monotonic()`` reading to now ("0" when there is none)."""
    return str(round(time.monotonic() - (moment or time.monotonic())))


def age(channel: Channel) -> int:
    """Whole seconds since ``channel`` was created (``Seconds``, ``Duration``)."""
    return int(time.monotonic() - channel.created)


def hms(seconds: int) -> str:
    """``Duration`` as ``CoreShowChannel`` prints it: ``HH:MM:SS``."""
    return f"{seconds // 3600:02}:{seconds // 60 % 60:02}:{seconds % 60:02}"


def shown(party_value: str | None, placeholder: str = "<unknown>") -> str:
    """A caller-ID value as Asterisk prints it: a placeholder where it has none."""
    return placeholder if party_value is None else party_value


def caller_id(text: str) -> Party:
    """``"Name" <number>`` (Originate's ``CallerID``) -> Party; a bare number works too."""
    text = text.strip()
    if "<" in text and text.endswith(">"):
        name, _, number = text[:-1].partition("<")
        return Party(number.strip() or None, name.strip().strip('"') or None)
    return Party(text or None, None)


class ConsultShapes(abc.ABC):
    """The events of an attended transfer (AMI ``Atxfer``) in one dialect."""

    @abc.abstractmethod
    def began(self, consult: Consult) -> list[Event]:
        """The feature digits arrive, the transferee waits on hold and the Local pair dials
        the target (``consult.dial``)."""

    @abc.abstractmethod
    def answered(self, consult: Consult) -> list[Event]:
        """After the target's answer: what the transferer's side adds."""

    @abc.abstractmethod
    def completed(
        self, call: Call, consult: Consult, *, by_ami: bool, new_unique_id: str
    ) -> list[Event]:
        """The transferer hangs up: the transferee joins the target side, the transferer goes
        (``new_unique_id``: the channel a masquerade makes, where the dialect does one)."""

    @abc.abstractmethod
    def failed(self, consult: Consult) -> list[Event]:
        """The target side is gone (no answer, busy, hung up): the Local ``;1`` half goes and
        the transferer is back with the transferee."""


class Shapes(abc.ABC):
    """The events of each call moment in one dialect."""

    #: The attended transfer's moments (``modern_consult.py``, ``legacy_consult.py``).
    consult: ConsultShapes

    #: The greeting line: 22 says ``Asterisk Call Manager/11.0.0``, 11 says ``.../1.3``.
    greeting: str
    #: The ``Dialect`` value the call model is pinned to for this shape set.
    dialect: str
    #: ``OriginateResponse``'s ``Uniqueid`` when the Originate failed (there is no channel).
    failed_unique_id: str

    @abc.abstractmethod
    def call_headers(self) -> tuple[Field, ...]:
        """The headers every call event starts with after ``Event`` (``Privilege``...)."""

    # -- channels appear -------------------------------------------------------------------

    @abc.abstractmethod
    def arrived(self, channel: Channel) -> list[Event]:
        """A trunk channel rings in (state Ring)."""

    @abc.abstractmethod
    def answered_by_dialplan(self, channel: Channel) -> list[Event]:
        """``Answer()`` in the dialplan (a queue answers its caller first)."""

    @abc.abstractmethod
    def originated(self, channel: Channel, account: str, shown_as: Party) -> list[Event]:
        """Originate's first leg is created and takes the CallerID the action gave."""

    @abc.abstractmethod
    def caller_changed(self, channel: Channel, caller: Party) -> list[Event]:
        """``NewCallerid``: the outbound CLI is applied once the dialplan runs."""

    # -- dialling --------------------------------------------------------------------------

    @abc.abstractmethod
    def dial_began(self, dial: Dial, queue: str | None = None) -> list[Event]:
        """The callee channel is created and dialled."""

    @abc.abstractmethod
    def dial_ringing(self, dial: Dial) -> list[Event]:
        """The callee's phone rings (SIP 180)."""

    @abc.abstractmethod
    def dial_answered(self, dial: Dial) -> list[Event]:
        """The callee answers (and the caller is answered if it was not yet)."""

    @abc.abstractmethod
    def dial_failed(
        self, dial: Dial, status: str, cause: int, *, caller_cause: int | None
    ) -> list[Event]:
        """The dial ends unanswered; ``caller_cause`` also hangs the caller up."""

    @abc.abstractmethod
    def member_lost(self, dial: Dial) -> list[Event]:
        """A queue member that was still ringing when another one answered."""

    @abc.abstractmethod
    def bridged(self, bridge: Bridge, callee: Channel, caller: Channel) -> list[Event]:
        """The two parties are connected."""

    # -- queues ----------------------------------------------------------------------------

    @abc.abstractmethod
    def queue_joined(self, channel: Channel, queue: str) -> list[Event]:
        """The caller waits in ``queue`` (with music on hold)."""

    @abc.abstractmethod
    def queue_connected(self, call: Call, caller: Channel, member: Channel) -> list[Event]:
        """A member answered: the caller leaves the queue and is connected."""

    @abc.abstractmethod
    def queue_left(self, channel: Channel, queue: str) -> list[Event]:
        """The caller leaves the queue unanswered (abandon)."""

    # -- during the call -------------------------------------------------------------------

    @abc.abstractmethod
    def hold(self, channel: Channel, peer: Channel | None, on_hold: bool) -> list[Event]:
        """``channel``'s phone holds (re-INVITE sendonly) or resumes."""

    @abc.abstractmethod
    def transferred_away(
        self,
        call: Call,
        transferer: Channel,
        transferee: Channel,
        exten: str,
        context: str,
        *,
        blind: bool,
    ) -> list[Event]:
        """``transferer`` leaves; ``transferee`` goes to ``exten@context`` (to be dialled)."""

    # -- the end ---------------------------------------------------------------------------

    @abc.abstractmethod
    def hung_up_bridged(
        self, call: Call, by: Channel, *, requested_by_ami: bool = False
    ) -> list[Event]:
        """``by`` hangs up a connected call: every channel of its bridge goes."""

    @abc.abstractmethod
    def hung_up(self, channel: Channel, cause: int, *, soft: bool = False) -> list[Event]:
        """One channel outside any bridge hangs up."""

    @abc.abstractmethod
    def dial_cancelled(self, dial: Dial) -> list[Event]:
        """The caller gave up while ``dial`` rang: the callee leg is cancelled."""

    # -- actions' answers ------------------------------------------------------------------

    def originate_response(
        self, request: OriginateRequest, channel: Channel | None, reason: int
    ) -> Event:
        """``OriginateResponse``: Success/Reason 4 after the answer, else Failure."""
        answered = reason == 4 and channel is not None
        return event(
            "OriginateResponse",
            *self.call_headers(),
            *self.tagged(request.action_id),
            ("Response", "Success" if answered else "Failure"),
            ("Channel", channel.name if channel is not None and answered else request.device),
            ("Context", request.context),
            ("Exten", request.exten),
            ("Reason", str(reason)),
            (
                "Uniqueid",
                channel.unique_id if channel is not None and answered else self.failed_unique_id,
            ),
            ("CallerIDNum", shown(request.shown_as.number if answered else None)),
            ("CallerIDName", shown(request.shown_as.name if answered else None)),
        )

    @abc.abstractmethod
    def listed_channel(self, channel: Channel, action_id: str | None) -> Event:
        """A ``CoreShowChannel`` item."""

    @abc.abstractmethod
    def channels_listed(self, count: int, action_id: str | None) -> Event:
        """``CoreShowChannelsComplete``."""

    @abc.abstractmethod
    def status_item(self, channel: Channel, action_id: str | None) -> Event:
        """A ``Status`` item."""

    @abc.abstractmethod
    def status_complete(self, count: int, action_id: str | None) -> Event:
        """``StatusComplete``."""

    # -- shared helpers --------------------------------------------------------------------

    @staticmethod
    def peer_of(channel: Channel) -> Channel | None:
        """The other channel of ``channel``'s bridge, if any."""
        if channel.bridge is None:
            return None
        others = [c for c in channel.bridge.channels if c is not channel]
        return others[0] if others else None

    def queue_abandoned(self, channel: Channel, queue: str, waited: int) -> list[Event]:
        """The caller hangs up while waiting (before the queue's ``QueueCallerLeave``)."""
        return [
            event(
                "QueueCallerAbandon",
                ("Privilege", "agent,all"),
                ("Channel", channel.name),
                ("Uniqueid", channel.unique_id),
                ("Queue", queue),
                ("Position", "1"),
                ("OriginalPosition", "1"),
                ("HoldTime", str(waited)),
            )
        ]

    @staticmethod
    def tagged(action_id: str | None) -> Sequence[Field]:
        return (("ActionID", action_id),) if action_id is not None else ()
