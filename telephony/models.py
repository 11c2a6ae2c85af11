"""Database rows: PBX connectors, extensions, contacts and the call history.

Per-PBX configuration is data here, not settings; the worker turns a ``Connector`` row into
a frozen config so ``ami/`` and ``callmodel/`` never see the ORM.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .callmodel.events import CallState
from .callmodel.events import Direction as CallDirection
from .callmodel.events import Disposition as CallDisposition
from .config import DEFAULT_DIAL_PATTERN
from .phones import normalize_number

StrOrPromise = str | Promise
E = TypeVar("E", bound=enum.StrEnum)


def _choices(
    name: str, values: type[E], labels: Mapping[E, StrOrPromise]
) -> type[models.TextChoices]:
    """Django choices for a call-model enum: its values, with a translated label each.

    A value the call model gains without a label here fails at import, not in a form.
    """
    if set(labels) != set(values):
        raise TypeError(f"{name}: labels for {sorted(labels)} but values {sorted(values)}")
    members = [(member.name, (member.value, labels[member])) for member in values]
    return cast(type[models.TextChoices], models.TextChoices(name, members))  # type: ignore[call-overload]


def _validate_regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as error:
        raise ValidationError(
            _("Not a regular expression: %(error)s"), params={"error": error}
        ) from error


def _validate_template(value: str) -> None:
    if "{ext}" not in value:
        raise ValidationError(_("The template must contain {ext}, e.g. PJSIP/{ext}."))


def _validate_tms_key(value: str) -> None:
    printable = value.isascii() and value.isprintable() and " " not in value
    if value and (len(value) < 20 or not printable or ";" in value):
        raise ValidationError(_("At least 20 printable ASCII characters, no spaces or ';'."))


class Connector(models.Model):
    """One Asterisk PBX reached over AMI; exactly one worker owns its connection."""

    class Dialect(models.TextChoices):
        AUTO = "auto", _("Detect from the stream")
        MODERN = "12", _("Asterisk 12 and newer")
        LEGACY = "11", _("Asterisk 1.8 / 11")

    class HoldMethod(models.TextChoices):
        PARK = "park", _("Park the other party (music on hold)")
        PHONE_NOTIFY = "phone-notify", _("Ask the phone to hold (PJSIPNotify)")
        NONE = "none", _("Not available")

    class AnswerMethod(models.TextChoices):
        PHONE_NOTIFY = "phone-notify", _("Phone auto-answer notify")
        NONE = "none", _("Not available")

    name = models.CharField(_("name"), max_length=64, unique=True)
    host = models.CharField(_("host"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=5038)
    username = models.CharField(_("AMI username"), max_length=64)
    secret = models.CharField(_("AMI secret"), max_length=128)
    use_md5 = models.BooleanField(_("MD5 challenge login"), default=False)
    dialect = models.CharField(_("event dialect"), max_length=8, choices=Dialect, default="auto")
    fallback_encoding = models.CharField(
        _("fallback encoding"),
        max_length=32,
        blank=True,
        help_text=_("For caller names that are not UTF-8, e.g. cp1251."),
    )
    originate_context = models.CharField(
        _("originate context"), max_length=80, default="from-internal"
    )
    outbound_dial_pattern = models.CharField(
        _("outbound dial pattern"),
        max_length=200,
        default=DEFAULT_DIAL_PATTERN,
        validators=[_validate_regex],
        help_text=_(
            "Numbers operators may dial or transfer to must match this (the connector's own "
            "extensions always may). The default refuses feature codes, short and premium numbers."
        ),
    )
    channel_template = models.CharField(
        _("channel template"),
        max_length=80,
        default="PJSIP/{ext}",
        validators=[_validate_template],
    )
    hold_method = models.CharField(
        _("hold method"), max_length=16, choices=HoldMethod, default=HoldMethod.PARK
    )
    answer_method = models.CharField(
        _("answer method"), max_length=16, choices=AnswerMethod, default=AnswerMethod.NONE
    )
    parking_lot = models.CharField(_("parking lot"), max_length=80, blank=True)
    # A link that stays open but carries nothing (PBX host gone, NAT state dropped) is seen
    # only by an unanswered Ping: it is noticed within interval + timeout (10 s by default).
    ping_interval = models.FloatField(
        _("ping interval (s)"),
        default=5.0,
        validators=[MinValueValidator(0.5)],
        help_text=_("Seconds between keep-alive Pings on a quiet AMI link."),
    )
    ping_timeout = models.FloatField(
        _("ping timeout (s)"),
        default=5.0,
        validators=[MinValueValidator(0.5)],
        help_text=_("Seconds without a Pong before the link counts as dead and reconnects."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    # Creatio TMS drop-in (docs/adr/0004-tms-authentication.md): off unless an admin allows it.
    tms_enabled = models.BooleanField(
        _("Creatio TMS endpoint"),
        default=False,
        help_text=_("Let Creatio's own phone panel connect to this PBX's lines over TMS."),
    )
    tms_origins = models.TextField(
        _("allowed Creatio origins"),
        blank=True,
        help_text=_("One per line, e.g. https://mycompany.creatio.com; none: no TMS client."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("PBX connector")

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        # The secret never reaches a log line or a traceback.
        return f"<Connector {self.name!r} {self.username}@{self.host}:{self.port} secret=***>"


class ConnectorStatus(models.Model):
    """Live state of a connector's AMI session, written by the worker that owns it."""

    connector = models.OneToOneField(Connector, on_delete=models.CASCADE, related_name="status")
    connected = models.BooleanField(default=False)
    since = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    worker_host = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.connector}: {'connected' if self.connected else 'disconnected'}"


class WorkerLease(models.Model):
    """Which worker may read a connector's PBX and write its history (ADR 0003).

    ``token`` grows by one at every takeover; every history transaction checks it, so a
    deposed leader's writes are refused even if it still believes it leads.
    """

    connector = models.OneToOneField(
        Connector, on_delete=models.CASCADE, primary_key=True, related_name="lease"
    )
    holder = models.CharField(max_length=255, blank=True)
    token = models.BigIntegerField(default=0)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.connector_id}: {self.holder or 'free'} #{self.token}"


class Extension(models.Model):
    """An operator's phone line on a connector: number, device and who answers it."""

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="extensions")
    number = models.CharField(_("number"), max_length=32)
    device = models.CharField(
        _("device"),
        max_length=120,
        blank=True,
        help_text=_("e.g. PJSIP/101 or SIP/101; empty: built from the connector's template."),
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="extensions",
    )
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    tms_key = models.CharField(
        _("TMS key"),
        max_length=128,
        blank=True,
        validators=[_validate_tms_key],
        help_text=_(
            "The credential Creatio's panel sends for this line (tmsKey in the user's "
            "connection parameters); empty: no TMS connection for this line."
        ),
    )

    class Meta:
        ordering = ["connector", "number"]
        constraints = [
            models.UniqueConstraint(fields=["connector", "number"], name="unique_extension")
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.display_name}".strip()

    @property
    def device_name(self) -> str:
        """The channel device (``PJSIP/101``) this line's calls appear on."""
        return self.device or self.connector.channel_template.replace("{ext}", self.number)


class Contact(models.Model):
    """A phone-book entry used to name callers."""

    name = models.CharField(_("name"), max_length=200)
    company = models.CharField(_("company"), max_length=200, blank=True)
    phones = models.CharField(
        _("phone numbers"), max_length=500, help_text=_("Comma-separated, any formatting.")
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.company})" if self.company else self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        digits = settings.PHONE_MATCH_DIGITS
        raw_numbers = re.split(r"[,;\n]", self.phones)
        numbers = {normalize_number(raw, digits) for raw in raw_numbers} - {""}
        with transaction.atomic():
            super().save(*args, **kwargs)
            self.numbers.exclude(normalized__in=numbers).delete()
            existing = set(self.numbers.values_list("normalized", flat=True))
            ContactPhone.objects.bulk_create(
                ContactPhone(contact=self, normalized=number) for number in numbers - existing
            )


class ContactPhone(models.Model):
    """A contact's number in matching form (see ``telephony.phones``)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="numbers")
    normalized = models.CharField(max_length=32, db_index=True)

    def __str__(self) -> str:
        return self.normalized


class CallRecord(models.Model):
    """One call as one line saw it: the history row operators and supervisors search."""

    # The values are the call model's enums; only the translated labels are said here.
    Direction = _choices(
        "Direction",
        CallDirection,
        {
            CallDirection.INCOMING: _("incoming"),
            CallDirection.OUTGOING: _("outgoing"),
            CallDirection.INTERNAL: _("internal"),
        },
    )
    Disposition = _choices(
        "Disposition",
        CallDisposition,
        {
            CallDisposition.ANSWERED: _("answered"),
            CallDisposition.MISSED: _("missed"),
            CallDisposition.BUSY: _("busy"),
            CallDisposition.FAILED: _("failed"),
            CallDisposition.CANCELLED: _("cancelled"),
            CallDisposition.TRANSFERRED: _("transferred"),
            CallDisposition.ANSWERED_ELSEWHERE: _("answered elsewhere"),
        },
    )

    connector = models.ForeignKey(
        Connector, on_delete=models.SET_NULL, null=True, related_name="calls"
    )
    call_id = models.CharField(max_length=120)
    # The extension number as text, so history survives extension changes.
    line = models.CharField(_("line"), max_length=32, db_index=True)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction)
    state = models.CharField(max_length=12, default=CallState.RINGING.value)
    caller_number = models.CharField(_("caller number"), max_length=64, blank=True)
    caller_name = models.CharField(_("caller name"), max_length=200, blank=True)
    callee_number = models.CharField(_("callee number"), max_length=64, blank=True)
    callee_name = models.CharField(_("callee name"), max_length=200, blank=True)
    queue = models.CharField(_("queue"), max_length=80, blank=True)
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True)
    started_at = models.DateTimeField(_("started"), db_index=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    talk_seconds = models.PositiveIntegerField(_("talk seconds"), default=0)
    hold_seconds = models.PositiveIntegerField(_("hold seconds"), default=0)
    hold_count = models.PositiveIntegerField(_("holds"), default=0)
    # Some of its times fell in a gap (no worker reading: a reconnect, a takeover) and the PBX
    # did not say them: they are the worker's best estimate (issue #10, docs/call-events.md).
    times_estimated = models.BooleanField(_("times estimated"), default=False)
    disposition = models.CharField(_("disposition"), max_length=20, choices=Disposition, blank=True)
    hangup_cause = models.IntegerField(_("hangup cause"), null=True, blank=True)
    transferred_to = models.CharField(_("transferred to"), max_length=64, blank=True)
    # The latest call event's wire form: the live snapshot a panel gets on (re)connect.
    last_event = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "call_id", "line"], name="one_record_per_call_and_line"
            )
        ]
        indexes = [models.Index(fields=["connector", "line", "ended_at"], name="live_calls")]
        permissions = [("supervise", _("Can see and act on every line of a connector"))]

    def __str__(self) -> str:
        return f"{self.line} {self.direction} {self.caller_number}→{self.callee_number}"

    @property
    def is_live(self) -> bool:
        return self.ended_at is None


class CallEvent(models.Model):
    """One call event of a record, in order, with the JSON the panel received.

    ``seq`` is the line's sequence number (it survives worker restarts): a panel that
    reconnects with its last number is sent the rows after it.
    """

    record = models.ForeignKey(CallRecord, on_delete=models.CASCADE, related_name="events")
    connector = models.ForeignKey(Connector, on_delete=models.SET_NULL, null=True)
    line = models.CharField(max_length=32)
    seq = models.PositiveBigIntegerField()
    name = models.CharField(max_length=40)
    code = models.PositiveSmallIntegerField(null=True)
    occurred_at = models.DateTimeField()
    # What makes an event the same one again: the name for once-per-call events
    # (RingStarted, CommutationStarted, RingFinished...), name@time for repeatable ones.
    dedupe_key = models.CharField(max_length=80)
    payload = models.JSONField()

    class Meta:
        ordering = ["connector", "line", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["connector", "line", "seq"], name="unique_line_seq"),
            # A call event seen twice (a rebuilt tracker, a replay) is stored once.
            models.UniqueConstraint(fields=["record", "dedupe_key"], name="unique_event"),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.seq}"


class OperatorProfile(models.Model):
    """What the server keeps per user for the panel: when they last looked at their missed
    calls (the badge counts the ones after it) and the time zone they read times in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cti_profile"
    )
    missed_seen_at = models.DateTimeField(_("missed calls seen"), null=True, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)

    def __str__(self) -> str:
        return f"profile of {self.user}"


class WrapUpTag(models.Model):
    """A result an operator may give a call after it (``sale``, ``complaint``...); the admin
    keeps the list, an inactive tag stays on old calls but is no longer offered."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    active = models.BooleanField(_("offered to operators"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("wrap-up tag")
        verbose_name_plural = _("wrap-up tags")

    def __str__(self) -> str:
        return self.name


class WrapUp(models.Model):
    """What the operator noted about a call after it: a result tag and free text. Kept apart
    from ``CallRecord``, which only the worker writes."""

    record = models.OneToOneField(CallRecord, on_delete=models.CASCADE, related_name="wrapup")
    tag = models.ForeignKey(
        WrapUpTag, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("result tag")
    )
    note = models.TextField(_("note"), blank=True, max_length=2000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"wrap-up of {self.record_id}"


class LineDnd(models.Model):
    """A line's do-not-disturb as the server knows it: written when the PBX accepted a
    ``SetDnd`` (AstDB ``DND/<line>`` and the queue pause), read by every tab's hello, the
    directory and the supervisor page, so it survives reloads and restarts."""

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="dnd_lines")
    line = models.CharField(_("line"), max_length=32)
    enabled = models.BooleanField(_("do not disturb"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connector", "line"], name="one_dnd_per_line")
        ]

    def __str__(self) -> str:
        return f"{self.line}: {'DND' if self.enabled else 'available'}"
